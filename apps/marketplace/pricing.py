"""Whether a service offering can carry a shipment, and its price, itemized.

Pure: it receives the offering and its tariffs already loaded and never queries. Amounts are
`Decimal`, never float.

Distance: the great-circle distance between origin and destination when both have
coordinates, rounded to 0.1 km (method "great_circle"); otherwise unknown (method "unknown").

Eligibility (`ineligibility_reasons`): every failing rule is reported, not only the first. A
limit the offering leaves empty is no limit, except hazmat: an empty hazmat list carries no
dangerous goods. Countries and cities compare case-insensitively; a blank city is not in a
non-empty city list. Dimensions are compared one by one (no rotation). A shipment's
temperature bound that is not given is not checked; an offering's that is empty is open.

Pricing (`quote_offering`): an offering with eligibility reasons is an `Exclusion`, and so is
one whose price needs a quantity the shipment lacks (`distance_unknown`, `volume_unknown`,
`pallet_count_unknown`); all reasons are collected together.

A tariff is judged at the pickup date at 00:00 UTC, or at `now` without a pickup date. It
applies when it is active, valid_from <= moment < valid_until (each bound optional), the
weight is inside [min_weight_kg, max_weight_kg] and, when it has a distance range, the
distance is inside [min_distance_km, max_distance_km] (bounds inclusive, empty = open). A
tariff that does not apply is listed in `skipped_tariffs` with its reason. An applicable
tariff charged per km, m³ or pallet needs that quantity; so does a distance range.

Quantities: kg = weight, cbm = volume, km = distance, pallet = pallet count, fixed = 1.
Each line's amount is rounded to the currency's minor units, half to even; the total is
the sum of the rounded amounts, so the breakdown always adds up.
1. Base price (the offering): base_price x 1 (fixed), weight (per_kg), km (per_km) or
   volume (per_cbm). Not clamped.
2. Tariffs `base` and `distance`, in the order given: price_per_unit (empty = 0) x quantity
   x the tariff's seasonal_multiplier x its fuel_multiplier, clamped to
   [minimum_charge, maximum_charge] (each optional).
3. S = base price + the lines of step 2.
4. Tariffs `seasonal`: S x (seasonal_multiplier - 1) + price_per_unit x quantity (when a
   price is set), clamped. A multiplier below 1 is a discount (a negative line).
5. S2 = S + the seasonal lines.
6. Tariffs `fuel_surcharge`: S2 x (fuel_multiplier - 1) + price_per_unit x quantity (when
   set), clamped.
7. Total = S2 + the fuel surcharge lines, floored at 0: a total below 0 is 0, with no
   line added for the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from geopy.distance import great_circle

from apps.core.money import round_money
from apps.marketplace.models import PricingModel, TariffType, TariffUnit

__all__ = [
    "Distance",
    "Exclusion",
    "Place",
    "PriceLine",
    "Quote",
    "Reason",
    "Shipment",
    "covers_cities",
    "ineligibility_reasons",
    "quote_as_dict",
    "quote_offering",
    "shipment_distance",
    "tariff_moment",
]

ONE = Decimal(1)
ZERO = Decimal(0)

# Plain strings: comparing against a str-enum member is slower than against a str.
_FIXED = str(TariffUnit.FIXED)
_KG = str(TariffUnit.KG)
_CBM = str(TariffUnit.CBM)
_KM = str(TariffUnit.KM)
_PALLET = str(TariffUnit.PALLET)
_PER_UNIT_TYPES = frozenset({str(TariffType.BASE), str(TariffType.DISTANCE)})
_SEASONAL = str(TariffType.SEASONAL)
_FUEL_SURCHARGE = str(TariffType.FUEL_SURCHARGE)
# The offering's pricing model -> the unit its base price is per.
_MODEL_UNITS = {
    str(PricingModel.FIXED): _FIXED,
    str(PricingModel.PER_KG): _KG,
    str(PricingModel.PER_KM): _KM,
    str(PricingModel.PER_CBM): _CBM,
}
_UNIT_NAMES = {_FIXED: "fixed", _KG: "kg", _CBM: "m³", _KM: "km", _PALLET: "pallet"}
_WEEKDAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Place:
    country: str
    city: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipment:
    origin: Place
    destination: Place
    weight_kg: Decimal
    volume_cbm: Decimal | None = None
    length_cm: int | None = None
    width_cm: int | None = None
    height_cm: int | None = None
    pallet_count: int | None = None
    cargo_type: str = "general"
    hazmat_class: str = ""
    temperature_min_c: Decimal | None = None
    temperature_max_c: Decimal | None = None
    pickup_date: date | None = None
    service_type: str = ""  # optional filter
    currency: str = ""  # optional filter: only offerings priced in this currency


@dataclass(frozen=True, slots=True)
class Distance:
    km: Decimal | None
    method: str  # "great_circle" or "unknown"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceLine:
    name: str
    source: str  # "offering" for the base price, else "tariff"
    tariff_id: UUID | None
    tariff_type: str  # "" for the offering line
    unit: str
    quantity: Decimal
    rate: Decimal | None  # price per unit, or the offering's base_price
    multiplier: Decimal | None  # the multiplier applied; None when there is none (it is 1)
    base: Decimal | None  # the subtotal a surcharge line is a share of; None for per-unit lines
    calculated: Decimal  # before clamping, unrounded
    clamped_to: str | None  # "minimum", "maximum" or None
    amount: Decimal  # after clamping, rounded to the currency

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "tariff_id": None if self.tariff_id is None else str(self.tariff_id),
            "tariff_type": self.tariff_type,
            "unit": self.unit,
            "quantity": _decimal_text(self.quantity),
            "rate": _decimal_text(self.rate),
            "multiplier": _decimal_text(self.multiplier),
            "base": _decimal_text(self.base),
            "calculated": _decimal_text(self.calculated),
            "clamped_to": self.clamped_to,
            "amount": _decimal_text(self.amount),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    offering_id: UUID
    currency: str
    lines: tuple[PriceLine, ...]
    total: Decimal
    transit_days: int
    skipped_tariffs: tuple[tuple[UUID, Reason], ...]  # tariffs that did not apply, and why

    def to_dict(self) -> dict[str, Any]:
        """The quote as JSON-ready data (amounts as strings): the API's and an offer's stored breakdown."""
        return {
            "offering_id": str(self.offering_id),
            "currency": self.currency,
            "lines": [line.to_dict() for line in self.lines],
            "total": _decimal_text(self.total),
            "transit_days": self.transit_days,
            "skipped_tariffs": [
                {"tariff_id": str(tariff_id), "code": reason.code, "message": reason.message}
                for tariff_id, reason in self.skipped_tariffs
            ],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Exclusion:
    offering_id: UUID
    reasons: tuple[Reason, ...]  # all of them, not only the first

    def to_dict(self) -> dict[str, Any]:
        return {
            "offering_id": str(self.offering_id),
            "reasons": [{"code": reason.code, "message": reason.message} for reason in self.reasons],
        }


def quote_as_dict(quote: Quote) -> dict[str, Any]:
    """The quote as JSON-ready data (amounts as strings); the same as `quote.to_dict()`."""
    return quote.to_dict()


def shipment_distance(shipment: Shipment) -> Distance:
    """The great-circle distance from origin to destination to 0.1 km, or unknown without coordinates."""
    origin, destination = shipment.origin, shipment.destination
    if None in (origin.latitude, origin.longitude, destination.latitude, destination.longitude):
        return Distance(km=None, method="unknown")
    km = great_circle(
        (float(origin.latitude), float(origin.longitude)),
        (float(destination.latitude), float(destination.longitude)),
    ).km
    return Distance(km=Decimal(str(round(km, 1))), method="great_circle")


def ineligibility_reasons(*, offering, shipment: Shipment) -> list[Reason]:
    """Every limit of the offering the shipment breaks; empty when it can carry it."""
    reasons: list[Reason] = []
    if shipment.service_type and shipment.service_type != offering.service_type:
        reasons.append(
            Reason(
                "service_type_differs",
                f"Asks for {shipment.service_type}; this service is {offering.service_type}.",
            )
        )
    if shipment.currency and shipment.currency != offering.currency:
        reasons.append(
            Reason(
                "currency_differs",
                f"Asks for prices in {shipment.currency}; this service is priced in {offering.currency}.",
            )
        )
    origin_problem = _coverage_problem(
        shipment.origin, offering.origin_countries, offering.origin_cities, "Picks up", "picks up"
    )
    if origin_problem:
        reasons.append(Reason("origin_not_covered", origin_problem))
    destination_problem = _coverage_problem(
        shipment.destination, offering.destination_countries, offering.destination_cities, "Delivers", "delivers"
    )
    if destination_problem:
        reasons.append(Reason("destination_not_covered", destination_problem))

    max_weight = offering.max_weight_kg
    if max_weight is not None and shipment.weight_kg > max_weight:
        reasons.append(
            Reason(
                "too_heavy",
                f"Weighs {_number(shipment.weight_kg)} kg; this service carries at most {_number(max_weight)} kg.",
            )
        )
    max_volume = offering.max_volume_cbm
    if max_volume is not None and shipment.volume_cbm is not None and shipment.volume_cbm > max_volume:
        reasons.append(
            Reason(
                "too_voluminous",
                f"Measures {_number(shipment.volume_cbm)} m³; this service carries at most {_number(max_volume)} m³.",
            )
        )
    oversize = [
        f"{name} {given} cm is over its maximum of {maximum} cm"
        for name, given, maximum in (
            ("length", shipment.length_cm, offering.max_length_cm),
            ("width", shipment.width_cm, offering.max_width_cm),
            ("height", shipment.height_cm, offering.max_height_cm),
        )
        if given is not None and maximum is not None and given > maximum
    ]
    if oversize:
        message = "; ".join(oversize)
        reasons.append(Reason("too_large", message[0].upper() + message[1:] + "; no rotation is tried."))

    cargo_types = offering.cargo_types
    if cargo_types and shipment.cargo_type not in cargo_types:
        reasons.append(
            Reason(
                "cargo_type_not_carried",
                f"Cargo type {shipment.cargo_type}; this service carries only {', '.join(cargo_types)}.",
            )
        )
    hazmat_class = shipment.hazmat_class
    if hazmat_class and hazmat_class not in offering.hazmat_classes:
        carried = (
            f"only dangerous goods of class {', '.join(offering.hazmat_classes)}"
            if offering.hazmat_classes
            else "no dangerous goods"
        )
        reasons.append(
            Reason("hazmat_not_carried", f"Dangerous goods of class {hazmat_class}; this service carries {carried}.")
        )

    needed_min, needed_max = shipment.temperature_min_c, shipment.temperature_max_c
    if needed_min is not None or needed_max is not None:
        if not offering.temperature_controlled:
            reasons.append(
                Reason(
                    "temperature_not_controlled",
                    f"Must be kept {_temperature_range(needed_min, needed_max)}; "
                    "this service is not temperature-controlled.",
                )
            )
        else:
            kept_min, kept_max = offering.temperature_min_c, offering.temperature_max_c
            if (kept_min is not None and needed_min is not None and needed_min < kept_min) or (
                kept_max is not None and needed_max is not None and needed_max > kept_max
            ):
                reasons.append(
                    Reason(
                        "temperature_range_not_covered",
                        f"Must be kept {_temperature_range(needed_min, needed_max)}; "
                        f"this service keeps cargo {_temperature_range(kept_min, kept_max)}.",
                    )
                )

    pickup_date = shipment.pickup_date
    if offering.available_days and pickup_date is not None and pickup_date.isoweekday() not in offering.available_days:
        days = ", ".join(_WEEKDAYS[day] for day in sorted(offering.available_days) if 1 <= day <= 7)
        reasons.append(
            Reason(
                "not_available_on_pickup_day",
                f"Picked up on {_WEEKDAYS[pickup_date.isoweekday()]} {pickup_date.isoformat()}; "
                f"this service picks up only on {days}.",
            )
        )
    return reasons


def tariff_moment(*, shipment: Shipment, now: datetime) -> datetime:
    """When tariffs are judged for the shipment: its pickup date at 00:00 UTC, else `now`."""
    pickup_date = shipment.pickup_date
    if pickup_date is None:
        return now
    return datetime(pickup_date.year, pickup_date.month, pickup_date.day, tzinfo=UTC)


def quote_offering(*, offering, tariffs, shipment: Shipment, distance: Distance, now: datetime) -> Quote | Exclusion:
    """The offering's itemized price for the shipment, or every reason it cannot carry or price it.

    `tariffs` are the offering's Tariff instances; `now` (aware) is the moment tariffs are
    judged at when the shipment has no pickup date.
    """
    reasons = ineligibility_reasons(offering=offering, shipment=shipment)
    pickup_date = shipment.pickup_date
    moment = tariff_moment(shipment=shipment, now=now)
    weight = shipment.weight_kg
    km = distance.km
    volume = shipment.volume_cbm
    pallets = None if shipment.pallet_count is None else Decimal(shipment.pallet_count)
    # What a missing quantity is needed for, by reason code (only filled when one is missing).
    missing: dict[str, list[str]] = {}

    model_unit = _MODEL_UNITS.get(offering.pricing_model)
    if model_unit is None:
        raise ValueError(f"Unknown pricing model {offering.pricing_model!r} of offering {offering.id}")
    model_quantity = _quantity(model_unit, weight, volume, km, pallets)
    if model_quantity is None:
        _need(missing, model_unit, f"the base price per {_UNIT_NAMES[model_unit]}")

    skipped: list[tuple[UUID, Reason]] = []
    per_unit: list[tuple[Any, Decimal]] = []
    seasonal: list[tuple[Any, Decimal]] = []
    fuel: list[tuple[Any, Decimal]] = []
    for tariff in tariffs:
        if not tariff.is_active:
            skipped.append((tariff.id, Reason("tariff_inactive", f"Tariff '{tariff.name}' is inactive.")))
            continue
        valid_from, valid_until = tariff.valid_from, tariff.valid_until
        if (valid_from is not None and moment < valid_from) or (valid_until is not None and moment >= valid_until):
            skipped.append((tariff.id, _not_valid_reason(tariff, moment, pickup_date is not None)))
            continue
        min_weight, max_weight = tariff.min_weight_kg, tariff.max_weight_kg
        if (min_weight is not None and weight < min_weight) or (max_weight is not None and weight > max_weight):
            skipped.append(
                (
                    tariff.id,
                    Reason(
                        "tariff_weight_out_of_range",
                        f"Tariff '{tariff.name}' applies {_range(min_weight, max_weight, 'kg')}; "
                        f"the shipment weighs {_number(weight)} kg.",
                    ),
                )
            )
            continue
        min_distance, max_distance = tariff.min_distance_km, tariff.max_distance_km
        if min_distance is not None or max_distance is not None:
            if km is None:
                _need(missing, _KM, f"tariff '{tariff.name}' (applies {_range(min_distance, max_distance, 'km')})")
                continue
            if (min_distance is not None and km < min_distance) or (max_distance is not None and km > max_distance):
                skipped.append(
                    (
                        tariff.id,
                        Reason(
                            "tariff_distance_out_of_range",
                            f"Tariff '{tariff.name}' applies {_range(min_distance, max_distance, 'km')}; "
                            f"the distance is {_number(km)} km.",
                        ),
                    )
                )
                continue
        unit = tariff.unit
        quantity = _quantity(unit, weight, volume, km, pallets)
        if quantity is None:
            _need(missing, unit, f"tariff '{tariff.name}' (per {_UNIT_NAMES.get(unit, unit)})")
            continue
        tariff_type = tariff.tariff_type
        if tariff_type in _PER_UNIT_TYPES:
            per_unit.append((tariff, quantity))
        elif tariff_type == _SEASONAL:
            seasonal.append((tariff, quantity))
        elif tariff_type == _FUEL_SURCHARGE:
            fuel.append((tariff, quantity))
        else:
            raise ValueError(f"Unknown tariff type {tariff_type!r} of tariff {tariff.id}")

    if missing:
        reasons.extend(_missing_reasons(missing))
    if reasons:
        return Exclusion(offering_id=offering.id, reasons=tuple(reasons))

    currency = offering.currency
    base_price = offering.base_price
    calculated = base_price * model_quantity
    amount = round_money(calculated, currency)
    lines = [
        PriceLine(
            name="Base price",
            source="offering",
            tariff_id=None,
            tariff_type="",
            unit=model_unit,
            quantity=model_quantity,
            rate=base_price,
            multiplier=None,
            base=None,
            calculated=calculated,
            clamped_to=None,
            amount=amount,
        )
    ]
    subtotal = amount

    for tariff, quantity in per_unit:
        multiplier = tariff.seasonal_multiplier * tariff.fuel_multiplier
        rate = tariff.price_per_unit
        calculated = (ZERO if rate is None else rate) * quantity * multiplier
        line = _tariff_line(tariff, quantity, rate, multiplier, None, calculated, currency)
        lines.append(line)
        subtotal += line.amount

    # Seasonal lines are a share of the per-unit subtotal; fuel lines of the subtotal after them.
    for surcharges, multiplier_field in ((seasonal, "seasonal_multiplier"), (fuel, "fuel_multiplier")):
        share_of = subtotal
        for tariff, quantity in surcharges:
            multiplier = getattr(tariff, multiplier_field)
            rate = tariff.price_per_unit
            calculated = share_of * (multiplier - ONE)
            if rate is not None:
                calculated += rate * quantity
            line = _tariff_line(tariff, quantity, rate, multiplier, share_of, calculated, currency)
            lines.append(line)
            subtotal += line.amount

    if subtotal < ZERO:
        subtotal = round_money(ZERO, currency)
    return Quote(
        offering_id=offering.id,
        currency=currency,
        lines=tuple(lines),
        total=subtotal,
        transit_days=offering.transit_days,
        skipped_tariffs=tuple(skipped),
    )


def _tariff_line(tariff, quantity, rate, multiplier, base, calculated, currency) -> PriceLine:
    clamped_to = None
    charged = calculated
    minimum, maximum = tariff.minimum_charge, tariff.maximum_charge
    if minimum is not None and calculated < minimum:
        charged, clamped_to = Decimal(minimum), "minimum"
    elif maximum is not None and calculated > maximum:
        charged, clamped_to = Decimal(maximum), "maximum"
    return PriceLine(
        name=tariff.name,
        source="tariff",
        tariff_id=tariff.id,
        tariff_type=tariff.tariff_type,
        unit=tariff.unit,
        quantity=quantity,
        rate=rate,
        multiplier=None if multiplier == ONE else multiplier,
        base=base,
        calculated=calculated,
        clamped_to=clamped_to,
        amount=round_money(charged, currency),
    )


def _quantity(unit, weight, volume, km, pallets) -> Decimal | None:
    """How many of `unit` the shipment is; None when the shipment does not say."""
    if unit == _FIXED:
        return ONE
    if unit == _KG:
        return weight
    if unit == _KM:
        return km
    if unit == _CBM:
        return volume
    if unit == _PALLET:
        return pallets
    raise ValueError(f"Unknown tariff unit {unit!r}")


_MISSING_CODES = {_KM: "distance_unknown", _CBM: "volume_unknown", _PALLET: "pallet_count_unknown"}


def _need(missing: dict[str, list[str]], unit: str, what: str) -> None:
    missing.setdefault(_MISSING_CODES[unit], []).append(what)


def _missing_reasons(missing: dict[str, list[str]]) -> list[Reason]:
    reasons = []
    for code in ("distance_unknown", "volume_unknown", "pallet_count_unknown"):
        needed_for = missing.get(code)
        if not needed_for:
            continue
        if code == "distance_unknown":
            what = "The distance is unknown (origin or destination has no coordinates)"
        elif code == "volume_unknown":
            what = "The volume is not given"
        else:
            what = "The pallet count is not given"
        reasons.append(Reason(code, f"{what}; this service needs it for {', '.join(needed_for)}."))
    return reasons


def _not_valid_reason(tariff, moment: datetime, from_pickup_date: bool) -> Reason:
    bounds = []
    if tariff.valid_from is not None:
        bounds.append(f"from {tariff.valid_from.isoformat()}")
    if tariff.valid_until is not None:
        bounds.append(f"until {tariff.valid_until.isoformat()} (exclusive)")
    judged = f"the pickup date {moment.date().isoformat()}" if from_pickup_date else f"now ({moment.isoformat()})"
    return Reason(
        "tariff_not_valid_at_pickup",
        f"Tariff '{tariff.name}' is valid {' '.join(bounds)}; it was judged at {judged}.",
    )


def covers_cities(*, origin_cities, destination_cities, shipment: Shipment) -> bool:
    """Whether the city lists (empty = any) admit the shipment's cities, as eligibility judges them."""
    origin, destination = shipment.origin, shipment.destination
    origin_ok = not origin_cities or (bool(origin.city) and _listed(origin.city, origin_cities))
    return origin_ok and (
        not destination_cities or (bool(destination.city) and _listed(destination.city, destination_cities))
    )


def _coverage_problem(place: Place, countries, cities, verb: str, lower_verb: str) -> str:
    """Why `place` is outside the countries and cities listed ("" when it is inside)."""
    problems = []
    if countries and not _listed(place.country, countries):
        country = place.country or "(none given)"
        problems.append(f"{verb} in country {country}; this service {lower_verb} only in {', '.join(countries)}.")
    if cities and not (place.city and _listed(place.city, cities)):
        city = f"'{place.city}'" if place.city else "(none given)"
        problems.append(f"{verb} in city {city}; this service {lower_verb} only in {', '.join(cities)}.")
    return " ".join(problems)


def _listed(value: str, values) -> bool:
    folded = value.casefold()
    return any(listed.casefold() == folded for listed in values)


def _number(value) -> str:
    """A Decimal for a sentence: no trailing zeros, no exponent (1200.000 -> 1200)."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return str(value)


def _range(low, high, unit: str) -> str:
    if low is not None and high is not None:
        return f"from {_number(low)} {unit} to {_number(high)} {unit}"
    if low is not None:
        return f"from {_number(low)} {unit}"
    return f"up to {_number(high)} {unit}"


def _temperature_range(low, high) -> str:
    if low is not None and high is not None:
        return f"between {_number(low)} °C and {_number(high)} °C"
    if low is not None:
        return f"at {_number(low)} °C or warmer"
    if high is not None:
        return f"at {_number(high)} °C or colder"
    return "at any temperature"


def _decimal_text(value: Decimal | None) -> str | None:
    """Decimal -> str without exponent (0E-10 would be legal JSON-string but unreadable)."""
    return None if value is None else format(value, "f")
