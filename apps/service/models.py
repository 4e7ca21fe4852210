"""Field service (seed 002): expert passports, service work orders, and the matching results that
explain which expert was proposed for which order and why.

- `ExpertPassport`: a person's professional profile, with a check-digited code
  (apps/service/codes.py), skills from a controlled vocabulary (apps/service/vocabulary.py), a
  service area (base point and radius), a work status with its own transition table, and a
  membership level that decides whether the expert may go RUSHING.
- `ServiceOrder`: work on a device (or at a site) that a customer organization asks for and an
  expert carries out: PENDING -> ASSIGNED -> IN_PROGRESS -> COMPLETED | CANCELLED.
- `MatchingResult`: one scored candidate expert for one service order, with the score broken
  down by factor (the breakdown sums to the score), its status for the people who read it
  (NEW/VIEWED/CONTACTED/DISMISSED) and the state of the live offer made to a RUSHING expert.

Visibility: an expert passport is its organization's, and every tenant reads it while it is
published (the public profile customers choose from). A service order is shared by the customer
organization and, once an expert holds it, the expert's organization. A matching result is
shared by the customer organization and the candidate expert's organization, so an expert sees
the orders offered to them (and only those) before being assigned.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Published, SharedByParties

COORDINATES = {"max_digits": 9, "decimal_places": 6, "null": True, "blank": True}


class ExpertType(models.TextChoices):
    TECHNICAL = "T", "Technical"
    BUSINESS = "B", "Business"
    BOTH = "A", "Technical and business"


class WorkStatus(models.TextChoices):
    IDLE = "IDLE", "Idle"
    AVAILABLE = "AVAILABLE", "Available"
    RUSHING = "RUSHING", "Rushing (takes urgent work now)"
    BOOKED = "BOOKED", "Booked"
    IN_SERVICE = "IN_SERVICE", "In service"
    OFF_DUTY = "OFF_DUTY", "Off duty"


class MembershipLevel(models.TextChoices):
    FREE = "FREE", "Free"
    SILVER = "SILVER", "Silver"
    GOLD = "GOLD", "Gold"
    DIAMOND = "DIAMOND", "Diamond"


class ExpertPassport(TimeStampedModel):
    """A person's professional profile. Its code never changes once issued."""

    row_visibility = Published(published_condition="is_published")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The name shown to customers, copied from the person when the passport is made.
    display_name = models.CharField(max_length=200)

    code = models.CharField(max_length=32, unique=True)
    expert_type = models.CharField(max_length=1, choices=ExpertType.choices)
    industry_code = models.CharField(max_length=2, help_text="The main industry (apps/service/vocabulary.py).")
    skill_code = models.CharField(max_length=3, help_text="The main skill within the industry.")
    year_month = models.CharField(max_length=4, help_text="YYMM the code was issued.")
    nationality = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2.")
    sequence = models.PositiveIntegerField()
    checksum = models.CharField(max_length=2)

    professional_field = models.CharField(max_length=200, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    years_experience = models.PositiveSmallIntegerField(default=0)
    # "INDUSTRY-SKILL" codes of the vocabulary, the main one included.
    skills = ArrayField(models.CharField(max_length=6), default=list, blank=True)
    services_offered = models.TextField(blank=True)
    languages = ArrayField(models.CharField(max_length=2), default=list, blank=True)

    # Service area: a base point and how far the expert travels from it.
    base_location = models.CharField(max_length=200, blank=True)
    latitude = models.DecimalField(**COORDINATES)
    longitude = models.DecimalField(**COORDINATES)
    service_radius_km = models.PositiveIntegerField(default=50)
    # The area's bounding box in degrees, kept by the services with the point and radius: the
    # matching prefilter reads them from ExpertArea, a copy a trigger keeps (migration 0002).
    area_min_latitude = models.FloatField(null=True, blank=True)
    area_max_latitude = models.FloatField(null=True, blank=True)
    area_min_longitude = models.FloatField(null=True, blank=True)
    area_max_longitude = models.FloatField(null=True, blank=True)

    work_status = models.CharField(max_length=12, choices=WorkStatus.choices, default=WorkStatus.IDLE)
    work_status_changed_at = models.DateTimeField(null=True, blank=True)
    membership_level = models.CharField(max_length=8, choices=MembershipLevel.choices, default=MembershipLevel.FREE)
    membership_expires_at = models.DateTimeField(null=True, blank=True)

    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(default=0)
    completed_orders = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year_month", "sequence"], name="expert_month_sequence_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1, sequence__lte=99_999), name="expert_sequence_range"),
            models.CheckConstraint(
                condition=Q(rating_average__gte=0, rating_average__lte=5), name="expert_rating_range"
            ),
            # A paid level has an end; FREE has none.
            models.CheckConstraint(
                condition=Q(membership_level="FREE", membership_expires_at__isnull=True)
                | (~Q(membership_level="FREE") & Q(membership_expires_at__isnull=False)),
                name="expert_membership_expiry",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="expert_org_created_idx"),
            # The catalogue (the published profiles and one's own), newest first, at any depth.
            models.Index(fields=["-created_at", "-id"], name="expert_created_idx"),
            models.Index(fields=["work_status"], name="expert_work_status_idx"),
            models.Index(fields=["membership_level", "membership_expires_at"], name="expert_membership_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"


class ExpertArea(models.Model):
    """A published expert's service area, for the matching prefilter (apps/service/matching.py).

    Written only by a database trigger (migration 0002) in the transaction of the passport's own
    write (insert, a change of the area, skills or `is_published`, delete), whoever writes it; it holds
    only published experts with a location, i.e. what every tenant reads on the public profile
    already, so it names no organization and has no row-level policy. Why a table of its own: the
    prefilter asks a GiST index which areas contain a site (`box @> box`), and under row-level
    security PostgreSQL never makes a non-leakproof operator (every geometric one) an index
    condition, so the same index on the passports table itself cannot serve the tenants' query.
    """

    expert = models.OneToOneField(ExpertPassport, primary_key=True, on_delete=models.CASCADE, related_name="+")
    area_min_latitude = models.FloatField()
    area_max_latitude = models.FloatField()
    area_min_longitude = models.FloatField()
    area_max_longitude = models.FloatField()
    # The industries of the expert's main skill and of every other skill: the prefilter leaves
    # out another trade's experts here, before it reads their passports.
    industries = ArrayField(models.CharField(max_length=2), default=list)

    def __str__(self) -> str:
        return f"Service area of expert {self.expert_id}"


class ExpertCodeCounter(models.Model):
    """The platform's expert-code sequence per month (codes are unique across organizations,
    so the counter is the platform's, not a tenant's). Locked until the registering
    transaction ends: no duplicates, no gaps."""

    year_month = models.CharField(max_length=4, primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year_month}: {self.last_value}"


class ExpertWorkStatusChange(StatusChange):
    """The expert's work-status history (who moved it: the expert, a dispatcher, or the system)."""

    row_visibility = Derived("organization_id")
    subject = "expert"

    expert = models.ForeignKey(ExpertPassport, on_delete=models.CASCADE, related_name="work_status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["organization", "expert", "at"], name="expert_status_hist_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}


def certification_path(instance, filename: str) -> str:
    return f"experts/{instance.expert_id}/certifications/{instance.id}"


class ExpertCertification(models.Model):
    """A certificate the expert holds, with its file and expiry; shown on the public profile while
    the passport is published (`is_published` follows the passport's)."""

    row_visibility = Published(published_condition="is_published")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    expert = models.ForeignKey(ExpertPassport, on_delete=models.CASCADE, related_name="certifications")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200, blank=True)
    number = models.CharField(max_length=80, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    file = models.FileField(upload_to=certification_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "name", "id"]
        indexes = [models.Index(fields=["organization", "expert"], name="expert_cert_org_idx")]

    def __str__(self) -> str:
        return self.name


class Urgency(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    URGENT = "URGENT", "Urgent"


class ServiceOrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    ASSIGNED = "ASSIGNED", "Assigned"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    COMPLETED = "COMPLETED", "Completed"
    CANCELLED = "CANCELLED", "Cancelled"


SERVICE_ORDER_PARTIES = ("organization_id", "expert_organization_id")


class ServiceOrder(TimeStampedModel):
    """Work an expert does for a customer organization, often on one of its devices."""

    row_visibility = SharedByParties(*SERVICE_ORDER_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The customer organization (it numbers the order) and, once assigned, the expert's.
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    expert_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(max_length=32, help_text="SVO-YYYY-NNNNNN, unique in the customer organization.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.MEDIUM)
    status = models.CharField(max_length=12, choices=ServiceOrderStatus.choices, default=ServiceOrderStatus.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The skill the work needs ("INDUSTRY-SKILL" of the vocabulary): the matching's first factor.
    required_skill = models.CharField(max_length=6)

    # The device (apps.passports), by id: the passport is the owner's row, and the expert's
    # organization reads the snapshot below instead.
    passport_id = models.UUIDField(null=True, blank=True)
    passport_code = models.CharField(max_length=24, blank=True)
    device_name = models.CharField(max_length=200, blank=True)
    # The passport service request it came from (a public page's "Request service").
    service_request_id = models.UUIDField(null=True, blank=True, unique=True)

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expert = models.ForeignKey(
        ExpertPassport, null=True, blank=True, on_delete=models.PROTECT, related_name="service_orders"
    )
    expert_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    address = models.CharField(max_length=300, blank=True)
    latitude = models.DecimalField(**COORDINATES)
    longitude = models.DecimalField(**COORDINATES)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)

    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # A priced order is paid through escrow when the customer has it on: the payment order
    # (apps.orders, kind "service") made when an expert takes it; its escrow is opened and
    # funded by the customer through the escrow API, released after the work is completed.
    payment_order_id = models.UUIDField(null=True, blank=True)
    payment_order_number = models.CharField(max_length=32, blank=True)

    # When the assigned expert confirmed the assignment (or took the order by accepting an offer).
    accepted_at = models.DateTimeField(null=True, blank=True)

    # Completion: what was done, the parts used, and the customer's sign-off.
    work_done = models.TextField(blank=True)
    parts_used = models.JSONField(default=list, blank=True)
    signed_off_by_name = models.CharField(max_length=200, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    # The `serviced` step completion wrote on the device passport (None: no device, or the
    # device had left the customer or its installed state by then).
    passport_event_id = models.UUIDField(null=True, blank=True)

    # Live offers to RUSHING experts go out in rounds (apps/service/dispatch.py).
    offer_round = models.PositiveSmallIntegerField(default=0)
    offers_expire_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="service_order_number_unique"),
            models.CheckConstraint(condition=Q(price__isnull=True) | Q(price__gte=0), name="service_order_price"),
            models.CheckConstraint(
                condition=Q(scheduled_start__isnull=True)
                | Q(scheduled_end__isnull=True)
                | Q(scheduled_end__gte=models.F("scheduled_start")),
                name="service_order_window",
            ),
            # Whoever holds the order, their organization is a party.
            models.CheckConstraint(
                condition=Q(expert__isnull=True) | Q(expert_organization__isnull=False),
                name="service_order_expert_party",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="svo_org_created_idx"),
            models.Index(fields=["expert_organization", "created_at", "id"], name="svo_expert_org_created_idx"),
            models.Index(fields=["organization", "status"], name="svo_org_status_idx"),
            models.Index(fields=["expert", "status"], name="svo_expert_status_idx"),
            models.Index(fields=["organization", "passport_id"], name="svo_org_passport_idx"),
            models.Index(
                fields=["offers_expire_at"],
                condition=Q(status="PENDING", offers_expire_at__isnull=False),
                name="svo_offers_expire_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ServiceOrderStatusChange(StatusChange):
    row_visibility = Derived(*SERVICE_ORDER_PARTIES)
    subject = "service_order"

    service_order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    expert_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["service_order", "at"], name="svo_status_hist_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id, "expert_organization_id": subject.expert_organization_id}


class ServiceAttachmentKind(models.TextChoices):
    PHOTO = "PHOTO", "Photo of the problem"
    DOCUMENT = "DOCUMENT", "Document"
    COMPLETION_PHOTO = "COMPLETION_PHOTO", "Photo of the work done"
    SIGN_OFF = "SIGN_OFF", "Customer sign-off"


def service_attachment_path(instance, filename: str) -> str:
    return f"service-orders/{instance.service_order_id}/{instance.id}"


class ServiceOrderAttachment(models.Model):
    """A photo or document of a service order; checked by content before it is stored."""

    row_visibility = Derived(*SERVICE_ORDER_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    service_order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="attachments")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    expert_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ServiceAttachmentKind.choices)
    file = models.FileField(upload_to=service_attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["service_order", "created_at"], name="svo_attachment_idx")]

    def __str__(self) -> str:
        return self.filename


class MatchSourceType(models.TextChoices):
    SERVICE_ORDER = "SERVICE_ORDER", "Service order"


class MatchTargetType(models.TextChoices):
    EXPERT = "EXPERT", "Expert"


class MatchStatus(models.TextChoices):
    NEW = "NEW", "New"
    VIEWED = "VIEWED", "Viewed"
    CONTACTED = "CONTACTED", "Contacted"
    DISMISSED = "DISMISSED", "Dismissed"


class OfferStatus(models.TextChoices):
    NONE = "NONE", "Not offered"
    OFFERED = "OFFERED", "Offered live"
    ACCEPTED = "ACCEPTED", "Accepted"
    DECLINED = "DECLINED", "Declined"
    TAKEN = "TAKEN", "Taken by another expert"
    EXPIRED = "EXPIRED", "Expired"
    WITHDRAWN = "WITHDRAWN", "Withdrawn (cancelled or assigned by the customer)"


class MatchingResult(TimeStampedModel):
    """One candidate expert for one service order: the score, its breakdown per factor (which
    sums to the score), where it ranked, and what became of it."""

    row_visibility = SharedByParties("organization_id", "target_organization_id")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The service order's customer organization, and the candidate expert's organization.
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    target_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    source_type = models.CharField(
        max_length=16, choices=MatchSourceType.choices, default=MatchSourceType.SERVICE_ORDER
    )
    source_id = models.UUIDField()
    target_type = models.CharField(max_length=8, choices=MatchTargetType.choices, default=MatchTargetType.EXPERT)
    target_id = models.UUIDField()
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.DecimalField(max_digits=7, decimal_places=4)
    breakdown = models.JSONField(default=dict)
    rank = models.PositiveIntegerField()
    distance_km = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.NEW)
    offer_status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.NONE)
    offer_round = models.PositiveSmallIntegerField(default=0)
    offered_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # A summary of the source the candidate reads before it is theirs (title, urgency, where,
    # when): the candidate's organization is not yet a party of the service order.
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "target_type", "target_id"], name="match_source_target_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "source_type", "source_id", "rank"], name="match_source_idx"),
            models.Index(
                fields=["target_organization", "target_type", "target_id", "created_at"], name="match_target_idx"
            ),
            models.Index(fields=["source_id", "offer_status"], name="match_offer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source_type} {self.source_id} -> {self.target_type} {self.target_id}: {self.score}"
