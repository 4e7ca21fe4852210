"""Instant quotes: every published offering that can carry a shipment, priced.

A read: the SQL narrowing of the selectors, then apps.marketplace.pricing on each
candidate. With `explain`, every published offering is judged in Python so that each one
left out comes back with its reasons.

The ranking (how many can carry the shipment, and which `limit` come first) is cached per
shipment in Django's cache, keyed by the catalogue's version, so that any write to the
catalogue makes every entry unreachable at its commit (docs/marketplace.md, "Quotes at
scale"). The quotes shown are priced afresh on every request, from the rows of now.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from django.core.cache import cache

from apps.core.context import current_organization_id
from apps.marketplace import selectors
from apps.marketplace.models import Rfq, ServiceOffering
from apps.marketplace.pricing import (
    Distance,
    Exclusion,
    Place,
    Quote,
    Shipment,
    covers_cities,
    quote_as_dict,
    quote_offering,
    shipment_distance,
    tariff_moment,
)

__all__ = ["Exclusion", "Quote", "QuoteResult", "quote_as_dict", "quote_offering_for_rfq", "quote_shipment"]

logger = logging.getLogger(__name__)

SORTS = ("price", "transit_time")


@dataclass(frozen=True)
class QuoteResult:
    quotes: list[tuple[ServiceOffering, Quote]]  # the first `limit`, in order
    total: int  # how many offerings can carry the shipment
    excluded: list[tuple[ServiceOffering, Exclusion]]  # with `explain` only
    excluded_by_reason: dict[str, int]
    distance: Distance


def _order(sort: str, offering_id, currency: str, total: Decimal, transit_days: int) -> tuple:
    # Prices in different currencies are never compared (no conversion moves money here):
    # by price, quotes are grouped by currency, cheapest first within each.
    if sort == "transit_time":
        return (transit_days, currency, total, str(offering_id))
    return (currency, total, transit_days, str(offering_id))


def _quote_order(sort: str):
    return lambda pair: _order(sort, pair[0].id, pair[1].currency, pair[1].total, pair[1].transit_days)


def quote_shipment(
    *, shipment: Shipment, now: datetime, sort: str = "price", explain: bool = False, limit: int = 20
) -> QuoteResult:
    """The first `limit` quotes of the offerings that can carry `shipment`, sorted, and how
    many there are; with `explain`, also the offerings left out and why.

    Without `explain`, the database computes every candidate's total to rank them
    (selectors.offering_totals_for_quote; or the cached ranking, see the module's docstring)
    and only the `limit` shown are priced here, with their breakdown; with it, every
    published offering is judged here."""
    distance = shipment_distance(shipment)
    if explain:
        return _judge_everything(shipment=shipment, distance=distance, now=now, sort=sort, limit=limit)
    moment = tariff_moment(shipment=shipment, now=now)
    total, shown = _ranking(shipment=shipment, distance=distance, moment=moment, sort=sort, limit=limit)
    offerings = selectors.with_pricing_tariffs(selectors.offering_list_published().filter(id__in=[r.id for r in shown]))
    by_id = {offering.id: offering for offering in offerings}
    quotes = []
    for row in shown:
        offering = by_id.get(row.id)
        if offering is None:  # withdrawn between the two reads
            continue
        result = quote_offering(
            offering=offering, tariffs=offering.pricing_tariffs, shipment=shipment, distance=distance, now=now
        )
        if isinstance(result, Exclusion) or result.total != row.total:
            # The two computations disagree: a bug (the ranking tests prove they agree). The
            # breakdown shown is pricing's; the ranking may be off for this offering.
            logger.error(
                "marketplace.quote_ranking_mismatch",
                extra={"offering_id": str(row.id), "ranked_total": str(row.total), "priced": repr(result)[:500]},
            )
            if isinstance(result, Exclusion):
                continue
        quotes.append((offering, result))
    quotes.sort(key=_quote_order(sort))
    return QuoteResult(quotes=quotes, total=total, excluded=[], excluded_by_reason={}, distance=distance)


# How long a ranking stays in the cache at most. Correctness never rests on it (the key
# names the catalogue's version, and a ranking judged at "now" ends at the next tariff
# validity bound); it only bounds the memory an abandoned shipment holds.
RANKING_CACHE_SECONDS = 600
# v2: rankings estimate missing pallet counts and leave out totals of 0 (v1 entries did neither).
RANKING_KEY_PREFIX = "marketplace:quote-ranking:v2:"


@dataclass(frozen=True, slots=True)
class ShownRow:
    id: UUID
    total: Decimal


@dataclass(frozen=True, slots=True)
class CachedRanking:
    total: int  # how many offerings can carry the shipment
    shown: tuple[ShownRow, ...]  # the first `limit`, in order
    # When the shipment has no pickup date, tariffs are judged at "now": the ranking holds
    # for moments in [judged_at, holds_until) (None: without end). Both None with a pickup date.
    judged_at: datetime | None
    holds_until: datetime | None

    def holds_at(self, moment: datetime) -> bool:
        if self.judged_at is not None and moment < self.judged_at:
            return False
        return self.holds_until is None or moment < self.holds_until


def ranking_key(*, version: str, shipment: Shipment, distance: Distance, sort: str, limit: int) -> str:
    """The cache key of a ranking: everything it is computed from, exactly.

    The shipment with every field as given (Decimals by their exact digits: 1200 and 1200.0
    are two keys, never one key for two weights), its distance, the sort and the limit, the
    catalogue's version, the tenant (the rows it reads are the ones its policies admit), and
    today's date (the currencies in use, whose minor units round the totals, are today's)."""
    parts = (version, str(current_organization_id()), repr(shipment), repr(distance), sort, limit, date.today())
    return RANKING_KEY_PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()


def _ranking(*, shipment: Shipment, distance: Distance, moment: datetime, sort: str, limit: int):
    """(how many offerings can carry the shipment, the first `limit` rows in order), from the
    cache when the catalogue has not changed since it was computed, else from the database."""
    version = selectors.catalogue_version()
    key = None
    if version is not None:  # None: this transaction wrote to the catalogue; no cache either way
        key = ranking_key(version=version, shipment=shipment, distance=distance, sort=sort, limit=limit)
        cached = _cache_call(cache.get, key)
        if isinstance(cached, CachedRanking) and cached.holds_at(moment):
            return cached.total, cached.shown
    ranked = [
        row
        for row in selectors.offering_totals_for_quote(
            shipment=shipment, distance=distance, moment=moment, custom_plan_set=True
        )
        if covers_cities(origin_cities=row.origin_cities, destination_cities=row.destination_cities, shipment=shipment)
    ]
    ranked.sort(key=lambda row: _order(sort, row.id, row.currency, row.total, row.transit_days))
    shown = tuple(ShownRow(row.id, row.total) for row in ranked[:limit])
    if key is not None:
        judged_at = holds_until = None
        timeout = RANKING_CACHE_SECONDS
        if shipment.pickup_date is None:
            judged_at, holds_until = moment, selectors.next_tariff_change(moment=moment)
            if holds_until is not None:
                timeout = min(timeout, max(1, math.ceil((holds_until - moment).total_seconds())))
        entry = CachedRanking(total=len(ranked), shown=shown, judged_at=judged_at, holds_until=holds_until)
        _cache_call(cache.set, key, entry, timeout)
    return len(ranked), shown


def _cache_call(method, *args):
    """The cache is an accelerator: when it fails, the quote is computed as without it."""
    try:
        return method(*args)
    except Exception:  # any cache failure: logged, never the request's
        logger.warning("marketplace.quote_ranking_cache_unavailable", exc_info=True)
        return None


def _judge_everything(*, shipment: Shipment, distance: Distance, now: datetime, sort: str, limit: int) -> QuoteResult:
    quotes, excluded = [], []
    for offering in selectors.with_pricing_tariffs(selectors.offering_list_published()):
        tariffs = offering.pricing_tariffs
        result = quote_offering(offering=offering, tariffs=tariffs, shipment=shipment, distance=distance, now=now)
        if isinstance(result, Exclusion):
            excluded.append((offering, result))
        else:
            quotes.append((offering, result))
    quotes.sort(key=_quote_order(sort))
    by_reason = Counter(reason.code for _, exclusion in excluded for reason in exclusion.reasons)
    return QuoteResult(
        quotes=quotes[:limit],
        total=len(quotes),
        excluded=excluded,
        excluded_by_reason=dict(by_reason),
        distance=distance,
    )


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
