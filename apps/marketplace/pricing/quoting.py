"""The itemized price of an offering for a shipment, or every reason it cannot price it
(the steps are the package's docstring)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from apps.core.money import round_money
from apps.marketplace.models import PricingModel, TariffType, TariffUnit
from apps.marketplace.pricing.eligibility import ineligibility_reasons
from apps.marketplace.pricing.pallets import Pallets, shipment_pallets
from apps.marketplace.pricing.values import (
    Distance,
    Exclusion,
    PriceLine,
    Quote,
    Reason,
    Shipment,
)
from apps.marketplace.pricing.wording import _number, _range

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
    pallets = shipment_pallets(shipment)
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
        line = _tariff_line(tariff, quantity, rate, multiplier, None, calculated, currency, pallets)
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
            line = _tariff_line(tariff, quantity, rate, multiplier, share_of, calculated, currency, pallets)
            lines.append(line)
            subtotal += line.amount

    if subtotal < ZERO:
        subtotal = round_money(ZERO, currency)
    if subtotal == ZERO and not offering.is_free:
        # A 0.00 price is far more often a tariff left unfinished than a gift: quoting it would
        # put a carrier at the top of every ranking at a price it never meant.
        return Exclusion(
            offering_id=offering.id,
            reasons=(
                Reason(
                    "zero_price",
                    f"Prices this shipment at {format(subtotal, 'f')} {currency}; a service is quoted "
                    "at no charge only when its carrier marks it free.",
                ),
            ),
        )
    return Quote(
        offering_id=offering.id,
        currency=currency,
        lines=tuple(lines),
        total=subtotal,
        transit_days=offering.transit_days,
        skipped_tariffs=tuple(skipped),
    )


def _tariff_line(tariff, quantity, rate, multiplier, base, calculated, currency, pallets: Pallets) -> PriceLine:
    clamped_to = None
    charged = calculated
    minimum, maximum = tariff.minimum_charge, tariff.maximum_charge
    if minimum is not None and calculated < minimum:
        charged, clamped_to = Decimal(minimum), "minimum"
    elif maximum is not None and calculated > maximum:
        charged, clamped_to = Decimal(maximum), "maximum"
    # A surcharge without a price per unit does not use its quantity: nothing to say about it.
    estimated = pallets.estimated and tariff.unit == _PALLET and (base is None or rate is not None)
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
        quantity_estimated=estimated,
        note=pallets.note if estimated else "",
    )


def _quantity(unit, weight, volume, km, pallets: Pallets) -> Decimal | None:
    """How many of `unit` the shipment is; None when the shipment does not say (pallets are
    estimated when not given)."""
    if unit == _FIXED:
        return ONE
    if unit == _KG:
        return weight
    if unit == _KM:
        return km
    if unit == _CBM:
        return volume
    if unit == _PALLET:
        return pallets.count
    raise ValueError(f"Unknown tariff unit {unit!r}")


_MISSING_CODES = {_KM: "distance_unknown", _CBM: "volume_unknown"}


def _need(missing: dict[str, list[str]], unit: str, what: str) -> None:
    missing.setdefault(_MISSING_CODES[unit], []).append(what)


def _missing_reasons(missing: dict[str, list[str]]) -> list[Reason]:
    reasons = []
    for code in ("distance_unknown", "volume_unknown"):
        needed_for = missing.get(code)
        if not needed_for:
            continue
        if code == "distance_unknown":
            what = "The distance is unknown (origin or destination has no coordinates)"
        else:
            what = "The volume is not given"
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
