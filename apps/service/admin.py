"""Field service in the back-office: expert passports (here), service orders and matching results
(apps/service/admin_orders.py).

Who sees and does what:
- platform staff see every organization's experts, service orders and matching results (their
  admin requests run in the audited all-tenants scope). They grant, renew and end memberships
  (payment for memberships is outside the platform for now), publish or hide a profile, and
  cancel a service order for its customer with a reason. They do not edit a profile: that would
  publish a change under the organization's name that it did not make;
- an organization admin sees their organization's experts and the service orders it is a party
  of (as the customer, or as the expert's organization), once the organization has
  `expert_services` switched on (switched off, the pages are hidden). They correct their
  experts' profiles, publish or hide them, and cancel their own orders with a reason.

The code, what it encodes, the counters and the histories are read-only everywhere. Every write
is one service call (apps.service.services).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.core.admin import StatusHistoryInlineMixin
from apps.core.errors import DomainError
from apps.service import (
    admin_orders,  # noqa: F401 - registers the service orders' and matching results' pages
    services,
    vocabulary,
)
from apps.service.admin_common import PartInline, ServiceSwitchedOn, download_link, stream_file
from apps.service.models import ExpertCertification, ExpertPassport, ExpertWorkStatusChange, MembershipLevel
from apps.service.services.experts import EDITABLE_FIELDS, PAID_LEVELS
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    is_platform_staff,
)

MAX_MONTHS = 36


class CertificationInline(PartInline):
    """The expert's certificates, soonest to expire first, each file to download."""

    model = ExpertCertification
    verbose_name = "certification"
    verbose_name_plural = "certifications"
    fields = ["name", "issuer", "number", "issued_on", "expires_on", "download", "is_published"]
    readonly_fields = fields

    @admin.display(description="file")
    def download(self, certification: ExpertCertification) -> str:
        if not certification.file:
            return "-"
        url = reverse("admin:service_expertpassport_certification", args=[certification.expert_id, certification.pk])
        return download_link(url, certification.filename or "certificate")


class WorkStatusHistoryInline(StatusHistoryInlineMixin, PartInline):
    model = ExpertWorkStatusChange
    verbose_name = "work status change"
    verbose_name_plural = "work status history"


class MembershipForm(forms.Form):
    level = forms.ChoiceField(
        choices=[(level.value, level.label) for level in PAID_LEVELS],
        initial=MembershipLevel.GOLD,
        help_text="SILVER, GOLD or DIAMOND: each lets the expert go RUSHING.",
    )
    months = forms.IntegerField(
        min_value=1,
        max_value=MAX_MONTHS,
        initial=12,
        help_text=(
            "How long. A membership still running is renewed from its current end; an expired one (or none) starts now."
        ),
    )


def membership_end(expert: ExpertPassport, *, months: int, now: datetime) -> datetime:
    """The end of a membership granted or renewed now for `months`: counted from the current end
    while the paid membership still runs (a renewal adds to it), else from now."""
    start = now
    if services.membership_is_active(expert, now):
        start = expert.membership_expires_at
    return start + relativedelta(months=months)


def membership_shown(expert: ExpertPassport) -> str:
    if expert.membership_level == MembershipLevel.FREE or expert.membership_expires_at is None:
        return "FREE"
    state = "until" if services.membership_is_active(expert) else "expired"
    return f"{expert.membership_level} {state} {timezone.localtime(expert.membership_expires_at):%Y-%m-%d}"


@admin.register(ExpertPassport)
class ExpertPassportAdmin(ServiceSwitchedOn, ServiceErrorsAsMessages, OrganizationScopedAdmin):
    # An organization admin runs their own experts, not the published catalogue of everyone's.
    organization_lookup = "organization_id"
    org_admin_actions = frozenset({"view", "change"})
    list_display = [
        "code",
        "display_name",
        "owner",
        "expert_type",
        "skills_shown",
        "work_status",
        "membership_level",
        "membership_expires_at",
        "rating_average",
        "completed_orders",
        "is_published",
    ]
    list_filter = ["work_status", "membership_level", "expert_type", "is_published", "industry_code"]
    search_fields = ["code", "display_name"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = ["grant_membership", "end_membership", "publish", "unpublish"]
    inlines = [CertificationInline, WorkStatusHistoryInline]
    fieldsets = [
        (
            "Passport",
            {
                "fields": [
                    "code",
                    ("expert_type", "industry_code", "skill_code", "year_month", "nationality", "sequence", "checksum"),
                    ("person", "owner"),
                ]
            },
        ),
        (
            "Profile",
            {
                "fields": [
                    "display_name",
                    ("professional_field", "years_experience"),
                    "headline",
                    "skills",
                    "skill_names",
                    "services_offered",
                    "languages",
                    "is_published",
                ]
            },
        ),
        ("Service area", {"fields": ["base_location", ("latitude", "longitude"), "service_radius_km"]}),
        (
            "Work and membership",
            {"fields": [("work_status", "work_status_changed_at"), ("membership_level", "membership_expires_at")]},
        ),
        ("Record", {"fields": [("rating_average", "rating_count"), "completed_orders", ("created_at", "updated_at")]}),
    ]
    readonly_fields = [
        "code",
        "expert_type",
        "industry_code",
        "skill_code",
        "year_month",
        "nationality",
        "sequence",
        "checksum",
        "person",
        "owner",
        "skill_names",
        "work_status",
        "work_status_changed_at",
        "membership_level",
        "membership_expires_at",
        "rating_average",
        "rating_count",
        "completed_orders",
        "created_at",
        "updated_at",
    ]

    def get_list_display(self, request):
        # An organization admin's experts are all their own: no owner column.
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "owner"]

    def get_list_select_related(self, request):
        return ["organization"] if is_platform_staff(request) else []

    @admin.display(description="organization", ordering="organization__name")
    def owner(self, expert: ExpertPassport) -> str:
        return expert.organization.name

    @admin.display(description="person")
    def person(self, expert: ExpertPassport) -> str:
        return str(expert.user)

    @admin.display(description="skills")
    def skills_shown(self, expert: ExpertPassport) -> str:
        return ", ".join(expert.skills) or "-"

    @admin.display(description="skills in words")
    def skill_names(self, expert: ExpertPassport) -> str:
        return "; ".join(f"{key} {vocabulary.skill_label(key)}" for key in expert.skills) or "-"

    # Staff act for no organization: the profile is the organization's to correct (see the module).

    def has_change_permission(self, request, obj=None):
        return not is_platform_staff(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False  # registered through the API (the code is issued there)

    def has_delete_permission(self, request, obj=None):
        return False  # hidden (unpublished), never deleted: its service records name it

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        services.expert_update(actor=admin_actor(request), expert_id=obj.pk, changes=changes)

    def save_related(self, request, form, formsets, change):
        # The inlines are read-only: the service wrote everything (save_model). What Django's
        # change message reads of each formset is left empty.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- memberships (staff) and publishing ---

    def has_membership_permission(self, request) -> bool:
        return is_platform_staff(request) and self.has_view_permission(request)

    def has_publish_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.action(description="Grant or renew a membership (level and months)", permissions=["membership"])
    def grant_membership(self, request, queryset):
        """Ask for the level and the months, then set each expert's membership through
        `expert_membership_set`, in primary-key order."""
        rows = list(queryset.order_by("pk"))
        confirmed = "apply" in request.POST
        form = MembershipForm(request.POST if confirmed else None)
        if not (confirmed and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": f"Grant or renew the membership of {len(rows)} expert(s)",
                "intro": "A paid membership lets the expert go RUSHING (live offers of urgent work).",
                "opts": self.model._meta,
                "rows": [
                    {"pk": row.pk, "label": str(row), "detail": f" (now {membership_shown(row)})"} for row in rows
                ],
                "form": form,
                "action": "grant_membership",
                "button": "Set the membership",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/service/action_form.html", context)
        level, months = form.cleaned_data["level"], form.cleaned_data["months"]
        now = timezone.now()
        done = self._each(
            request,
            rows,
            lambda row: services.expert_membership_set(
                actor=admin_actor(request, organization_id=row.organization_id),
                expert_id=row.pk,
                level=level,
                expires_at=membership_end(row, months=months, now=now),
            ),
        )
        if done:
            self.message_user(request, f"{done} membership(s) set to {level}.", messages.SUCCESS)
        return None

    @admin.action(description="End the membership (back to FREE; leaves RUSHING)", permissions=["membership"])
    def end_membership(self, request, queryset):
        rows = [row for row in queryset.order_by("pk") if row.membership_level != MembershipLevel.FREE]
        done = self._each(
            request,
            rows,
            lambda row: services.expert_membership_set(
                actor=admin_actor(request, organization_id=row.organization_id),
                expert_id=row.pk,
                level=MembershipLevel.FREE,
                expires_at=None,
            ),
        )
        self.message_user(request, f"{done} membership(s) ended.", messages.SUCCESS)

    @admin.action(description="Publish the selected profiles", permissions=["publish"])
    def publish(self, request, queryset):
        self._published(request, queryset, True)

    @admin.action(description="Hide the selected profiles (unpublish)", permissions=["publish"])
    def unpublish(self, request, queryset):
        self._published(request, queryset, False)

    def _published(self, request, queryset, published: bool) -> None:
        done = self._each(
            request,
            list(queryset.order_by("pk")),
            lambda row: services.expert_update(
                actor=admin_actor(request, organization_id=row.organization_id),
                expert_id=row.pk,
                changes={"is_published": published},
            ),
        )
        self.message_user(request, f"{done} profile(s) {'published' if published else 'hidden'}.", messages.SUCCESS)

    def _each(self, request, rows, call) -> int:
        """One service call per row; a refusal names its expert and leaves the others done."""
        done = 0
        for row in rows:
            try:
                call(row)
            except DomainError as error:
                self.message_user(request, f"{row.code}: {error.message}", messages.ERROR)
            else:
                done += 1
        return done

    # --- the certification files ---

    def get_urls(self):
        return [
            path(
                "<uuid:object_id>/certifications/<uuid:certification_id>/",
                self.admin_site.admin_view(self.certification_view),
                name="service_expertpassport_certification",
            ),
            *super().get_urls(),
        ]

    def certification_view(self, request, object_id: UUID, certification_id: UUID):
        if not self.has_view_permission(request):
            raise PermissionDenied
        expert = self.get_queryset(request).filter(pk=object_id).first()
        if expert is None:
            raise Http404("No such expert.")
        certification = ExpertCertification.objects.filter(pk=certification_id, expert_id=expert.pk).first()
        if certification is None or not certification.file:
            raise Http404("No such file.")
        return stream_file(
            certification.file,
            filename=certification.filename or "certificate",
            content_type=certification.content_type or "application/octet-stream",
        )
