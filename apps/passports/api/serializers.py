"""Serializers of the device passports member API: the passport (list row and detail), its
lifecycle steps and files, takeover claims, service requests, and the code check."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import CountryField, StrictCharField, StrictEmailField
from apps.core.download_links import download_token
from apps.passports.models import (
    AttachmentKind,
    DevicePassport,
    EventKind,
    PassportAttachment,
    PassportEvent,
    PassportServiceRequest,
    PassportStatus,
    PassportTakeover,
    ProductType,
    ServiceRequestStatus,
)
from apps.passports.qr import passport_uri_of
from apps.passports.transitions import KIND_OF_STATUS, SYSTEM_KINDS

DOWNLOAD_SALT = "passports.attachment"
MAX_DETAILS_CHARACTERS = 4000

# What a client may ask for: the steps the platform records itself (manufactured with the
# passport, transferred with an approved takeover) are not among them.
RECORDABLE_KINDS = [(kind, label) for kind, label in EventKind.choices if kind not in SYSTEM_KINDS]
STATUS_TARGETS = [
    (status, label)
    for status, label in PassportStatus.choices
    if status in KIND_OF_STATUS and status != PassportStatus.MANUFACTURED
]
SERVICE_REQUEST_MOVES = [
    (status, label) for status, label in ServiceRequestStatus.choices if status != ServiceRequestStatus.OPEN
]
TAKEOVER_DIRECTIONS = [("incoming", "Claims on our devices"), ("outgoing", "Our claims on others' devices")]


def _coordinate(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, default=None, **kwargs
    )


# --- Passports -------------------------------------------------------------------------------


class PassportCreateInput(serializers.Serializer):
    device_name = StrictCharField(max_length=200)
    manufacturer = StrictCharField(max_length=200)
    model = StrictCharField(max_length=120, required=False, allow_blank=True, default="")
    serial_number = StrictCharField(
        max_length=80, help_text="Unique per manufacturer. Letters, digits and . _ / - only."
    )
    product_type = serializers.ChoiceField(choices=ProductType.choices, help_text="The code's two letters.")
    origin_country = CountryField(help_text="ISO 3166-1 alpha-2 country of manufacture, e.g. DE.")
    gtin = StrictCharField(
        max_length=14,
        required=False,
        allow_blank=True,
        default="",
        help_text="A GTIN-8, -12, -13 or -14 with a valid check digit; the QR code is then a GS1 Digital Link.",
    )
    description = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")
    current_location = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = _coordinate(help_text="With longitude, or neither.")
    longitude = _coordinate(help_text="With latitude, or neither.")
    warranty_until = serializers.DateField(required=False, allow_null=True, default=None)
    customer_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The member the device is kept for (a customer of yours: they see it with passport:read:own).",
    )
    manufactured_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="When it was made (default: now); not in the future."
    )


class PassportUpdateInput(serializers.Serializer):
    """Every field optional: only those sent change. The code never changes."""

    device_name = StrictCharField(max_length=200, required=False)
    manufacturer = StrictCharField(max_length=200, required=False)
    model = StrictCharField(max_length=120, required=False, allow_blank=True)
    serial_number = StrictCharField(max_length=80, required=False)
    gtin = StrictCharField(max_length=14, required=False, allow_blank=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    current_location = StrictCharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    warranty_until = serializers.DateField(required=False, allow_null=True)
    customer_id = serializers.UUIDField(required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class PassportOutput(serializers.ModelSerializer):
    customer_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = DevicePassport
        fields = [
            "id",
            "code",
            "device_name",
            "manufacturer",
            "model",
            "serial_number",
            "gtin",
            "product_type",
            "origin_country",
            "status",
            "status_changed_at",
            "current_location",
            "latitude",
            "longitude",
            "warranty_until",
            "customer_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PassportCodePartsOutput(serializers.Serializer):
    company = StrictCharField(source="company_code", read_only=True)
    year_month = StrictCharField(read_only=True)
    product_type = StrictCharField(read_only=True)
    origin = StrictCharField(source="origin_country", read_only=True)
    sequence = serializers.SerializerMethodField()
    checksum = StrictCharField(read_only=True)

    def get_sequence(self, passport) -> str:
        return f"{passport.sequence:06d}"


class PassportScanSummaryOutput(serializers.Serializer):
    total = serializers.IntegerField(read_only=True, help_text="Public scans since the current owner has it.")
    last_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PassportAttachmentOutput(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(help_text="The file's link; works for a few minutes.")

    class Meta:
        model = PassportAttachment
        fields = ["id", "kind", "event_id", "filename", "content_type", "size", "sha256", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        token = download_token(salt=DOWNLOAD_SALT, record_id=attachment.id, organization_id=attachment.organization_id)
        return reverse("passport-attachment-file", args=[token])


class PassportRecordedByOutput(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    name = StrictCharField(read_only=True)


class PassportEventOutput(serializers.ModelSerializer):
    """One lifecycle step. `recorded_by` names the person only to their own organization: a
    device's new owner sees which organization recorded its earlier steps, not who."""

    order_id = serializers.UUIDField(read_only=True, allow_null=True)
    service_order_id = serializers.UUIDField(read_only=True, allow_null=True)
    recorded_at = serializers.DateTimeField(source="at", read_only=True)
    note = StrictCharField(source="reason", read_only=True)
    attachments = PassportAttachmentOutput(many=True, read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = PassportEvent
        fields = [
            "id",
            "kind",
            "from_status",
            "to_status",
            "occurred_at",
            "recorded_at",
            "location",
            "latitude",
            "longitude",
            "note",
            "is_public",
            "order_id",
            "order_number",
            "tracking_number",
            "service_order_id",
            "details",
            "attachments",
            "recorded_by_organization_name",
            "recorded_by",
        ]
        read_only_fields = fields

    @extend_schema_field(PassportRecordedByOutput(allow_null=True))
    def get_recorded_by(self, event) -> dict | None:
        viewer = self.context.get("organization_id")
        if event.by_id is None or viewer is None or event.recorded_by_organization_id != viewer:
            return None
        return {"id": event.by_id, "name": event.by.full_name or event.by.email}


class PassportDetailOutput(PassportOutput):
    """The passport with what its page shows: code parts, the QR code's link, scans, files and
    the last steps (context: `scans`, `attachments`, `last_events`, `organization_id`)."""

    code_parts = PassportCodePartsOutput(source="*", read_only=True)
    qr_uri = serializers.SerializerMethodField(help_text="What the QR code on the label encodes.")
    created_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    scans = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField(help_text="The device's own documents and photos.")
    last_events = serializers.SerializerMethodField(help_text="The last few lifecycle steps, oldest first.")

    class Meta(PassportOutput.Meta):
        fields = [
            *PassportOutput.Meta.fields,
            "company_code",
            "year_month",
            "sequence",
            "checksum",
            "code_parts",
            "description",
            "qr_uri",
            "created_by_id",
            "scans",
            "documents",
            "last_events",
        ]
        read_only_fields = fields

    def get_qr_uri(self, passport) -> str:
        return passport_uri_of(passport)

    @extend_schema_field(PassportScanSummaryOutput)
    def get_scans(self, passport) -> dict:
        return PassportScanSummaryOutput(self.context["scans"]).data

    @extend_schema_field(PassportAttachmentOutput(many=True))
    def get_documents(self, passport) -> list:
        return PassportAttachmentOutput(self.context["attachments"], many=True).data

    @extend_schema_field(PassportEventOutput(many=True))
    def get_last_events(self, passport) -> list:
        return PassportEventOutput(self.context["last_events"], many=True, context=self.context).data


# --- Lifecycle ---------------------------------------------------------------------------------


class PassportLifecycleFields(serializers.Serializer):
    occurred_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it happened (default: now): not before the device's last step, not in the future.",
    )
    location = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = _coordinate(help_text="With longitude, or neither.")
    longitude = _coordinate(help_text="With latitude, or neither.")
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class PassportStatusInput(PassportLifecycleFields):
    status = serializers.ChoiceField(
        choices=STATUS_TARGETS,
        help_text="Records the step that leads there (qc_passed, shipped, installed, ...), as the lifecycle allows "
        "and your role records.",
    )


class PassportEventInput(PassportLifecycleFields):
    kind = serializers.ChoiceField(
        choices=RECORDABLE_KINDS,
        help_text="QC steps: QC inspectors; installed and serviced: engineers; the rest: operators.",
    )
    is_public = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Shown on the public page (kind and date only). Default: yes, but for a failed QC.",
    )
    order_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="shipped or received: the order that carries it."
    )
    service_order_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="serviced: the service order."
    )
    details = serializers.DictField(required=False, default=dict, help_text="Free-form facts of the step (JSON).")

    def validate_details(self, value):
        if len(json.dumps(value, default=str)) > MAX_DETAILS_CHARACTERS:
            raise serializers.ValidationError(f"At most {MAX_DETAILS_CHARACTERS} characters of JSON.")
        return value


class PassportAttachmentInput(serializers.Serializer):
    file = serializers.FileField(help_text="A PDF, JPEG or PNG (a photo: JPEG or PNG), of up to 10 MB.")
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    event_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="A step of the device the file belongs to."
    )


# --- Takeovers ---------------------------------------------------------------------------------


class PassportTakeoverListQuery(serializers.Serializer):
    direction = serializers.ChoiceField(choices=TAKEOVER_DIRECTIONS, required=False, help_text="Default: both.")


class PassportTakeoverRequestInput(serializers.Serializer):
    code = StrictCharField(max_length=40, help_text="The passport code printed on the device.")
    serial_number = StrictCharField(max_length=80, help_text="The serial number on the device's plate.")
    message = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class PassportTakeoverDecisionInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class PassportTakeoverRejectInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why: the claimant reads it.")


class PassportTakeoverOutput(serializers.ModelSerializer):
    passport_id = serializers.UUIDField(read_only=True)
    from_organization_id = serializers.UUIDField(read_only=True)
    to_organization_id = serializers.UUIDField(read_only=True)
    direction = serializers.SerializerMethodField(
        help_text="incoming: a claim on your device; outgoing: your claim; null for platform staff."
    )

    class Meta:
        model = PassportTakeover
        fields = [
            "id",
            "passport_id",
            "passport_code",
            "device_name",
            "from_organization_id",
            "from_organization_name",
            "to_organization_id",
            "to_organization_name",
            "direction",
            "message",
            "status",
            "decided_at",
            "decision_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_direction(self, takeover) -> str | None:
        viewer = self.context.get("organization_id")
        if viewer == takeover.from_organization_id:
            return "incoming"
        if viewer == takeover.to_organization_id:
            return "outgoing"
        return None


# --- Service requests --------------------------------------------------------------------------


class PassportServiceRequestCreateInput(serializers.Serializer):
    description = StrictCharField(max_length=4000)
    contact_name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    contact_email = StrictEmailField(max_length=254, required=False, allow_blank=True, default="")
    contact_phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")


class PassportServiceRequestStatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=SERVICE_REQUEST_MOVES)
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class PassportServiceRequestOutput(serializers.ModelSerializer):
    passport_id = serializers.UUIDField(read_only=True)
    # Empty when none was given: not format "email" in the schema.
    contact_email = StrictCharField(read_only=True, help_text="An e-mail address, or empty.")
    requested_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    attachments = PassportAttachmentOutput(many=True, read_only=True)

    class Meta:
        model = PassportServiceRequest
        fields = [
            "id",
            "number",
            "passport_id",
            "passport_code",
            "source",
            "status",
            "description",
            "contact_name",
            "contact_email",
            "contact_phone",
            "requested_by_id",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Code check ----------------------------------------------------------------------------------


class PassportCodeValidateInput(serializers.Serializer):
    code = StrictCharField(max_length=64, trim_whitespace=False, help_text="As typed: spaces and case are forgiven.")


class PassportCodeCheckOutput(serializers.Serializer):
    code = StrictCharField(read_only=True, help_text="The code as read (spaces dropped, upper case).")
    valid = serializers.BooleanField(read_only=True)
    parts = serializers.DictField(
        child=StrictCharField(), read_only=True, help_text="company, year_month, product_type, origin, ..."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=StrictCharField()),
        read_only=True,
        help_text="What is wrong, by part (`code` when the parts cannot be told apart).",
    )


def download_max_age() -> int:
    return settings.PASSPORTS["DOWNLOAD_URL_MAX_AGE"]
