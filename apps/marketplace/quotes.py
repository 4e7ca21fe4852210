"""Instant quotes: every published offering that can carry a shipment, priced.

A read: the SQL narrowing of the selectors, then apps.marketplace.pricing on each
candidate. With `explain`, every published offering is judged in Python so that each one
left out comes back with its reasons.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from apps.marketplace import selectors
from apps.marketplace.models import Rfq, ServiceOffering
from apps.marketplace.pricing import (
    Distance,
    Exclusion,
    Place,
    Quote,
    Shipment,
    quote_as_dict,
    quote_offering,
    shipment_distance,
)

__all__ = ["Exclusion", "Quote", "QuoteResult", "quote_as_dict", "quote_offering_for_rfq", "quote_shipment"]

SORTS = ("price", "transit_time")


@dataclass(frozen=True)
class QuoteResult:
    quotes: list[tuple[ServiceOffering, Quote]]
    excluded: list[tuple[ServiceOffering, Exclusion]]
    excluded_by_reason: dict[str, int]
    distance: Distance


def _sort_key(sort: str):
    # Prices in different currencies are never compared (no conversion moves money here):
    # by price, quotes are grouped by currency, cheapest first within each.
    if sort == "transit_time":
        return lambda pair: (pair[1].transit_days, pair[1].currency, pair[1].total, str(pair[0].id))
    return lambda pair: (pair[1].currency, pair[1].total, pair[1].transit_days, str(pair[0].id))


def quote_shipment(*, shipment: Shipment, now: datetime, sort: str = "price", explain: bool = False) -> QuoteResult:
    """Quotes of every offering that can carry `shipment`, sorted; with `explain`, also the
    offerings left out and why."""
    distance = shipment_distance(shipment)
    if explain:
        candidates = selectors.with_pricing_tariffs(selectors.offering_list_published())
    else:
        candidates = selectors.offerings_for_quote(shipment=shipment)
    quotes, excluded = [], []
    for offering in candidates:
        tariffs = offering.pricing_tariffs
        result = quote_offering(offering=offering, tariffs=tariffs, shipment=shipment, distance=distance, now=now)
        if isinstance(result, Exclusion):
            if explain:
                excluded.append((offering, result))
        else:
            quotes.append((offering, result))
    quotes.sort(key=_sort_key(sort))
    by_reason = Counter(reason.code for _, exclusion in excluded for reason in exclusion.reasons)
    return QuoteResult(quotes=quotes, excluded=excluded, excluded_by_reason=dict(by_reason), distance=distance)


def _place(place: dict) -> Place:
    def coordinate(name):
        value = place.get(name)
        return Decimal(str(value)) if value is not None else None

    return Place(
        country=place["country"],
        city=place.get("city", ""),
        latitude=coordinate("latitude"),
        longitude=coordinate("longitude"),
    )


def shipment_from_rfq(rfq: Rfq) -> Shipment:
    """The RFQ's cargo as a shipment from its first segment's origin to its last segment's destination."""
    first, last = rfq.segments[0], rfq.segments[-1]
    pickup = first.get("pickup_date")
    return Shipment(
        origin=_place(first["origin"]),
        destination=_place(last["destination"]),
        weight_kg=rfq.weight_kg,
        volume_cbm=rfq.volume_cbm,
        length_cm=rfq.length_cm,
        width_cm=rfq.width_cm,
        height_cm=rfq.height_cm,
        pallet_count=rfq.pallet_count,
        cargo_type=rfq.cargo_type,
        hazmat_class=rfq.hazmat_class,
        temperature_min_c=rfq.temperature_min_c,
        temperature_max_c=rfq.temperature_max_c,
        pickup_date=date.fromisoformat(pickup) if pickup else None,
    )


def quote_offering_for_rfq(*, offering: ServiceOffering, rfq: Rfq, now: datetime) -> Quote | Exclusion:
    """What `offering` would charge for the RFQ's cargo (tariffs prefetched or read now)."""
    shipment = shipment_from_rfq(rfq)
    tariffs = [tariff for tariff in offering.tariffs.all() if tariff.is_active]
    return quote_offering(
        offering=offering, tariffs=tariffs, shipment=shipment, distance=shipment_distance(shipment), now=now
    )
