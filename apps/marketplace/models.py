"""The freight marketplace: carriers' service offerings and tariffs, shippers' RFQs, and
the carriers' offers on them.

Visibility (DESIGN.md §3):
- offerings and their tariffs are published: the carrier always, every tenant while the
  offering is active and not hidden by staff;
- an RFQ is published to its audience (every tenant, or the invited ones) from the moment
  it leaves draft: they keep reading it once it closes, so that acting on a closed RFQ
  says so (422 RFQ_ALREADY_CLOSED) rather than pretending it never was. The API lists
  carriers only the open ones and those awarded to them;
- an offer is shared by its two parties, the carrier that made it and the RFQ's owner;
  no other carrier ever sees it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import TENANT, Derived, Owned, Published, SharedByParties
from apps.core.text import validate_display_name

OFFER_PARTIES = ("carrier_organization_id", "shipper_organization_id")


class ServiceType(models.TextChoices):
    ROAD_FTL = "road_ftl", "Road, full truckload"
    ROAD_LTL = "road_ltl", "Road, less than truckload"
    RAIL = "rail", "Rail"
    AIR = "air", "Air"
    SEA = "sea", "Sea"
    COURIER = "courier", "Courier"
    WAREHOUSE = "warehouse", "Warehousing"
    CUSTOMS = "customs", "Customs brokerage"


class CargoType(models.TextChoices):
    GENERAL = "general", "General cargo"
    PALLETIZED = "palletized", "Palletized"
    BULK = "bulk", "Bulk"
    LIQUID = "liquid", "Liquid"
    CONTAINER = "container", "Container"
    REFRIGERATED = "refrigerated", "Refrigerated"
    DANGEROUS = "dangerous", "Dangerous goods"
    OVERSIZED = "oversized", "Oversized"
    VEHICLES = "vehicles", "Vehicles"
    LIVESTOCK = "livestock", "Livestock"


# UN dangerous goods classes and divisions (ADR / IMDG / IATA).
HAZMAT_CLASSES = (
    "1.1", "1.2", "1.3", "1.4", "1.5", "1.6",
    "2.1", "2.2", "2.3",
    "3",
    "4.1", "4.2", "4.3",
    "5.1", "5.2",
    "6.1", "6.2",
    "7",
    "8",
    "9",
)  # fmt: skip


class PricingModel(models.TextChoices):
    FIXED = "fixed", "Fixed price per shipment"
    PER_KG = "per_kg", "Per kilogram"
    PER_KM = "per_km", "Per kilometre"
    PER_CBM = "per_cbm", "Per cubic metre"


class TariffType(models.TextChoices):
    BASE = "base", "Base rate"
    FUEL_SURCHARGE = "fuel_surcharge", "Fuel surcharge"
    SEASONAL = "seasonal", "Seasonal adjustment"
    DISTANCE = "distance", "Distance rate"


class TariffUnit(models.TextChoices):
    KG = "kg", "per kg"
    CBM = "cbm", "per m³"
    KM = "km", "per km"
    PALLET = "pallet", "per pallet"
    FIXED = "fixed", "fixed"


class ServiceOffering(TimeStampedModel):
    """A service a carrier sells, with the limits of what it can carry and its base price."""

    row_visibility = Published(published_condition="is_active AND NOT is_hidden")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    # Shown to every tenant: row-level security lets no tenant read another's organization row.
    organization_name = models.CharField(max_length=200)
    name = models.CharField(max_length=200, validators=[validate_display_name])
    description = models.TextField(blank=True)
    service_type = models.CharField(max_length=16, choices=ServiceType.choices)
    # Coverage: an empty list means anywhere.
    origin_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    destination_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    origin_cities = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    destination_cities = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    # Limits: empty means no limit, except hazmat (an empty list carries no dangerous goods).
    max_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    max_volume_cbm = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    max_length_cm = models.PositiveIntegerField(null=True, blank=True)
    max_width_cm = models.PositiveIntegerField(null=True, blank=True)
    max_height_cm = models.PositiveIntegerField(null=True, blank=True)
    cargo_types = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    hazmat_classes = ArrayField(models.CharField(max_length=4), default=list, blank=True)
    temperature_controlled = models.BooleanField(default=False)
    temperature_min_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    temperature_max_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    # Service level.
    transit_days = models.PositiveSmallIntegerField()
    sla_guarantee = models.BooleanField(default=False)
    insurance_included = models.BooleanField(default=False)
    tracking_included = models.BooleanField(default=True)
    # Pricing: base_price is per shipment (fixed) or per unit of the pricing model.
    pricing_model = models.CharField(max_length=8, choices=PricingModel.choices, default=PricingModel.FIXED)
    base_price = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    currency = models.CharField(max_length=3)
    # A shipment priced at 0 is quoted only when the carrier says so: otherwise a 0 is taken
    # for an unfinished tariff and the offering is left out (`zero_price`).
    is_free = models.BooleanField(default=False)
    # Availability: ISO weekdays (1 = Monday) on which it picks up; empty means every day.
    available_days = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    available_from = models.TimeField(null=True, blank=True)
    available_until = models.TimeField(null=True, blank=True)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    rating_count = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # Staff take an abusive offering out of the catalogue; only staff put it back.
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="offering_org_created_idx"),
            # The catalogue and the quote read only published offerings.
            models.Index(
                fields=["service_type", "id"],
                name="offering_published_type_idx",
                condition=Q(is_active=True, is_hidden=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature_min_c__isnull=True)
                | Q(temperature_max_c__isnull=True)
                | Q(temperature_min_c__lte=F("temperature_max_c")),
                name="offering_temperature_range_ordered",
            ),
            models.CheckConstraint(condition=Q(base_price__gte=0), name="offering_base_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_published(self) -> bool:
        return self.is_active and not self.is_hidden


ANYWHERE = "*"  # an OfferingLane's country when the offering's list is empty; never a code


class LaneSide(models.TextChoices):
    ORIGIN = "o", "origin"
    DESTINATION = "d", "destination"


class OfferingLane(models.Model):
    """Where a published offering picks up and delivers, one row per country (or ANYWHERE).

    Written only by database triggers (migration 0006) in the transaction of the offering's
    own write, from its `origin_countries` and `destination_countries`, and only while it is
    published: what it holds is what every tenant reads in the catalogue already, so it
    names no organization and has no row-level policy. The quote narrows its candidates
    through it (selectors.offerings_for_quote_queryset): an equality on (side, country)
    served by its index, where the arrays' `@>` could not be an index condition under
    row-level security (a non-leakproof operator; docs/marketplace.md, "Quotes at scale").
    """

    id = models.BigAutoField(primary_key=True)
    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="+", db_index=False)
    side = models.CharField(max_length=1, choices=LaneSide.choices)
    country = models.CharField(max_length=2)

    class Meta:
        indexes = [
            models.Index(fields=["side", "country", "offering"], name="offering_lane_idx"),
            models.Index(fields=["offering"], name="offering_lane_offering_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.side} {self.country}"


class CatalogueVersion(models.Model):
    """One row whose `version` changes in the very transaction of every write to the catalogue.

    Database triggers (migration 0006) give it a new random value after any INSERT, UPDATE,
    DELETE or TRUNCATE statement on service offerings or tariffs, whoever writes them
    (services, the back-office, raw SQL). Cached quote rankings are keyed by it
    (apps.marketplace.quotes), so an entry can never outlive the catalogue it was computed
    from. It names no organization: the catalogue is one for every tenant.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.UUIDField(default=uuid.uuid4)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="catalogue_version_single_row")]

    def __str__(self) -> str:
        return str(self.version)


class Tariff(TimeStampedModel):
    """A pricing rule of an offering: a charge per unit, clamped, under conditions.

    `offering_is_published` is the offering's own state copied onto the row (written by
    the services that change it), so that the policy needs no join.
    """

    row_visibility = Published(published_condition="is_active AND offering_is_published")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    offering = models.ForeignKey(ServiceOffering, on_delete=models.CASCADE, related_name="tariffs")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    offering_is_published = models.BooleanField(default=True)
    name = models.CharField(max_length=200)
    tariff_type = models.CharField(max_length=16, choices=TariffType.choices)
    price_per_unit = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=8, choices=TariffUnit.choices, default=TariffUnit.FIXED)
    # Amounts in the offering's currency: 3 places hold every currency's minor units (KWD).
    minimum_charge = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    maximum_charge = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    # Conditions: the tariff applies only inside these ranges (inclusive; empty = open).
    min_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    max_weight_kg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    min_distance_km = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    max_distance_km = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    seasonal_multiplier = models.DecimalField(max_digits=5, decimal_places=3, default=1)
    fuel_multiplier = models.DecimalField(max_digits=5, decimal_places=3, default=1)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["offering_id", "tariff_type", "id"]
        indexes = [models.Index(fields=["organization", "offering"], name="tariff_org_offering_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_charge__isnull=True)
                | Q(maximum_charge__isnull=True)
                | Q(minimum_charge__lte=F("maximum_charge")),
                name="tariff_charge_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_weight_kg__isnull=True)
                | Q(max_weight_kg__isnull=True)
                | Q(min_weight_kg__lte=F("max_weight_kg")),
                name="tariff_weight_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_distance_km__isnull=True)
                | Q(max_distance_km__isnull=True)
                | Q(min_distance_km__lte=F("max_distance_km")),
                name="tariff_distance_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_from__lt=F("valid_until")),
                name="tariff_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(seasonal_multiplier__gt=0) & Q(fuel_multiplier__gt=0), name="tariff_multipliers_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RfqStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open for offers"
    CLOSED = "closed", "Closed"
    AWARDED = "awarded", "Awarded"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class RfqAudience(models.TextChoices):
    PUBLIC = "public", "Every carrier"
    INVITED = "invited", "Invited carriers only"


# Who besides the owner reads an RFQ: once published, its audience (every tenant, or the
# invited ones, the awarded carrier always among them). Invitations are a column of the row
# itself, so the policy needs no join.
RFQ_PUBLISHED = f"status <> 'draft' AND (audience = 'public' OR invited_organization_ids @> ARRAY[{TENANT}])"


class Rfq(TimeStampedModel):
    """A shipper's request for quotation: the cargo, its route in segments, a deadline."""

    row_visibility = Published(published_condition=RFQ_PUBLISHED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    organization_name = models.CharField(max_length=200)
    number = models.CharField(max_length=32, help_text="Human-readable, unique in the organization.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=RfqStatus.choices, default=RfqStatus.DRAFT)
    audience = models.CharField(max_length=8, choices=RfqAudience.choices, default=RfqAudience.PUBLIC)
    invited_organization_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    service_type = models.CharField(max_length=16, choices=ServiceType.choices, blank=True)
    # Cargo.
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    volume_cbm = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    length_cm = models.PositiveIntegerField(null=True, blank=True)
    width_cm = models.PositiveIntegerField(null=True, blank=True)
    height_cm = models.PositiveIntegerField(null=True, blank=True)
    pallet_count = models.PositiveIntegerField(null=True, blank=True)
    cargo_type = models.CharField(max_length=16, choices=CargoType.choices, default=CargoType.GENERAL)
    hazmat_class = models.CharField(max_length=4, blank=True)
    temperature_min_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    temperature_max_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    declared_value = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3, help_text="Of the declared value, and the currency offers are asked in.")
    # The route: [{"sequence", "origin": {place}, "destination": {place}, "pickup_date",
    # "delivery_date"}], a place being {"country", "city", "address", "latitude", "longitude"}.
    # Read and written whole with the RFQ; filtered by JSON containment (GIN index).
    segments = models.JSONField(default=list)
    deadline = models.DateTimeField(help_text="Offers are taken until then; past it the RFQ expires.")
    published_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)
    awarded_offer = models.ForeignKey(
        "marketplace.Offer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    awarded_organization_id = models.UUIDField(null=True, blank=True)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "RFQ"
        verbose_name_plural = "RFQs"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="rfq_org_number_unique"),
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="rfq_weight_positive"),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="rfq_org_created_idx"),
            # Carriers browse open RFQs; the expiry job looks for open ones past their deadline.
            models.Index(fields=["deadline"], name="rfq_open_deadline_idx", condition=Q(status="open")),
            models.Index(fields=["awarded_organization_id"], name="rfq_awarded_org_idx"),
            GinIndex(fields=["invited_organization_ids"], name="rfq_invited_gin"),
            GinIndex(fields=["segments"], name="rfq_segments_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self) -> str:
        return self.number


class RfqStatusChange(StatusChange):
    """An RFQ's history: one row per move, written by `move()`."""

    row_visibility = Owned()
    subject = "rfq"

    rfq = models.ForeignKey(Rfq, on_delete=models.CASCADE, related_name="status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["organization", "rfq"], name="rfq_change_org_rfq_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}

    def __str__(self) -> str:
        return f"{self.rfq_id}: {self.from_status or '-'} -> {self.to_status}"


class OfferStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"


class Offer(TimeStampedModel):
    """A carrier's answer to an RFQ; its two parties see it, no other carrier does.

    The row holds the current version; every version, the first included, is kept as an
    OfferRevision.
    """

    row_visibility = SharedByParties(*OFFER_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rfq = models.ForeignKey(Rfq, on_delete=models.PROTECT, related_name="offers")
    # Copied: once the RFQ closes, row-level security no longer lets a losing carrier read it.
    rfq_number = models.CharField(max_length=32)
    carrier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    carrier_organization_name = models.CharField(max_length=200)
    # The RFQ's owner, copied: the policy needs no join.
    shipper_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    service_offering = models.ForeignKey(
        ServiceOffering, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=OfferStatus.choices, default=OfferStatus.SUBMITTED)
    version = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=15, decimal_places=3)  # 3 places: KWD's minor units
    currency = models.CharField(max_length=3)
    transit_days = models.PositiveSmallIntegerField()
    valid_until = models.DateTimeField()
    conditions = models.TextField(blank=True)
    # The itemized quote the price was pre-filled from (an offer made from an offering).
    price_breakdown = models.JSONField(default=dict, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live offer per carrier per RFQ; withdrawn and decided ones stay as they were.
            models.UniqueConstraint(
                fields=["rfq", "carrier_organization"],
                condition=Q(status="submitted"),
                name="offer_one_live_per_carrier",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="offer_price_positive"),
        ]
        indexes = [
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["carrier_organization", "created_at", "id"], name="offer_carrier_created_id_idx"),
            models.Index(fields=["shipper_organization", "created_at", "id"], name="offer_shipper_created_id_idx"),
            models.Index(fields=["shipper_organization", "rfq"], name="offer_shipper_rfq_idx"),
            models.Index(fields=["valid_until"], name="offer_live_valid_until_idx", condition=Q(status="submitted")),
        ]

    def __str__(self) -> str:
        return f"{self.carrier_organization_name} on {self.rfq_number} (v{self.version})"


class OfferRevision(models.Model):
    """One version of an offer as it was submitted; never changed."""

    row_visibility = Derived(*OFFER_PARTIES)

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="revisions")
    carrier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    shipper_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=15, decimal_places=3)  # 3 places: KWD's minor units
    currency = models.CharField(max_length=3)
    transit_days = models.PositiveSmallIntegerField()
    valid_until = models.DateTimeField()
    conditions = models.TextField(blank=True)
    service_offering_id = models.UUIDField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["offer_id", "version"]
        constraints = [models.UniqueConstraint(fields=["offer", "version"], name="offer_revision_version_unique")]
        indexes = [
            models.Index(fields=["carrier_organization", "offer"], name="offer_rev_carrier_idx"),
            models.Index(fields=["shipper_organization", "offer"], name="offer_rev_shipper_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} v{self.version}"


class OfferStatusChange(StatusChange):
    """An offer's history: one row per move, written by `move()`."""

    row_visibility = Derived(*OFFER_PARTIES)
    subject = "offer"

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="status_changes")
    carrier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    shipper_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["carrier_organization", "offer"], name="offer_change_carrier_idx"),
            models.Index(fields=["shipper_organization", "offer"], name="offer_change_shipper_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "carrier_organization_id": subject.carrier_organization_id,
            "shipper_organization_id": subject.shipper_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.offer_id}: {self.from_status or '-'} -> {self.to_status}"


class QuoteRecord(models.Model):
    """One instant quote as it was shown, so that a booking can hold its price until `valid_until`.

    Written with the quote answer (one INSERT for its page) and never changed; deleted a day
    after it was made (`marketplace-delete-old-quotes`). It belongs to the organization that
    asked: the carrier learns of a quote only when it is booked."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    # Ids, not foreign keys: the record says what was quoted even after the offering changes
    # or goes, and deleting an offering never reaches into another tenant's rows.
    offering_id = models.UUIDField()
    carrier_organization_id = models.UUIDField()
    shipment = models.JSONField()  # pricing.shipment_as_dict: every field the price was computed from
    currency = models.CharField(max_length=3)
    # Wide enough for any total pricing can compute (rates up to 10^10 per kg of up to 10^6 kg,
    # times multipliers), so that storing a quote never fails where pricing did not.
    total = models.DecimalField(max_digits=30, decimal_places=3)
    lines = models.JSONField()  # Quote.to_dict()["lines"]
    transit_days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["organization", "created_at"], name="quote_record_org_created_idx"),
            # The daily clean-up finds old records of every tenant.
            models.Index(fields=["created_at"], name="quote_record_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.total} {self.currency} from offering {self.offering_id}"


# Bookings of quotes live beside, imported here so Django registers them with the app.
from apps.marketplace.booking_models import (  # noqa: E402, F401
    BOOKING_PARTIES,
    Booking,
    BookingStatus,
    BookingStatusChange,
)
