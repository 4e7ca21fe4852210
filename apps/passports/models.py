"""Device passports (seed 002): the record that follows a piece of equipment from the factory
through QC, shipping, installation and field service to decommissioning.

- `DevicePassport`: the device, its check-digited code (apps/passports/codes.py), its status
  and where it is; owned by one organization at a time (the current owner).
- `PassportEvent`: its lifecycle, append-only (a trigger refuses edits and deletes); each row
  is also the status history of the passport (apps.core.lifecycle).
- `PassportAttachment`: documents and photos of the device, of one of its events, or of a
  service request.
- `PassportTakeover`: another organization's claim to the device, which the owner (or staff,
  when the owner is gone) approves or rejects; approval moves the ownership.
- `PassportServiceRequest`: someone asking the owner for service on the device, from its public
  page or as a member.
- `PassportScan`: one public scan: when, how, and a coarse place; never the address it came from.

Visibility: a passport is its current owner's (owned). Its events and attachments carry the
owner copied onto them (derived), and a takeover moves them all in the same transaction, so the
previous owner sees none of the device's records after it. Takeovers are shared by the two
organizations; service requests and scans are the owner's at the time.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned, SharedByParties

COORDINATES = {"max_digits": 9, "decimal_places": 6, "null": True, "blank": True}


class PassportStatus(models.TextChoices):
    MANUFACTURED = "manufactured", "Manufactured"
    QC_PASSED = "qc_passed", "QC passed"
    QC_FAILED = "qc_failed", "QC failed"
    SHIPPED = "shipped", "Shipped"
    RECEIVED = "received", "Received"
    INSTALLED = "installed", "Installed"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class EventKind(models.TextChoices):
    MANUFACTURED = "manufactured", "Manufactured"
    QC_PASSED = "qc_passed", "QC passed"
    QC_FAILED = "qc_failed", "QC failed"
    SHIPPED = "shipped", "Shipped"
    RECEIVED = "received", "Received"
    INSTALLED = "installed", "Installed"
    SERVICED = "serviced", "Serviced"
    TRANSFERRED = "transferred", "Ownership transferred"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class ProductType(models.TextChoices):
    """The two letters of a passport code that say what the device is (a controlled list, so a
    code's letters always mean the same thing)."""

    MOTOR = "MO", "Electric motor"
    DRIVE = "DR", "Drive / inverter"
    CONTROLLER = "PL", "PLC / controller"
    SENSOR = "SE", "Sensor"
    HMI = "HM", "Operator panel (HMI)"
    ROBOT = "RB", "Robot"
    PUMP = "PU", "Pump"
    COMPRESSOR = "CO", "Compressor"
    VALVE = "VA", "Valve / actuator"
    GEARBOX = "GB", "Gearbox"
    SWITCHGEAR = "SW", "Switchgear"
    GENERATOR = "GE", "Generator"
    MACHINE = "MC", "Machine tool"
    OTHER = "OT", "Other equipment"


class DevicePassport(TimeStampedModel):
    """One device. Its code never changes once issued (labels carry it)."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The current owner; the organization that issued the code stays in `issuer_organization`.
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    issuer_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=24, unique=True)
    company_code = models.CharField(max_length=3)
    year_month = models.CharField(max_length=4, help_text="YYMM the code was issued.")
    product_type = models.CharField(max_length=2, choices=ProductType.choices)
    origin_country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 country of manufacture.")
    sequence = models.PositiveIntegerField()
    checksum = models.CharField(max_length=2)

    device_name = models.CharField(max_length=200)
    manufacturer = models.CharField(max_length=200)
    model = models.CharField(max_length=120, blank=True)
    serial_number = models.CharField(max_length=80)
    gtin = models.CharField("GTIN-14", max_length=14, blank=True)
    description = models.TextField(blank=True)

    status = models.CharField(max_length=16, choices=PassportStatus.choices, default=PassportStatus.MANUFACTURED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    current_location = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(**COORDINATES)
    longitude = models.DecimalField(**COORDINATES)
    warranty_until = models.DateField(null=True, blank=True)

    # The person the device is kept for (a customer of the owner: `:own` grants reach it).
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A sequence per issuing organization and month: never twice.
            models.UniqueConstraint(
                fields=["issuer_organization", "year_month", "sequence"], name="passport_issuer_month_sequence_unique"
            ),
            # One device, one passport: a manufacturer's serial number is unique (any owner).
            models.UniqueConstraint(Lower("manufacturer"), "serial_number", name="passport_manufacturer_serial_unique"),
            models.UniqueConstraint(
                fields=["gtin", "serial_number"], condition=~Q(gtin=""), name="passport_gtin_serial_unique"
            ),
            models.CheckConstraint(
                condition=Q(gtin="") | Q(gtin__regex=r"^[0-9]{14}$"), name="passport_gtin_14_digits"
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1, sequence__lte=999_999), name="passport_sequence_range"),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="passport_org_created_idx"),
            models.Index(fields=["organization", "status"], name="passport_org_status_idx"),
            models.Index(fields=["organization", "customer"], name="passport_org_customer_idx"),
        ]

    def __str__(self) -> str:
        return self.code


class PassportEvent(StatusChange):
    """One step of the device's life: what happened (`kind`), when it happened (`occurred_at`,
    which may be earlier than when it was recorded, `at`), who recorded it, where, and what it
    links to (the order that shipped it, the service order that serviced it). Append-only."""

    row_visibility = Derived("organization_id")
    subject = "passport"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passport = models.ForeignKey(DevicePassport, on_delete=models.PROTECT, related_name="events")
    # The current owner, copied from the passport (a takeover moves it).
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Who owned the device when the step was recorded, and that organization's name then.
    recorded_by_organization_id = models.UUIDField(null=True, blank=True)
    recorded_by_organization_name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    occurred_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(**COORDINATES)
    longitude = models.DecimalField(**COORDINATES)
    # Shown on the public page (as its kind's label and its date only).
    is_public = models.BooleanField(default=True)
    order_id = models.UUIDField(null=True, blank=True)
    order_number = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=32, blank=True)
    service_order_id = models.UUIDField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta(StatusChange.Meta):
        ordering = ["occurred_at", "at", "id"]
        indexes = [
            models.Index(fields=["organization", "passport", "occurred_at"], name="passport_event_org_idx"),
            models.Index(fields=["passport", "occurred_at", "id"], name="passport_event_hist_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}


class AttachmentKind(models.TextChoices):
    DOCUMENT = "document", "Document"
    PHOTO = "photo", "Photo"


def attachment_path(instance, filename: str) -> str:
    # Named by id: an uploaded name never reaches the storage path.
    return f"passports/{instance.passport_id}/{instance.id}"


class PassportAttachment(models.Model):
    """A document or photo of the device (no event), of one of its events, or of a service
    request about it. Checked by content before it is stored (apps.core.uploads)."""

    row_visibility = Derived("organization_id")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passport = models.ForeignKey(DevicePassport, on_delete=models.PROTECT, related_name="attachments")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    event = models.ForeignKey(
        PassportEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    service_request = models.ForeignKey(
        "PassportServiceRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "passport", "created_at"], name="passport_attachment_idx")]

    def __str__(self) -> str:
        return self.filename


class TakeoverStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


TAKEOVER_PARTIES = ("from_organization_id", "to_organization_id")


class PassportTakeover(TimeStampedModel):
    """Another organization claims the device, proving it holds it by its code and serial
    number; the owner at the time decides (or staff, when that owner is gone)."""

    row_visibility = SharedByParties(*TAKEOVER_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    passport = models.ForeignKey(DevicePassport, on_delete=models.PROTECT, related_name="+")
    passport_code = models.CharField(max_length=24)
    device_name = models.CharField(max_length=200)
    from_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    to_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    from_organization_name = models.CharField(max_length=200)
    to_organization_name = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=TakeoverStatus.choices, default=TakeoverStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["passport", "to_organization"],
                condition=Q(status="pending"),
                name="passport_takeover_one_pending_per_claimant",
            ),
            models.CheckConstraint(
                condition=~Q(from_organization=models.F("to_organization")), name="passport_takeover_not_to_self"
            ),
        ]
        indexes = [
            models.Index(fields=["from_organization", "created_at", "id"], name="takeover_from_created_idx"),
            models.Index(fields=["to_organization", "created_at", "id"], name="takeover_to_created_idx"),
            models.Index(fields=["status", "created_at"], name="takeover_status_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.passport_code} → {self.to_organization_name}"


class TakeoverStatusChange(StatusChange):
    row_visibility = Derived(*TAKEOVER_PARTIES)
    subject = "takeover"

    takeover = models.ForeignKey(PassportTakeover, on_delete=models.CASCADE, related_name="status_changes")
    from_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    to_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["takeover", "at"], name="takeover_history_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"from_organization_id": subject.from_organization_id, "to_organization_id": subject.to_organization_id}


class ServiceRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CLOSED = "closed", "Closed"


class ServiceRequestSource(models.TextChoices):
    PUBLIC = "public", "Public page"
    MEMBER = "member", "Member"


class PassportServiceRequest(TimeStampedModel):
    """Someone asks the device's owner for service: from the public page (anyone, with contact
    details) or as a member of the owner. It becomes a service order once field service exists."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32)
    passport = models.ForeignKey(DevicePassport, on_delete=models.PROTECT, related_name="+")
    passport_code = models.CharField(max_length=24)
    source = models.CharField(max_length=8, choices=ServiceRequestSource.choices)
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    description = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=14, choices=ServiceRequestStatus.choices, default=ServiceRequestStatus.OPEN)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="passport_service_request_number_unique"),
            models.CheckConstraint(
                condition=~Q(contact_email="") | ~Q(contact_phone="") | Q(requested_by__isnull=False),
                name="passport_service_request_reachable",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="srq_org_created_idx"),
            models.Index(fields=["organization", "status"], name="srq_org_status_idx"),
            models.Index(fields=["organization", "requested_by"], name="srq_org_user_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class ServiceRequestStatusChange(StatusChange):
    row_visibility = Derived("organization_id")
    subject = "service_request"

    service_request = models.ForeignKey(PassportServiceRequest, on_delete=models.CASCADE, related_name="status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["service_request", "at"], name="srq_history_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}


class ScanChannel(models.TextChoices):
    CODE = "code", "Passport code link (/p/<code>)"
    DIGITAL_LINK = "digital_link", "GS1 Digital Link"
    API = "api", "API"


class PassportScan(models.Model):
    """One public scan, counted for the owner: when, through which link, whether the person was
    signed in, and a coarse place (a country from the edge's header, or coordinates the person
    chose to share, rounded to 0.1°, about 10 km). Never the address the request came from."""

    row_visibility = Owned()

    id = models.BigAutoField(primary_key=True)
    passport = models.ForeignKey(DevicePassport, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    scanned_at = models.DateTimeField()
    channel = models.CharField(max_length=12, choices=ScanChannel.choices)
    country = models.CharField(max_length=2, blank=True)
    latitude = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    longitude = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    signed_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["organization", "passport", "scanned_at"], name="passport_scan_idx")]

    def __str__(self) -> str:
        return f"{self.passport_id} @ {self.scanned_at:%Y-%m-%d %H:%M}"
