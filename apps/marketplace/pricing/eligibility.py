"""Whether an offering can carry a shipment (every limit it breaks), and the distance between
its places."""

from __future__ import annotations

from decimal import Decimal

from geopy.distance import great_circle

from apps.marketplace.pricing.values import (
    Distance,
    Place,
    Reason,
    Shipment,
)
from apps.marketplace.pricing.wording import _number, _temperature_range

_WEEKDAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


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
