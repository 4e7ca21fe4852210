"""Serializers of the marketplace API: field-level checks here (types, ranges, codes); the
checks that compare fields or need the database are the services' (apps.marketplace.services)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import CountryField, CurrencyField, MoneyAmountField, MoneyField, StrictCharField
from apps.core.api.serializers import PartyOutput
from apps.marketplace.models import (
    HAZMAT_CLASSES,
    CargoType,
    Offer,
    OfferRevision,
    Rfq,
    RfqAudience,
    ServiceOffering,
    ServiceType,
    Tariff,
)
from apps.marketplace.services.catalog import OFFERING_FIELDS, TARIFF_FIELDS
from apps.marketplace.services.rfqs import RFQ_FIELDS

# Sanity limits: a bad unit (grams for kilograms) or a typo, not a real shipment.
MAX_WEIGHT_KG = Decimal("1000000")  # 1,000 t
MAX_VOLUME_CBM = Decimal("100000")
MAX_DIMENSION_CM = 10_000  # 100 m
MAX_MONEY = Decimal("999999999999.999")
WEIGHT = {"max_digits": 12, "decimal_places": 3, "min_value": Decimal("0.001"), "max_value": MAX_WEIGHT_KG}
VOLUME = {"max_digits": 10, "decimal_places": 3, "min_value": Decimal("0.001"), "max_value": MAX_VOLUME_CBM}
DIMENSION = {"min_value": 1, "max_value": MAX_DIMENSION_CM}
TEMPERATURE = {"max_digits": 5, "decimal_places": 1, "min_value": Decimal("-100"), "max_value": Decimal("100")}
OPTIONAL = {"required": False, "allow_null": True}


def _choices(choices, **kwargs):
    return serializers.ListField(child=serializers.ChoiceField(choices=choices), required=False, **kwargs)


# --- Catalogue --------------------------------------------------------------------------------


class OfferingInput(serializers.ModelSerializer):
    origin_countries = serializers.ListField(child=CountryField(), required=False, max_length=250)
    destination_countries = serializers.ListField(child=CountryField(), required=False, max_length=250)
    origin_cities = serializers.ListField(child=StrictCharField(max_length=100), required=False, max_length=500)
    destination_cities = serializers.ListField(child=StrictCharField(max_length=100), required=False, max_length=500)
    max_weight_kg = serializers.DecimalField(**WEIGHT, **OPTIONAL)
    max_volume_cbm = serializers.DecimalField(**VOLUME, **OPTIONAL)
    max_length_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    max_width_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    max_height_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    cargo_types = _choices(CargoType.choices, max_length=len(CargoType.choices))
    hazmat_classes = _choices(HAZMAT_CLASSES, max_length=len(HAZMAT_CLASSES))
    temperature_min_c = serializers.DecimalField(**TEMPERATURE, **OPTIONAL)
    temperature_max_c = serializers.DecimalField(**TEMPERATURE, **OPTIONAL)
    transit_days = serializers.IntegerField(min_value=0, max_value=365)
    base_price = MoneyAmountField(
        currency_of=None, whole_digits=10, decimal_places=4, max_value=Decimal("9999999999"), required=False,
        help_text="A rate in `currency` (per shipment, kg or km by pricing_model).",
    )  # fmt: skip
    currency = CurrencyField()
    available_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=7), required=False, max_length=7,
        help_text="ISO weekdays it picks up on (1 = Monday); empty: every day.",
    )  # fmt: skip

    class Meta:
        model = ServiceOffering
        fields = list(OFFERING_FIELDS)

    def validate_available_days(self, value):
        return sorted(set(value))


class OfferingOutput(serializers.ModelSerializer):
    organization = serializers.SerializerMethodField()

    @extend_schema_field(PartyOutput)
    def get_organization(self, offering) -> dict:
        return {"id": offering.organization_id, "name": offering.organization_name}

    class Meta:
        model = ServiceOffering
        fields = [
            "id",
            "organization",
            *OfferingInput.Meta.fields,
            "rating_average",
            "rating_count",
            "is_hidden",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TariffInput(serializers.ModelSerializer):
    price_per_unit = MoneyAmountField(
        currency_of=None, whole_digits=10, decimal_places=4, max_value=Decimal("9999999999"), **OPTIONAL,
        help_text="A rate in the offering's currency.",
    )  # fmt: skip
    minimum_charge = MoneyAmountField(currency_of="the offering's currency", max_value=MAX_MONEY, **OPTIONAL)
    maximum_charge = MoneyAmountField(currency_of="the offering's currency", max_value=MAX_MONEY, **OPTIONAL)
    min_weight_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=Decimal(0), max_value=MAX_WEIGHT_KG, **OPTIONAL
    )
    max_weight_kg = serializers.DecimalField(**WEIGHT, **OPTIONAL)
    min_distance_km = serializers.DecimalField(
        max_digits=10, decimal_places=1, min_value=Decimal(0), max_value=Decimal("40075"), **OPTIONAL
    )
    max_distance_km = serializers.DecimalField(
        max_digits=10, decimal_places=1, min_value=Decimal("0.1"), max_value=Decimal("40075"), **OPTIONAL
    )
    seasonal_multiplier = serializers.DecimalField(
        max_digits=5, decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal("10"), required=False
    )
    fuel_multiplier = serializers.DecimalField(
        max_digits=5, decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal("10"), required=False
    )

    class Meta:
        model = Tariff
        fields = list(TARIFF_FIELDS)


class TariffOutput(serializers.ModelSerializer):
    offering = serializers.UUIDField(source="offering_id", read_only=True)

    class Meta:
        model = Tariff
        fields = ["id", "offering", *TariffInput.Meta.fields, "created_at", "updated_at"]
        read_only_fields = fields


# --- Places, shipments and quotes -------------------------------------------------------------


class PlaceSerializer(serializers.Serializer):
    country = CountryField()
    city = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    address = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), **OPTIONAL
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180), **OPTIONAL
    )

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError({"longitude": ["Give both latitude and longitude, or neither."]})
        return attrs


class CargoFields(serializers.Serializer):
    """The cargo, as an RFQ and a quote request both describe it."""

    weight_kg = serializers.DecimalField(**WEIGHT)
    volume_cbm = serializers.DecimalField(**VOLUME, **OPTIONAL)
    length_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    width_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    height_cm = serializers.IntegerField(**DIMENSION, **OPTIONAL)
    pallet_count = serializers.IntegerField(min_value=1, max_value=10_000, **OPTIONAL)
    cargo_type = serializers.ChoiceField(choices=CargoType.choices, required=False, default=CargoType.GENERAL)
    hazmat_class = serializers.ChoiceField(choices=HAZMAT_CLASSES, required=False, allow_blank=True, default="")
    temperature_min_c = serializers.DecimalField(**TEMPERATURE, **OPTIONAL)
    temperature_max_c = serializers.DecimalField(**TEMPERATURE, **OPTIONAL)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        low, high = attrs.get("temperature_min_c"), attrs.get("temperature_max_c")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"temperature_min_c": [f"Must be at most temperature_max_c ({high}); it is {low}."]}
            )
        return attrs


class ShipmentQuoteInput(CargoFields):
    origin = PlaceSerializer()
    destination = PlaceSerializer()
    pickup_date = serializers.DateField(required=False, allow_null=True)
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False, allow_blank=True, default="")
    currency = CurrencyField(required=False, help_text="Only offerings priced in this currency.")
    sort = serializers.ChoiceField(choices=["price", "transit_time"], required=False, default="price")
    explain = serializers.BooleanField(required=False, default=False, help_text="Also list who was left out, and why.")
    limit = serializers.IntegerField(min_value=1, max_value=100, required=False, default=20)


class ReasonOutput(serializers.Serializer):
    code = StrictCharField()
    message = StrictCharField()


class PriceLineOutput(serializers.Serializer):
    name = StrictCharField()
    source = StrictCharField()
    tariff_id = serializers.UUIDField(allow_null=True)
    tariff_type = StrictCharField()
    unit = StrictCharField()
    quantity = StrictCharField()
    rate = StrictCharField(allow_null=True)
    multiplier = StrictCharField(allow_null=True)
    base = StrictCharField(allow_null=True)
    calculated = StrictCharField()
    clamped_to = StrictCharField(allow_null=True)
    amount = StrictCharField()
    quantity_estimated = serializers.BooleanField(
        help_text="The quantity is a pallet count estimated from the weight and volume (none was given)."
    )
    note = StrictCharField(allow_blank=True, help_text="How an estimated quantity was made.")


class SkippedTariffOutput(serializers.Serializer):
    tariff_id = serializers.UUIDField()
    code = StrictCharField()
    message = StrictCharField()


class QuoteOutput(serializers.Serializer):
    quote_id = serializers.UUIDField(help_text="Book the quote by this id until valid_until.")
    valid_until = serializers.DateTimeField(help_text="The price holds until then (QUOTE_VALIDITY after the quote).")
    offering = OfferingOutput()
    offering_id = serializers.UUIDField()
    currency = StrictCharField()
    total = StrictCharField(help_text="The sum of the lines' amounts.")
    transit_days = serializers.IntegerField()
    lines = PriceLineOutput(many=True)
    skipped_tariffs = SkippedTariffOutput(many=True)


class ExcludedOutput(serializers.Serializer):
    offering = OfferingOutput()
    reasons = ReasonOutput(many=True)


class DistanceOutput(serializers.Serializer):
    km = StrictCharField(allow_null=True)
    method = StrictCharField(help_text="great_circle (from the coordinates), or unknown.")


class QuoteMetaOutput(serializers.Serializer):
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    sort = StrictCharField()
    distance = DistanceOutput()
    rounding = StrictCharField()


class ExcludedMetaOutput(serializers.Serializer):
    total = serializers.IntegerField()
    by_reason = serializers.DictField(child=serializers.IntegerField())


class QuoteResponse(serializers.Serializer):
    data = QuoteOutput(many=True)
    meta = QuoteMetaOutput()
    excluded = ExcludedOutput(many=True, required=False, help_text="With explain=true.")
    excluded_meta = ExcludedMetaOutput(required=False)


# --- RFQs -------------------------------------------------------------------------------------


class SegmentSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(read_only=True)
    origin = PlaceSerializer()
    destination = PlaceSerializer()
    pickup_date = serializers.DateField(required=False, allow_null=True)
    delivery_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        pickup, delivery = attrs.get("pickup_date"), attrs.get("delivery_date")
        if pickup and delivery and delivery < pickup:
            raise serializers.ValidationError({"delivery_date": [f"Must not be before pickup_date ({pickup})."]})
        return attrs


def _json_place(place: dict) -> dict:
    coordinates = {
        name: float(place[name]) if place.get(name) is not None else None for name in ("latitude", "longitude")
    }
    return {"country": place["country"], "city": place["city"], "address": place["address"], **coordinates}


def segments_as_json(segments: list[dict]) -> list[dict]:
    """Validated segments as stored on the RFQ: numbered, with ISO dates."""
    return [
        {
            "sequence": number,
            "origin": _json_place(segment["origin"]),
            "destination": _json_place(segment["destination"]),
            "pickup_date": segment["pickup_date"].isoformat() if segment.get("pickup_date") else None,
            "delivery_date": segment["delivery_date"].isoformat() if segment.get("delivery_date") else None,
        }
        for number, segment in enumerate(segments, start=1)
    ]


class RfqInput(CargoFields):
    title = StrictCharField(max_length=200)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    audience = serializers.ChoiceField(choices=RfqAudience.choices, required=False, default=RfqAudience.PUBLIC)
    invited_organization_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=200)
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False, allow_blank=True)
    declared_value = MoneyAmountField(max_value=MAX_MONEY, **OPTIONAL)
    currency = CurrencyField()
    segments = SegmentSerializer(many=True, min_length=1, max_length=20)
    deadline = serializers.DateTimeField()

    def validate_segments(self, value):
        return segments_as_json(value)

    def validate_invited_organization_ids(self, value):
        return sorted(set(value), key=str)


class RfqUpdateInput(RfqInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class RfqOutput(serializers.ModelSerializer):
    organization = serializers.SerializerMethodField()
    live_offer_count = serializers.SerializerMethodField()
    awarded_offer = serializers.UUIDField(source="awarded_offer_id", read_only=True, allow_null=True)
    order = serializers.UUIDField(source="order_id", read_only=True, allow_null=True)
    segments = SegmentSerializer(many=True, read_only=True)
    declared_value = MoneyField(allow_null=True)
    invited_organization_ids = serializers.ListField(
        child=serializers.UUIDField(),
        allow_null=True,
        read_only=True,
        help_text="For the RFQ's owner only; null for others.",
    )
    service_type = serializers.ChoiceField(choices=ServiceType.choices, allow_blank=True, read_only=True)

    @extend_schema_field(PartyOutput)
    def get_organization(self, rfq) -> dict:
        return {"id": rfq.organization_id, "name": rfq.organization_name}

    def get_live_offer_count(self, rfq) -> int | None:
        """Live offers, for the RFQ's owner only (a carrier never learns how many compete)."""
        if rfq.organization_id != self.context.get("organization_id"):
            return None
        return getattr(rfq, "live_offer_count", None)

    def to_representation(self, rfq):
        data = super().to_representation(rfq)
        viewer = self.context.get("organization_id")
        if rfq.organization_id != viewer:
            data["invited_organization_ids"] = None  # who else was invited is the owner's business
            if rfq.awarded_organization_id != viewer:
                data["awarded_offer"] = data["order"] = None  # the award is the two parties' business
        return data

    class Meta:
        model = Rfq
        fields = [
            "id",
            "number",
            "organization",
            "status",
            *RFQ_FIELDS,
            "published_at",
            "closed_at",
            "close_reason",
            "awarded_offer",
            "order",
            "live_offer_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReasonInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000)


class OptionalReasonInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


# --- Offers -----------------------------------------------------------------------------------


class OfferInput(serializers.Serializer):
    service_offering = serializers.UUIDField(
        required=False, allow_null=True, help_text="One of your offerings: price and transit time are quoted from it."
    )
    price = MoneyAmountField(
        currency_of="the RFQ's currency", min_value=Decimal("0.001"), max_value=MAX_MONEY, **OPTIONAL
    )
    currency = CurrencyField(required=False)
    transit_days = serializers.IntegerField(min_value=0, max_value=365, **OPTIONAL)
    valid_until = serializers.DateTimeField(required=False, help_text="Defaults to the RFQ's deadline.")
    conditions = StrictCharField(max_length=5000, required=False, allow_blank=True)


class OfferReviseInput(serializers.Serializer):
    price = MoneyAmountField(currency_of="the RFQ's currency", min_value=Decimal("0.001"), max_value=MAX_MONEY)
    currency = CurrencyField()
    transit_days = serializers.IntegerField(min_value=0, max_value=365)
    valid_until = serializers.DateTimeField()
    conditions = StrictCharField(max_length=5000, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class RfqReferenceOutput(serializers.Serializer):
    id = serializers.UUIDField(source="rfq_id")
    number = StrictCharField(source="rfq_number")


class OfferRevisionOutput(serializers.ModelSerializer):
    service_offering = serializers.UUIDField(source="service_offering_id", allow_null=True)
    price = MoneyField()

    class Meta:
        model = OfferRevision
        fields = ["version", "price", "currency", "transit_days", "valid_until", "conditions", "service_offering",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


class OfferOutput(serializers.ModelSerializer):
    rfq = serializers.SerializerMethodField()
    carrier_organization = serializers.SerializerMethodField()
    shipper_organization = serializers.UUIDField(source="shipper_organization_id", read_only=True)
    service_offering = serializers.UUIDField(source="service_offering_id", read_only=True, allow_null=True)
    submitted_by = serializers.UUIDField(source="submitted_by_id", read_only=True, allow_null=True)
    price = MoneyField()

    @extend_schema_field(RfqReferenceOutput)
    def get_rfq(self, offer) -> dict:
        return {"id": offer.rfq_id, "number": offer.rfq_number}

    @extend_schema_field(PartyOutput)
    def get_carrier_organization(self, offer) -> dict:
        return {"id": offer.carrier_organization_id, "name": offer.carrier_organization_name}

    class Meta:
        model = Offer
        fields = [
            "id",
            "rfq",
            "carrier_organization",
            "shipper_organization",
            "service_offering",
            "status",
            "version",
            "price",
            "currency",
            "transit_days",
            "valid_until",
            "conditions",
            "price_breakdown",
            "submitted_by",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OfferDetailOutput(OfferOutput):
    revisions = OfferRevisionOutput(many=True, read_only=True)

    class Meta(OfferOutput.Meta):
        fields = [*OfferOutput.Meta.fields, "revisions"]
        read_only_fields = fields


class AwardOutput(serializers.Serializer):
    offer = OfferDetailOutput()
    rfq = RfqOutput()
    order = serializers.UUIDField(help_text="The freight order the award became.")
    rejected_offers = serializers.ListField(child=serializers.UUIDField())
