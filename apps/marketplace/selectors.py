"""Reads of the marketplace. Row-level security already decides which rows a tenant sees
(published offerings and RFQs, offers of which it is a party); these narrow them to what
each screen shows and shape them for their serializers. Each filter repeats the policy in
the application, so forgetting it can never widen what a tenant reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet

from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.core.money import currencies_in_use, minor_units
from apps.marketplace.models import (
    ANYWHERE,
    Booking,
    BookingStatusChange,
    LaneSide,
    Offer,
    OfferingLane,
    OfferRevision,
    OfferStatus,
    QuoteRecord,
    Rfq,
    RfqAudience,
    RfqStatus,
    RfqStatusChange,
    ServiceOffering,
    Tariff,
)
from apps.marketplace.pricing import Distance, Shipment, shipment_pallets

PUBLISHED = Q(is_active=True, is_hidden=False)


# --- Catalogue --------------------------------------------------------------------------------


def offering_list(*, organization_id: UUID, own_only: bool = False) -> QuerySet[ServiceOffering]:
    """Every published offering, and all of the organization's own (inactive or hidden too)."""
    own = Q(organization_id=organization_id)
    return ServiceOffering.objects.filter(own if own_only else own | PUBLISHED).order_by("name", "id")


def offering_list_published() -> QuerySet[ServiceOffering]:
    """Every offering in the catalogue now (active, not hidden), whoever owns it."""
    return ServiceOffering.objects.filter(PUBLISHED)


def offering_get(*, organization_id: UUID, offering_id: UUID) -> ServiceOffering:
    offering = offering_list(organization_id=organization_id).filter(pk=offering_id).first()
    if offering is None:
        raise NotFound("Service offering not found.")
    return offering


def tariff_list(*, organization_id: UUID, offering: ServiceOffering) -> QuerySet[Tariff]:
    """An offering's tariffs: all of them for its carrier, the active ones for everyone else."""
    queryset = Tariff.objects.filter(offering=offering)
    if offering.organization_id != organization_id:
        queryset = queryset.filter(is_active=True, offering_is_published=True)
    return queryset.order_by("tariff_type", "name", "id")


def tariff_get(*, organization_id: UUID, offering: ServiceOffering, tariff_id: UUID) -> Tariff:
    tariff = tariff_list(organization_id=organization_id, offering=offering).filter(pk=tariff_id).first()
    if tariff is None:
        raise NotFound("Tariff not found.")
    return tariff


def offerings_for_quote(*, shipment: Shipment) -> QuerySet[ServiceOffering]:
    """Published offerings whose limits admit the shipment, with their applicable tariffs.

    A narrowing in SQL of apps.marketplace.pricing.ineligibility_reasons (cities are left
    to it); tests/marketplace prove both agree."""
    return with_pricing_tariffs(offerings_for_quote_queryset(shipment=shipment))


def offerings_for_quote_queryset(*, shipment: Shipment) -> QuerySet[ServiceOffering]:
    """The narrowing of `offerings_for_quote`, without its tariffs."""
    queryset = offering_list_published()
    if shipment.service_type:
        queryset = queryset.filter(service_type=shipment.service_type)
    if shipment.currency:
        queryset = queryset.filter(currency=shipment.currency)
    # The lane, through OfferingLane's index (an empty list is ANYWHERE): the same as
    # `origin_countries = '{}' OR origin_countries @> '{DE}'`, which no index could answer here.
    queryset = queryset.filter(id__in=_lane(LaneSide.ORIGIN, shipment.origin.country)).filter(
        Q(id__in=_lane(LaneSide.DESTINATION, shipment.destination.country)),
        Q(max_weight_kg__isnull=True) | Q(max_weight_kg__gte=shipment.weight_kg),
        Q(cargo_types=[]) | Q(cargo_types__contains=[shipment.cargo_type]),
    )
    if shipment.volume_cbm is not None:
        queryset = queryset.filter(Q(max_volume_cbm__isnull=True) | Q(max_volume_cbm__gte=shipment.volume_cbm))
    for dimension in ("length_cm", "width_cm", "height_cm"):
        value = getattr(shipment, dimension)
        if value is not None:
            limit = f"max_{dimension}"
            queryset = queryset.filter(Q(**{f"{limit}__isnull": True}) | Q(**{f"{limit}__gte": value}))
    if shipment.hazmat_class:
        queryset = queryset.filter(hazmat_classes__contains=[shipment.hazmat_class])
    if shipment.temperature_min_c is not None or shipment.temperature_max_c is not None:
        queryset = queryset.filter(temperature_controlled=True)
        if shipment.temperature_min_c is not None:
            queryset = queryset.filter(
                Q(temperature_min_c__isnull=True) | Q(temperature_min_c__lte=shipment.temperature_min_c)
            )
        if shipment.temperature_max_c is not None:
            queryset = queryset.filter(
                Q(temperature_max_c__isnull=True) | Q(temperature_max_c__gte=shipment.temperature_max_c)
            )
    if shipment.pickup_date is not None:
        weekday = shipment.pickup_date.isoweekday()
        queryset = queryset.filter(Q(available_days=[]) | Q(available_days__contains=[weekday]))
    return queryset


def _lane(side: str, country: str) -> QuerySet:
    return OfferingLane.objects.filter(side=side, country__in=[country, ANYWHERE]).values("offering_id")


def with_pricing_tariffs(queryset: QuerySet[ServiceOffering]) -> QuerySet[ServiceOffering]:
    """Offerings with the tariffs pricing reads (`pricing_tariffs`), in one more query."""
    tariffs = Tariff.objects.filter(is_active=True).order_by("id")
    return queryset.prefetch_related(Prefetch("tariffs", queryset=tariffs, to_attr="pricing_tariffs")).order_by("id")


@dataclass(frozen=True, slots=True)
class RankedOffering:
    """An offering's total for a shipment as the database computes it, to rank by."""

    id: UUID
    currency: str
    total: Decimal
    transit_days: int
    origin_cities: list[str]
    destination_cities: list[str]


# The totals of apps.marketplace.pricing, in one statement over every candidate: the same
# applicability rules, the same order (base price, per-unit tariffs, seasonal on their sum,
# fuel on the sum after seasonal), each line clamped then rounded half to even to its
# currency's minor units (marketplace_round_half_even), the total floored at 0. Offerings
# whose price needs a quantity the shipment lacks are left out, as pricing excludes them, and
# so are those whose total is 0 unless marked free (`zero_price`). The pallets are pricing's
# own count, given or estimated (pricing.shipment_pallets), passed in as a parameter.
# tests/marketplace/test_quote_ranking.py proves the totals equal pricing's, line for line.
_TOTALS_SQL = """
WITH candidate AS MATERIALIZED ({candidates}),
shipment AS (
    SELECT %(weight)s::numeric AS w, %(volume)s::numeric AS v, %(km)s::numeric AS d,
           %(pallets)s::numeric AS p, %(moment)s::timestamptz AS m
),
places AS (
    SELECT currency, places, 10::numeric ^ (-places) AS unit
    FROM unnest(%(currencies)s::text[], %(places)s::int[]) AS g(currency, places)
),
tariff AS (
    SELECT t.offering_id, t.tariff_type, t.price_per_unit AS rate, t.minimum_charge AS lo, t.maximum_charge AS hi,
           t.seasonal_multiplier AS sm, t.fuel_multiplier AS fm,
           CASE t.unit WHEN 'fixed' THEN 1 WHEN 'kg' THEN s.w WHEN 'cbm' THEN s.v WHEN 'km' THEN s.d
                       WHEN 'pallet' THEN s.p END AS qty,
           (t.min_distance_km IS NOT NULL OR t.max_distance_km IS NOT NULL) AND s.d IS NULL AS needs_distance
    FROM marketplace_tariff t JOIN candidate c ON c.id = t.offering_id CROSS JOIN shipment s
    WHERE t.is_active
      AND (t.valid_from IS NULL OR s.m >= t.valid_from) AND (t.valid_until IS NULL OR s.m < t.valid_until)
      AND (t.min_weight_kg IS NULL OR s.w >= t.min_weight_kg) AND (t.max_weight_kg IS NULL OR s.w <= t.max_weight_kg)
      AND (s.d IS NULL OR ((t.min_distance_km IS NULL OR s.d >= t.min_distance_km)
                           AND (t.max_distance_km IS NULL OR s.d <= t.max_distance_km)))
),
unpriceable AS (SELECT offering_id FROM tariff WHERE qty IS NULL OR needs_distance GROUP BY offering_id),
priced AS (
    SELECT c.id, c.currency, c.transit_days, c.origin_cities, c.destination_cities, g.places, g.unit,
           marketplace_round_half_even(c.base_price * CASE c.pricing_model WHEN 'fixed' THEN 1 WHEN 'per_kg' THEN s.w
               WHEN 'per_km' THEN s.d WHEN 'per_cbm' THEN s.v END, g.places, g.unit) AS base_amount
    FROM candidate c JOIN places g ON g.currency = c.currency CROSS JOIN shipment s
    LEFT JOIN unpriceable x ON x.offering_id = c.id
    WHERE x.offering_id IS NULL
),
per_unit AS (
    SELECT p.*, p.base_amount + coalesce(sum(marketplace_round_half_even(
               LEAST(GREATEST(coalesce(t.rate, 0) * t.qty * t.sm * t.fm, t.lo), t.hi), p.places, p.unit)), 0) AS s1
    FROM priced p LEFT JOIN tariff t ON t.offering_id = p.id AND t.tariff_type IN ('base', 'distance')
    WHERE p.base_amount IS NOT NULL
    GROUP BY p.id, p.currency, p.transit_days, p.origin_cities, p.destination_cities, p.places, p.unit, p.base_amount
),
seasonal AS (
    SELECT u.*, u.s1 + coalesce(sum(marketplace_round_half_even(
               LEAST(GREATEST(u.s1 * (t.sm - 1) + coalesce(t.rate * t.qty, 0), t.lo), t.hi),
               u.places, u.unit)), 0) AS s2
    FROM per_unit u LEFT JOIN tariff t ON t.offering_id = u.id AND t.tariff_type = 'seasonal'
    GROUP BY u.id, u.currency, u.transit_days, u.origin_cities, u.destination_cities, u.places, u.unit,
             u.base_amount, u.s1
),
totalled AS (
    SELECT e.id, e.currency, GREATEST(e.s2 + coalesce(sum(marketplace_round_half_even(
               LEAST(GREATEST(e.s2 * (t.fm - 1) + coalesce(t.rate * t.qty, 0), t.lo), t.hi),
               e.places, e.unit)), 0), 0) AS total,
           e.transit_days, e.origin_cities, e.destination_cities
    FROM seasonal e LEFT JOIN tariff t ON t.offering_id = e.id AND t.tariff_type = 'fuel_surcharge'
    GROUP BY e.id, e.currency, e.transit_days, e.origin_cities, e.destination_cities, e.places, e.unit, e.s2
)
SELECT o.id, o.currency, o.total, o.transit_days, o.origin_cities, o.destination_cities
FROM totalled o JOIN candidate c ON c.id = o.id
WHERE o.total <> 0 OR c.is_free
"""


def offering_totals_for_quote(
    *, shipment: Shipment, distance: Distance, moment: datetime, custom_plan_set: bool = False
) -> list[RankedOffering]:
    """Every offering that `offerings_for_quote` admits and can price, with its total, in one
    query (cities are judged by the caller, as pricing judges them). `custom_plan_set`: the
    transaction's plan mode is set already (`catalogue_version` did it)."""
    candidates, candidate_params = (
        offerings_for_quote_queryset(shipment=shipment)
        .order_by()
        .values(
            "id",
            "currency",
            "transit_days",
            "origin_cities",
            "destination_cities",
            "pricing_model",
            "base_price",
            "is_free",
        )
        .query.sql_with_params()
    )
    currencies = sorted(currencies_in_use())
    params = {
        "weight": shipment.weight_kg,
        "volume": shipment.volume_cbm,
        "km": distance.km,
        "pallets": shipment_pallets(shipment).count,
        "moment": moment,
        "currencies": currencies,
        "places": [minor_units(currency) for currency in currencies],
    }
    # The candidates' own placeholders are positional; they are named here so both kinds mix.
    names = [f"candidate_{index}" for index in range(len(candidate_params))]
    params.update(zip(names, candidate_params, strict=True))
    candidates_sql = candidates.replace("%%", "%%%%") % tuple(f"%({name})s" for name in names)
    with connection.cursor() as cursor:
        # Planned for these very values: once psycopg has prepared the statement (after
        # DB_PREPARE_THRESHOLD runs on a connection), PostgreSQL would switch to a generic
        # plan, which blind to the shipment takes ~40 times as long (7.8 s against 0.2 s
        # over 10,000 offerings). Transaction-local, like the tenant.
        if not custom_plan_set:
            cursor.execute("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
        cursor.execute(_TOTALS_SQL.format(candidates=candidates_sql), params)
        return [RankedOffering(*row) for row in cursor.fetchall()]


def catalogue_version() -> str | None:
    """The catalogue's version (a new value at the commit of every write to offerings or
    tariffs: migration 0006), or None when this very transaction has written to the catalogue
    and not committed yet (what it reads then is named by no version).

    The same statement sets the transaction's plan mode for `offering_totals_for_quote`
    (`custom_plan_set=True`), so that a quote computed afresh sends no more statements than
    before the cache."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT version::text FROM marketplace_catalogueversion WHERE id = 1),"
            " coalesce(current_setting('marketplace.catalogue_written', true), '') = 'on',"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
        version, written_here, _ = cursor.fetchone()
    if written_here:
        return None
    return version or ""


def next_tariff_change(*, moment: datetime) -> datetime | None:
    """The first moment after `moment` at which a published tariff starts or stops being
    valid: until then, a ranking judged at `moment` holds (None: it holds for good)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT least(min(valid_from) FILTER (WHERE valid_from > %(m)s),"
            " min(valid_until) FILTER (WHERE valid_until > %(m)s))"
            " FROM marketplace_tariff WHERE is_active AND offering_is_published"
            " AND (valid_from > %(m)s OR valid_until > %(m)s)",
            {"m": moment},
        )
        return cursor.fetchone()[0]


# --- Quotes given out -------------------------------------------------------------------------


class QuoteExpired(DomainError):
    status_code = 422
    code = ErrorCode.QUOTE_EXPIRED


def quote_get_bookable(*, organization_id: UUID, quote_id: UUID, now: datetime) -> QuoteRecord:
    """The organization's quote record `quote_id`, while its price still holds.

    404 NOT_FOUND when it is not the organization's (or never was, or was cleaned up): another
    tenant's quote id reveals nothing; 422 QUOTE_EXPIRED from its `valid_until` on."""
    record = QuoteRecord.objects.visible_to(organization_id).filter(pk=quote_id).first()
    if record is None:
        raise NotFound("Quote not found.")
    if now >= record.valid_until:
        raise QuoteExpired(
            f"This quote was valid until {record.valid_until.isoformat()}: ask for a new quote.",
            details={"valid_until": [record.valid_until.isoformat()]},
        )
    return record


# --- RFQs -------------------------------------------------------------------------------------


def _visible_rfqs(organization_id: UUID) -> Q:
    open_to_carrier = Q(status=RfqStatus.OPEN) & (
        Q(audience=RfqAudience.PUBLIC) | Q(invited_organization_ids__contains=[organization_id])
    )
    return Q(organization_id=organization_id) | open_to_carrier | Q(awarded_organization_id=organization_id)


def rfq_list(*, organization_id: UUID) -> QuerySet[Rfq]:
    """The organization's own RFQs, the open ones it may answer, and the ones awarded to it.

    Each row carries `live_offer_count`, counted only for the owner's RFQs: a carrier never
    learns how many competitors answered."""
    return (
        Rfq.objects.filter(_visible_rfqs(organization_id))
        .annotate(
            live_offer_count=Count(
                "offers",
                filter=Q(offers__status=OfferStatus.SUBMITTED, offers__shipper_organization_id=organization_id),
            )
        )
        .order_by("-created_at", "-id")
    )


def rfq_get(*, organization_id: UUID, rfq_id: UUID) -> Rfq:
    rfq = rfq_list(organization_id=organization_id).filter(pk=rfq_id).first()
    if rfq is None:
        raise NotFound("RFQ not found.")
    return rfq


def rfq_history(*, rfq: Rfq) -> QuerySet[RfqStatusChange]:
    return RfqStatusChange.objects.filter(rfq=rfq, organization_id=rfq.organization_id).order_by("at", "id")


# --- Offers -----------------------------------------------------------------------------------


def offer_list(*, organization_id: UUID, submitted_by_id: UUID | None = None) -> QuerySet[Offer]:
    """Offers the organization made (as carrier) or received (as the RFQ's owner); with
    `submitted_by_id` (an `:own` grant) only those the user submitted."""
    queryset = Offer.objects.visible_to(organization_id).order_by("-created_at", "-id")
    if submitted_by_id is not None:
        queryset = queryset.filter(submitted_by_id=submitted_by_id)
    return queryset


def offer_list_for_rfq(*, organization_id: UUID, rfq: Rfq, submitted_by_id: UUID | None = None) -> QuerySet[Offer]:
    """The offers on an RFQ: all of them for its owner, a carrier's own for a carrier."""
    return offer_list(organization_id=organization_id, submitted_by_id=submitted_by_id).filter(rfq=rfq)


def offer_get(*, organization_id: UUID, offer_id: UUID, submitted_by_id: UUID | None = None) -> Offer:
    offer = (
        offer_list(organization_id=organization_id, submitted_by_id=submitted_by_id)
        .filter(pk=offer_id)
        .prefetch_related(Prefetch("revisions", queryset=OfferRevision.objects.order_by("version")))
        .first()
    )
    if offer is None:
        raise NotFound("Offer not found.")
    return offer


def offer_of_carrier(*, organization_id: UUID, rfq_id: UUID, carrier_organization_id: UUID) -> Offer | None:
    """The carrier's offer on the RFQ, as the organization asking sees it (the carrier itself, or
    the RFQ's owner); None when there is none or the asker is neither."""
    return (
        Offer.objects.visible_to(organization_id)
        .filter(rfq_id=rfq_id, carrier_organization_id=carrier_organization_id)
        .order_by("-created_at")
        .first()
    )


# --- Bookings ---------------------------------------------------------------------------------


def booking_list(*, organization_id: UUID, created_by_id: UUID | None = None) -> QuerySet[Booking]:
    """Bookings the organization made (as shipper) or received (as carrier); with
    `created_by_id` (an `:own` grant) only those the user made."""
    queryset = Booking.objects.visible_to(organization_id).order_by("-created_at", "-id")
    if created_by_id is not None:
        queryset = queryset.filter(created_by_id=created_by_id)
    return queryset


def booking_get(*, organization_id: UUID, booking_id: UUID, created_by_id: UUID | None = None) -> Booking:
    """One booking of either party's, with its history; 404 for anyone else's."""
    booking = (
        booking_list(organization_id=organization_id, created_by_id=created_by_id)
        .filter(pk=booking_id)
        .prefetch_related(Prefetch("status_changes", queryset=BookingStatusChange.objects.order_by("at", "id")))
        .first()
    )
    if booking is None:
        raise NotFound("Booking not found.")
    return booking


# --- What carried a freight order -------------------------------------------------------------


def offering_of_freight_order(*, organization_id: UUID, order_id: UUID) -> UUID | None:
    """The service offering that carried a freight order, as either of its parties sees it: the
    booked one, or the one the accepted offer was made from; None when the offer named none (or
    the order came from neither). Its reviews keep the offering's rating (apps.reviews)."""
    booked = (
        Booking.objects.visible_to(organization_id).filter(order_id=order_id).values_list("offering_id", flat=True)
    ).first()
    if booked is not None:
        return booked
    return (
        Offer.objects.visible_to(organization_id)
        .filter(rfq__order_id=order_id, status=OfferStatus.ACCEPTED)
        .values_list("service_offering_id", flat=True)
        .first()
    )
