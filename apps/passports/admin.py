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
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, F, Value, When
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.passports import (
    admin_requests,  # noqa: F401 - registers the takeovers' and service requests' pages
    selectors,
    services,
)
from apps.passports.admin_common import PartInline, PassportsSwitchedOn, download_link, pdf_response, stream_file
from apps.passports.labels import label_sheet_pdf
from apps.passports.models import (
    DevicePassport,
    PassportAttachment,
    PassportEvent,
)
from apps.passports.qr import passport_uri_of, qr_svg
from apps.passports.services.passports import EDITABLE_FIELDS, gtin_14
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    ServiceErrorsAsMessages,
    admin_actor,
    is_platform_staff,
)
from apps.tenancy.selectors import organization_names

# Fields of the device's record an organization admin corrects here (the customer is a person
# of the organization, chosen through the API where the member list is).
RECORD_FIELDS = [name for name in EDITABLE_FIELDS if name != "customer_id"]


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
        return download_link(url, attachment)

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
        return pdf_response(pdf, filename=f"passport-labels-{timezone.now():%Y%m%d-%H%M}.pdf")

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
        return pdf_response(label_sheet_pdf([passport]), filename=f"label-{passport.code}.pdf")

    def attachment_view(self, request, object_id, attachment_id):
        passport = self._passport(request, object_id)
        attachment = PassportAttachment.objects.filter(
            pk=attachment_id, passport_id=passport.pk, organization_id=passport.organization_id
        ).first()
        if attachment is None or not attachment.file:
            raise Http404("No such file.")
        return stream_file(attachment.file, filename=attachment.filename, content_type=attachment.content_type)
