"""Device passports in the back-office: the devices with their lifecycle and files, label
printing, the takeover queue, and the service requests.

Who sees and does what:
- platform staff see every organization's devices, claims and requests (their admin requests run
  in the audited all-tenants scope). They print labels, and decide pending takeovers acting for
  no organization (`Actor.staff`: the owner may be gone), with a reason. They do not edit a
  device's record: that would put the owner's name on an event it did not publish (the
  marketplace's back-office draws the same line);
- an organization admin sees their organization's devices, its takeovers in both directions and
  its service requests, once the organization has `device_passports` switched on (switched off,
  the pages are hidden). They correct their devices' records (`passport_update`), print labels,
  approve or reject claims on their devices as the owner, and acknowledge or close requests.

The code and what it encodes are read-only everywhere; the lifecycle is append-only (a trigger
refuses edits), so its inline has no add, change or delete. Every write is one service call.
"""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, F, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.core.errors import DomainError
from apps.passports import selectors, services
from apps.passports.labels import label_sheet_pdf
from apps.passports.models import (
    DevicePassport,
    PassportAttachment,
    PassportEvent,
    PassportServiceRequest,
    PassportTakeover,
    ServiceRequestStatus,
    ServiceRequestStatusChange,
    TakeoverStatus,
    TakeoverStatusChange,
)
from apps.passports.qr import passport_uri_of, qr_svg
from apps.passports.services.passports import EDITABLE_FIELDS, gtin_14
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    admin_organization_id,
    is_platform_staff,
)
from apps.tenancy.selectors import feature_is_active, organization_names

FEATURE = "device_passports"
# Fields of the device's record an organization admin corrects here (the customer is a person
# of the organization, chosen through the API where the member list is).
RECORD_FIELDS = [name for name in EDITABLE_FIELDS if name != "customer_id"]


def _stream(stored, *, filename: str, content_type: str) -> FileResponse:
    """A private file as a download (the storage is private: the back-office streams it)."""
    response = FileResponse(stored.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response


def _download_link(url: str, attachment: PassportAttachment) -> str:
    return format_html('<a class="download" href="{}">{}</a>', url, attachment.filename)


class PassportsSwitchedOn:
    """Hides a page from an organization admin whose organization has device passports off
    (staff see it whatever the organization's flags)."""

    def _passports_on(self, request) -> bool:
        return is_platform_staff(request) or feature_is_active(
            organization_id=admin_organization_id(request), name=FEATURE
        )

    def has_module_permission(self, request):
        return self._passports_on(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._passports_on(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._passports_on(request) and super().has_change_permission(request, obj)


class PartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on their parent's page, read-only. Whoever may open the page may see them
    (row-level security limits the rows); Django's model permissions would hide them from
    organization admins."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return True


# --- Devices ------------------------------------------------------------------------------------


class LifecycleInline(PartInline):
    """The device's history, oldest first: what happened, when, where and who recorded it.
    Who, by name, only for steps recorded by the organization that owns the device now (staff:
    every step); a previous owner's people are named by their organization."""

    model = PassportEvent
    verbose_name = "lifecycle step"
    verbose_name_plural = "lifecycle"
    fields = ["kind", "occurred_at", "from_status", "to_status", "location", "who", "note"]
    readonly_fields = fields
    ordering = ["occurred_at", "at", "id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("by")
            .annotate(
                person_shown=Case(
                    When(recorded_by_organization_id=F("organization_id"), then=Value(True)),
                    default=Value(is_platform_staff(request)),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(description="recorded by")
    def who(self, event: PassportEvent) -> str:
        organization = event.recorded_by_organization_name or "-"
        if event.by_id is None:
            return f"{organization} (the platform)" if event.recorded_by_organization_name else "the platform"
        if getattr(event, "person_shown", False):
            return f"{event.by} ({organization})"
        return organization

    @admin.display(description="note")
    def note(self, event: PassportEvent) -> str:
        return event.reason or "-"


class AttachmentInline(PartInline):
    """The device's documents and photos, and its steps' (a service request's photos are on the
    request's page), each to download."""

    model = PassportAttachment
    fk_name = "passport"
    verbose_name = "file"
    verbose_name_plural = "documents and photos"
    fields = ["download", "kind", "step", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(service_request__isnull=True).select_related("event", "uploaded_by")

    @admin.display(description="file")
    def download(self, attachment: PassportAttachment) -> str:
        url = reverse("admin:passports_devicepassport_attachment", args=[attachment.passport_id, attachment.pk])
        return _download_link(url, attachment)

    @admin.display(description="of step")
    def step(self, attachment: PassportAttachment) -> str:
        event = attachment.event
        if event is None:
            return "the device"
        return f"{event.get_kind_display()}, {timezone.localtime(event.occurred_at):%Y-%m-%d}"


class PassportRecordForm(forms.ModelForm):
    def clean_gtin(self):
        # As the service stores it (a GTIN-8, -12 or -13 with zeros in front): the model's
        # 14-digit constraint is checked on what will be stored.
        try:
            return gtin_14(self.cleaned_data.get("gtin", ""))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


@admin.register(DevicePassport)
class DevicePassportAdmin(PassportsSwitchedOn, ServiceErrorsAsMessages, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view", "change"})
    form = PassportRecordForm
    list_display = ["code", "device_name", "manufacturer", "serial_number", "status", "owner", "created_at"]
    list_filter = ["status", "product_type"]
    search_fields = ["code", "serial_number", "device_name"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = ["print_labels"]
    inlines = [LifecycleInline, AttachmentInline]
    fieldsets = [
        (
            "Passport",
            {
                "fields": [
                    "code",
                    ("company_code", "year_month", "product_type", "origin_country", "sequence", "checksum"),
                    "qr_code",
                    "issued_by",
                ]
            },
        ),
        ("Device", {"fields": ["device_name", ("manufacturer", "model"), ("serial_number", "gtin"), "description"]}),
        (
            "Status and place",
            {
                "fields": [
                    ("status", "status_changed_at"),
                    "current_location",
                    ("latitude", "longitude"),
                    "warranty_until",
                    "scans",
                ]
            },
        ),
        ("Ownership", {"fields": ["owner", "customer", "created_by", ("created_at", "updated_at")]}),
    ]
    readonly_fields = [
        "code",
        "company_code",
        "year_month",
        "product_type",
        "origin_country",
        "sequence",
        "checksum",
        "qr_code",
        "issued_by",
        "status",
        "status_changed_at",
        "scans",
        "owner",
        "customer",
        "created_by",
        "created_at",
        "updated_at",
    ]

    def get_list_display(self, request):
        # An organization admin's devices are all their own: no owner column.
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "owner"]

    def get_list_select_related(self, request):
        return ["organization"] if is_platform_staff(request) else []

    @admin.display(description="owner", ordering="organization__name")
    def owner(self, passport: DevicePassport) -> str:
        return passport.organization.name

    @admin.display(description="issued by")
    def issued_by(self, passport: DevicePassport) -> str:
        # The issuer may be another organization than the owner (after a takeover), whose row
        # row-level security hides from the owner's admin: its public name is read instead.
        name = organization_names(organization_ids=[passport.issuer_organization_id]).get(
            passport.issuer_organization_id, ""
        )
        return f"{name} ({passport.company_code})" if name else passport.company_code

    @admin.display(description="QR code")
    def qr_code(self, passport: DevicePassport) -> str:
        if passport.pk is None:
            return "-"
        return format_html(
            '<img class="passport-qr" src="{}" alt="QR code of {}" width="132" height="132"><br>'
            '<a href="{}">{}</a> · <a class="label-download" href="{}">label (PDF)</a>',
            reverse("admin:passports_devicepassport_qr", args=[passport.pk]),
            passport.code,
            passport_uri_of(passport),
            passport_uri_of(passport),
            reverse("admin:passports_devicepassport_label", args=[passport.pk]),
        )

    @admin.display(description="public scans")
    def scans(self, passport: DevicePassport) -> str:
        summary = selectors.passport_scan_summary(passport=passport)
        if not summary["total"]:
            return "none yet"
        return f"{summary['total']}, last {timezone.localtime(summary['last_at']):%Y-%m-%d %H:%M}"

    # Staff act for no organization: the record is the owner's to correct (see the module).

    def has_change_permission(self, request, obj=None):
        return not is_platform_staff(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False  # registered through the API (codes are issued there, one by one or by import)

    def has_delete_permission(self, request, obj=None):
        return False  # a passport is decommissioned, never deleted: its history stays

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in RECORD_FIELDS}
        services.passport_update(actor=admin_actor(request), passport_id=obj.pk, data=data)

    def save_related(self, request, form, formsets, change):
        # The inlines are read-only: the service wrote everything (save_model). What Django's
        # change message reads of each formset is left empty.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # --- label printing ---

    @admin.action(description="Print labels (PDF)", permissions=["view"])
    def print_labels(self, request, queryset):
        """One A4 label sheet PDF of the selected devices, in code order."""
        limit = settings.PASSPORTS["LABEL_DOWNLOAD_MAX_PASSPORTS"]
        count = queryset.count()
        if count > limit:
            self.message_user(
                request, f"Select at most {limit} passports for one label sheet ({count} selected).", messages.ERROR
            )
            return None
        pdf = label_sheet_pdf(list(queryset.order_by("code")))
        return _pdf_response(pdf, filename=f"passport-labels-{timezone.now():%Y%m%d-%H%M}.pdf")

    # --- the device's QR code, its label, its files ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/qr.svg", view(self.qr_view), name="passports_devicepassport_qr"),
            path("<uuid:object_id>/label.pdf", view(self.label_view), name="passports_devicepassport_label"),
            path(
                "<uuid:object_id>/files/<uuid:attachment_id>/",
                view(self.attachment_view),
                name="passports_devicepassport_attachment",
            ),
            *super().get_urls(),
        ]

    def _passport(self, request, object_id: UUID) -> DevicePassport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        passport = self.get_queryset(request).filter(pk=object_id).first()
        if passport is None:
            raise Http404("No such device passport.")
        return passport

    def qr_view(self, request, object_id):
        passport = self._passport(request, object_id)
        response = HttpResponse(qr_svg(passport_uri_of(passport)), content_type="image/svg+xml")
        response["Cache-Control"] = "private, no-store"
        return response

    def label_view(self, request, object_id):
        passport = self._passport(request, object_id)
        return _pdf_response(label_sheet_pdf([passport]), filename=f"label-{passport.code}.pdf")

    def attachment_view(self, request, object_id, attachment_id):
        passport = self._passport(request, object_id)
        attachment = PassportAttachment.objects.filter(
            pk=attachment_id, passport_id=passport.pk, organization_id=passport.organization_id
        ).first()
        if attachment is None or not attachment.file:
            raise Http404("No such file.")
        return _stream(attachment.file, filename=attachment.filename, content_type=attachment.content_type)


def _pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


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
        return _stream(attachment.file, filename=attachment.filename, content_type=attachment.content_type)
