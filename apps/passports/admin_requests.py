"""Takeover requests and service requests in the back-office (apps/passports/admin.py says who
sees and does what)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.core.errors import DomainError
from apps.passports import services
from apps.passports.admin_common import PartInline, PassportsSwitchedOn, stream_file
from apps.passports.models import (
    PassportServiceRequest,
    PassportTakeover,
    ServiceRequestStatus,
    ServiceRequestStatusChange,
    TakeoverStatus,
    TakeoverStatusChange,
)
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    admin_actor,
    admin_organization_id,
    is_platform_staff,
)

# --- Takeovers ----------------------------------------------------------------------------------


class TakeoverStatusFilter(admin.SimpleListFilter):
    """Pending claims unless another status (or all) is chosen: the page is a queue."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*TakeoverStatus.choices, (self.ALL, "All")]

    def chosen(self) -> str:
        value = self.value()
        return value if value in (*TakeoverStatus.values, self.ALL) else TakeoverStatus.PENDING

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.chosen() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        chosen = self.chosen()
        return queryset if chosen == self.ALL else queryset.filter(status=chosen)


class TakeoverDirectionFilter(admin.SimpleListFilter):
    """For an organization admin: claims on their devices, or their own claims."""

    title = "direction"
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        if is_platform_staff(request):
            return []
        return [("incoming", "On our devices"), ("outgoing", "Ours, on others' devices")]

    def queryset(self, request, queryset):
        organization_id = admin_organization_id(request)
        if organization_id is None:
            return queryset
        if self.value() == "incoming":
            return queryset.filter(from_organization_id=organization_id)
        if self.value() == "outgoing":
            return queryset.filter(to_organization_id=organization_id)
        return queryset


class DecisionReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        error_messages={"required": "Say why."},
    )

    def __init__(self, *args, required: bool, help_text: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        self.fields["reason"].help_text = help_text


class TakeoverHistoryInline(StatusHistoryInlineMixin, PartInline):
    model = TakeoverStatusChange


@admin.register(PassportTakeover)
class PassportTakeoverAdmin(PassportsSwitchedOn, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """The queue of claims, oldest first: staff decide for an owner who is gone; an organization
    admin sees their organization's claims both ways and decides those on its devices."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "passport_code",
        "device_name",
        "from_organization_name",
        "to_organization_name",
        "status",
        "created_at",
        "decided_at",
    ]
    list_filter = [TakeoverStatusFilter, TakeoverDirectionFilter]
    search_fields = ["passport_code", "device_name", "to_organization_name", "from_organization_name"]
    ordering = ["created_at", "id"]
    show_full_result_count = False
    actions = ["approve", "reject"]
    inlines = [TakeoverHistoryInline]
    fields = [
        ("passport_code", "device_link"),
        ("from_organization_name", "to_organization_name"),
        ("requested_by", "created_at"),
        "message",
        ("status", "decided_by", "decided_at"),
        "decision_reason",
    ]
    readonly_fields = [
        "passport_code",
        "device_link",
        "from_organization_name",
        "to_organization_name",
        "requested_by",
        "created_at",
        "message",
        "status",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]

    @admin.display(description="device")
    def device_link(self, takeover: PassportTakeover) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:passports_devicepassport_change", args=[takeover.passport_id]),
            takeover.device_name,
        )

    def has_decide_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.action(
        description="Approve the selected takeovers (the device moves to the claimant)", permissions=["decide"]
    )
    def approve(self, request, queryset):
        return self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected takeovers", permissions=["decide"])
    def reject(self, request, queryset):
        return self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool):
        """Ask for the reason, then decide each claim through `takeover_decide` in primary-key
        order (the claims stay locked until the request ends: two people deciding overlapping
        selections lock them in one order). Staff act for no organization; an organization
        admin, as the owner, on claims on their devices only."""
        staff = is_platform_staff(request)
        organization_id = admin_organization_id(request)
        rows = list(queryset.order_by("pk"))
        theirs = [row for row in rows if not staff and row.from_organization_id != organization_id]
        for row in theirs:
            self.message_user(request, f"{row}: only the device's owner decides on this claim.", messages.ERROR)
        rows = [row for row in rows if row not in theirs]
        if not rows:
            return None
        verb = "approve" if approve else "reject"
        reason = self._ask_reason(
            request,
            rows,
            action=verb,
            # An approval by its owner needs no reason; a rejection, or staff deciding instead
            # of the owner, says why (both sides read it).
            required=staff or not approve,
            title=f"{verb.capitalize()} {len(rows)} takeover request(s)",
            button=f"Yes, {verb}",
        )
        if not isinstance(reason, str):
            return reason
        actor = admin_actor(request)
        done = 0
        for row in rows:
            try:
                services.takeover_decide(actor=actor, takeover_id=row.pk, approve=approve, reason=reason)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            outcome = "approved: the devices moved to their claimants" if approve else "rejected"
            self.message_user(request, f"{done} takeover request(s) {outcome}.", messages.SUCCESS)
        return None

    def _ask_reason(self, request, rows, *, action: str, required: bool, title: str, button: str):
        """The reason given on the confirmation page, or that page (again while a required reason is missing)."""
        confirmed = "apply" in request.POST
        help_text = "Both organizations read it with the decision." + ("" if required else " Optional.")
        form = DecisionReasonForm(request.POST if confirmed else None, required=required, help_text=help_text)
        if confirmed and form.is_valid():
            return form.cleaned_data["reason"]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "rows": [
                {"pk": row.pk, "label": str(row), "detail": f" (owner: {row.from_organization_name})"} for row in rows
            ],
            "form": form,
            "action": action,
            "button": button,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)


# --- Service requests ---------------------------------------------------------------------------


class ServiceRequestHistoryInline(StatusHistoryInlineMixin, PartInline):
    model = ServiceRequestStatusChange


@admin.register(PassportServiceRequest)
class PassportServiceRequestAdmin(PassportsSwitchedOn, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Requests for service on the organization's devices, from their public pages or from
    members, read-only; acknowledged or closed through `service_request_change_status`."""

    org_admin_actions = frozenset({"view"})
    list_display = ["number", "passport_code", "source", "contact_name", "status", "owner", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["number", "passport_code", "contact_name", "contact_email"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = ["acknowledge", "close"]
    inlines = [ServiceRequestHistoryInline]
    fields = [
        ("number", "status"),
        ("passport_code", "device_link"),
        ("source", "created_at"),
        ("contact_name", "contact_email", "contact_phone"),
        "requested_by",
        "description",
        "photos",
    ]
    readonly_fields = [
        "number",
        "status",
        "passport_code",
        "device_link",
        "source",
        "created_at",
        "contact_name",
        "contact_email",
        "contact_phone",
        "requested_by",
        "description",
        "photos",
    ]

    def get_list_display(self, request):
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "owner"]

    def get_list_select_related(self, request):
        return ["organization"] if is_platform_staff(request) else []

    @admin.display(description="owner", ordering="organization__name")
    def owner(self, service_request: PassportServiceRequest) -> str:
        return service_request.organization.name

    @admin.display(description="device")
    def device_link(self, service_request: PassportServiceRequest) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:passports_devicepassport_change", args=[service_request.passport_id]),
            "the device's passport",
        )

    @admin.display(description="photos")
    def photos(self, service_request: PassportServiceRequest) -> str:
        attachments = list(service_request.attachments.order_by("created_at", "id"))
        if not attachments:
            return "-"
        return format_html_join(
            ", ",
            '<a class="download" href="{}">{}</a>',
            (
                (
                    reverse("admin:passports_passportservicerequest_photo", args=[service_request.pk, attachment.pk]),
                    attachment.filename,
                )
                for attachment in attachments
            ),
        )

    def has_act_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.action(description="Acknowledge the selected requests", permissions=["act"])
    def acknowledge(self, request, queryset):
        self._move(request, queryset, ServiceRequestStatus.ACKNOWLEDGED, done="{count} request(s) acknowledged.")

    @admin.action(description="Close the selected requests", permissions=["act"])
    def close(self, request, queryset):
        self._move(request, queryset, ServiceRequestStatus.CLOSED, done="{count} request(s) closed.")

    def _move(self, request, queryset, status: str, *, done: str) -> None:
        """One service call per request, in primary-key order, as the page's actor for the
        request's organization; a refusal (a move the table has not) names its request."""
        count = 0
        for row in queryset.order_by("pk"):
            actor = admin_actor(request, organization_id=row.organization_id)
            try:
                services.service_request_change_status(actor=actor, service_request_id=row.pk, status=status)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "<uuid:object_id>/photos/<uuid:attachment_id>/",
                self.admin_site.admin_view(self.photo_view),
                name="passports_passportservicerequest_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request, object_id, attachment_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        service_request = self.get_queryset(request).filter(pk=object_id).first()
        if service_request is None:
            raise Http404("No such service request.")
        attachment = service_request.attachments.filter(pk=attachment_id).first()
        if attachment is None or not attachment.file:
            raise Http404("No such photo.")
        return stream_file(attachment.file, filename=attachment.filename, content_type=attachment.content_type)
