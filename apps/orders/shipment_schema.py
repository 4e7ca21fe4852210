"""The shapes of a shipment's values, checked alike for the API, the award and later bookings,
and what a shipment must say before its goods are taken over (`shipment_missing`).

Every key is optional on input: a shipment fills up over time (the award knows the places and
the cargo, the shipper adds the consignee, the carrier its truck). `shipment_missing` says
which of them a CMR cannot travel without, and why.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.core.api.fields import CountryField, CurrencyField, StrictCharField, StrictEmailField
from apps.orders.shipment_models import Incoterms, PaymentInstructions

WEIGHT = {"max_digits": 12, "decimal_places": 3, "min_value": Decimal(0), "required": False, "allow_null": True}


def _text(max_length: int = 200, **kwargs) -> StrictCharField:
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


# Degrees with six decimals (about 0.1 m), the precision tracking stores positions with.
LATITUDE = {"max_digits": 8, "decimal_places": 6, "min_value": Decimal(-90), "max_value": Decimal(90)}
LONGITUDE = {"max_digits": 9, "decimal_places": 6, "min_value": Decimal(-180), "max_value": Decimal(180)}


class PlaceData(serializers.Serializer):
    address_lines = serializers.ListField(child=_text(), max_length=4, required=False)
    postcode = _text(20)
    city = _text(100)
    country = CountryField(required=False)
    # Where the place is, for the tracked route (optional: a CMR needs only the address).
    latitude = serializers.DecimalField(**LATITUDE, required=False, allow_null=True)
    longitude = serializers.DecimalField(**LONGITUDE, required=False, allow_null=True)

    def validate(self, attrs):
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            raise serializers.ValidationError("Give both latitude and longitude, or neither.")
        return attrs

    def to_representation(self, instance):
        # A place without coordinates is stored (and shown) as it was before they existed.
        place = super().to_representation(instance)
        for name in ("latitude", "longitude"):
            if name in place and place[name] is None:
                del place[name]
        return place


class PartyData(PlaceData):
    name = _text(300)
    contact_person = _text()
    phone = _text(32)
    email = StrictEmailField(required=False, allow_blank=True)
    tax_id = _text(32)


class TakingOverData(PlaceData):
    date = serializers.DateField(required=False, allow_null=True)
    time_from = serializers.TimeField(required=False, allow_null=True)
    time_until = serializers.TimeField(required=False, allow_null=True)


class DeliveryData(PlaceData):
    date_from = serializers.DateField(required=False, allow_null=True)
    date_until = serializers.DateField(required=False, allow_null=True)


class WaypointData(serializers.Serializer):
    KINDS = ["pickup", "stop", "border_crossing", "delivery"]

    kind = serializers.ChoiceField(choices=KINDS)
    place = PlaceData()
    date_from = serializers.DateField(required=False, allow_null=True)
    date_until = serializers.DateField(required=False, allow_null=True)


class DimensionsData(serializers.Serializer):
    length_cm = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    width_cm = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    height_cm = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class DangerousGoodsData(serializers.Serializer):
    un_number = StrictCharField(max_length=6, required=False, allow_blank=True)
    adr_class = _text(8)
    packing_group = serializers.ChoiceField(choices=["", "I", "II", "III"], required=False)


class TemperatureData(serializers.Serializer):
    min_c = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, allow_null=True)
    max_c = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, allow_null=True)


class MoneyData(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=15, decimal_places=3, min_value=Decimal(0))
    currency = CurrencyField()


class CargoLineData(serializers.Serializer):
    marks_and_numbers = _text()
    number_of_packages = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    method_of_packing = _text(100)
    nature_of_goods = _text(500)
    hs_code = _text(12)
    origin_country = CountryField(required=False)  # the certificate of origin's, per line
    gross_weight_kg = serializers.DecimalField(**WEIGHT)
    net_weight_kg = serializers.DecimalField(**WEIGHT)
    volume_m3 = serializers.DecimalField(**WEIGHT)
    dimensions = DimensionsData(required=False)
    dangerous_goods = DangerousGoodsData(required=False)
    temperature = TemperatureData(required=False)
    declared_value = MoneyData(required=False)


class ShipmentData(serializers.Serializer):
    """Every value a shipment holds, by the name of its column."""

    shipper = PartyData(required=False)
    consignee = PartyData(required=False)
    notify_party = PartyData(required=False)
    carrier = PartyData(required=False)
    successive_carriers = PartyData(many=True, required=False)
    taking_over = TakingOverData(required=False)
    delivery = DeliveryData(required=False)
    route = WaypointData(many=True, required=False)
    cargo_lines = CargoLineData(many=True, required=False)
    incoterms = serializers.ChoiceField(choices=["", *Incoterms.values], required=False)
    incoterms_place = _text()
    sender_instructions = _text(4000)
    payment_instructions = serializers.ChoiceField(choices=["", *PaymentInstructions.values], required=False)
    cash_on_delivery = MoneyData(required=False, allow_null=True)
    special_agreements = _text(4000)
    customer_reference = _text(64)
    booking_reference = _text(64)
    vehicle_plate = _text(20)
    trailer_plate = _text(20)
    driver_name = _text()
    carrier_reservations = _text(4000)
    carrier_observations = _text(4000)
    received_by = _text()
    delivered_at = serializers.DateTimeField(required=False, allow_null=True)


SHIPMENT_FIELDS = tuple(ShipmentData().fields)
# The carrier's part: the carrier edits it at any stage, and nothing else: its own party (CMR
# box 16) and the carriers it hands the goods on to (box 17), the vehicle, its reservations.
CARRIER_FIELDS = (
    "carrier",
    "successive_carriers",
    "vehicle_plate",
    "trailer_plate",
    "driver_name",
    "carrier_reservations",
    "carrier_observations",
    "received_by",
    "delivered_at",
)
# Everything else is the shipper's to say (parties, places, cargo, instructions).
SHIPPER_FIELDS = tuple(name for name in SHIPMENT_FIELDS if name not in CARRIER_FIELDS)


def shipment_values(data: dict) -> tuple[dict, dict]:
    """(values, errors): `data` checked and made JSON (decimals and dates as strings), each
    key kept as given; unknown keys are errors."""
    if not isinstance(data, dict):
        return {}, {"non_field_errors": ["Send an object of the shipment's fields."]}
    errors = {key: ["Not a field of the shipment."] for key in data if key not in SHIPMENT_FIELDS}
    checked = ShipmentData(data=data, partial=True)
    if not checked.is_valid():
        errors.update(checked.errors)
    if errors:
        return {}, errors
    values = checked.to_representation(checked.validated_data)
    # A nullable field absent from `data` comes back as None: only what was sent is a change.
    return {key: values[key] for key in data}, {}


# --- Completeness ------------------------------------------------------------------------------

_ADDRESS = ("name", "address_lines", "city", "country")


def _party_missing(shipment, name: str, box: str) -> list[tuple[str, str]]:
    party = getattr(shipment, name) or {}
    return [
        (f"{name}.{key}", f"CMR box {box}: the {name}'s {key.replace('_', ' ')}")
        for key in _ADDRESS
        if not party.get(key)
    ]


def _line_missing(index: int, line: dict) -> list[tuple[str, str]]:
    required = {
        "number_of_packages": "CMR box 7: number of packages",
        "method_of_packing": "CMR box 8: method of packing",
        "nature_of_goods": "CMR box 9: nature of the goods",
        "gross_weight_kg": "CMR box 11: gross weight in kg",
    }
    missing = [(f"cargo_lines[{index}].{key}", reason) for key, reason in required.items() if not line.get(key)]
    dangerous = line.get("dangerous_goods") or {}
    if dangerous.get("adr_class") and not dangerous.get("un_number"):
        missing.append(
            (f"cargo_lines[{index}].dangerous_goods.un_number", "ADR 5.4.1.1.1: the UN number of dangerous goods")
        )
    return missing


def delivery_missing(shipment) -> list[dict]:
    """What a proof of delivery needs beyond a complete shipment: who took the goods, and when."""
    missing = []
    if not shipment.received_by:
        missing.append({"field": "received_by", "reason": "Proof of delivery: the name of who took the goods over"})
    if not shipment.delivered_at:
        missing.append({"field": "delivered_at", "reason": "Proof of delivery: when the goods were delivered"})
    return missing


def fields_refused_to_shipper(data: dict) -> dict:
    """The keys of `data` that are the carrier's to say, each with why: {field: [reason]}."""
    return {name: ["Only the carrier edits this."] for name in data if name in CARRIER_FIELDS}


def shipment_missing(shipment) -> list[dict]:
    """The fields a shipment lacks before its goods may be taken over, each with why: [{field, reason}]."""
    missing = [*_party_missing(shipment, "shipper", "1"), *_party_missing(shipment, "consignee", "2")]
    delivery, taking_over = shipment.delivery or {}, shipment.taking_over or {}
    for key in ("city", "country"):
        if not delivery.get(key):
            missing.append((f"delivery.{key}", f"CMR box 3: the place of delivery ({key})"))
    for key in ("city", "country", "date"):
        if not taking_over.get(key):
            missing.append((f"taking_over.{key}", f"CMR box 4: the place and date of taking over ({key})"))
    if not shipment.cargo_lines:
        missing.append(("cargo_lines", "CMR boxes 6-12: at least one line of goods"))
    for index, line in enumerate(shipment.cargo_lines or []):
        missing.extend(_line_missing(index, line))
    missing.extend(_party_missing(shipment, "carrier", "16"))
    if not shipment.vehicle_plate:
        missing.append(
            ("vehicle_plate", "CMR box 16: the registration number of the vehicle that takes the goods over")
        )
    return [{"field": field, "reason": reason} for field, reason in missing]
