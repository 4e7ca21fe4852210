"""Matching a service order with experts: find the candidates in SQL, score them with the
explainable scorer (apps/service/matching.py), keep the best as matching results, and (URGENT
and HIGH orders) offer the order live to the RUSHING ones among them (services/dispatch.py).

Runs in the customer organization's scope: it reads published expert profiles (every tenant
may) and writes the order's matching results, rows of its own organization that name the
expert's organization as the other party (so the expert reads the one result about them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Func, Q, Value
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.core.errors import InvalidStateTransition, NotFound
from apps.service import matching, vocabulary
from apps.service.models import (
    ExpertArea,
    ExpertPassport,
    MatchingResult,
    MatchSourceType,
    MatchStatus,
    MatchTargetType,
    OfferStatus,
    ServiceOrder,
    ServiceOrderStatus,
    WorkStatus,
)
from apps.service.services.common import order_for_customer
from apps.service.services.dispatch import offers_round_open
from apps.service.transitions import OPEN_FOR_EXPERT


class AreaContainsSite(Func):
    """`box(point(min_lon, min_lat), point(max_lon, max_lat)) @> box(point(lon, lat), point(lon,
    lat))`: the expression of the GiST index on `service_expertarea` (migration 0002), asked
    whether the area contains the site (a point as a box: the GiST box operators take boxes)."""

    output_field = BooleanField()

    def __init__(self, *, longitude: float, latitude: float):
        area = ("area_min_longitude", "area_min_latitude", "area_max_longitude", "area_max_latitude")
        super().__init__(*(F(name) for name in area), Value(longitude), Value(latitude))

    def as_sql(self, compiler, connection, **extra_context):
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        min_lon, min_lat, max_lon, max_lat, lon, lat = (sql for sql, _ in compiled)
        params = [param for _, expression_params in compiled for param in expression_params]
        site_params = params[-2:]
        area = f"box(point({min_lon}, {min_lat}), point({max_lon}, {max_lat}))"
        return f"{area} @> box(point({lon}, {lat}), point({lon}, {lat}))", [*params, *site_params]


def _area_contains(*, longitude: float, latitude: float, industry: str):
    """The ids of the published experts of the industry whose area contains the site, from the
    GiST index of `service_expertarea` (migration 0002 says why not the passports table's)."""
    return ExpertArea.objects.filter(
        AreaContainsSite(longitude=longitude, latitude=latitude), industries__overlap=[industry]
    ).values("expert_id")


CANDIDATE_FIELDS = (
    "id",
    "organization_id",
    "user_id",
    "skills",
    "industry_code",
    "latitude",
    "longitude",
    "service_radius_km",
    "work_status",
    "rating_average",
    "rating_count",
    "membership_level",
    "membership_expires_at",
)
KM = Decimal("0.01")
logger = logging.getLogger(__name__)
# What the summary says of where the site is: coordinates to two decimals (about a kilometre).
AREA_PLACES = Decimal("0.01")


def _float(value) -> float | None:
    return None if value is None else float(value)


def candidates_queryset(order: ServiceOrder):
    """The experts who may do the order's work: published, not OFF_DUTY, with its skill or one
    of its industry, and (when the site has coordinates) whose service area contains it; those
    with the exact skill first, then by rating, at most MATCHING_CANDIDATES_CAP of them."""
    industry = matching.industry_of(order.required_skill)
    industry_skills = [vocabulary.skill_key(industry, skill) for skill in vocabulary.SKILLS.get(industry, {})]
    queryset = (
        ExpertPassport.objects.filter(is_published=True)
        .exclude(work_status=WorkStatus.OFF_DUTY)
        .filter(Q(skills__overlap=industry_skills) | Q(industry_code=industry))
    )
    if order.latitude is not None and order.longitude is not None:
        longitude, latitude = float(order.longitude), float(order.latitude)
        queryset = queryset.filter(id__in=_area_contains(longitude=longitude, latitude=latitude, industry=industry))
    exact = ExpressionWrapper(Q(skills__contains=[order.required_skill]), output_field=BooleanField())
    return queryset.annotate(has_skill=exact).order_by("-has_skill", "-rating_average", "id")[
        : settings.SERVICE["MATCHING_CANDIDATES_CAP"]
    ]


def _candidates(order: ServiceOrder) -> list[matching.ExpertCandidate]:
    rows = list(candidates_queryset(order).values(*CANDIDATE_FIELDS))
    booked = _booked_in_window(order, [row["id"] for row in rows])
    return [
        matching.ExpertCandidate(
            id=row["id"],
            organization_id=row["organization_id"],
            user_id=row["user_id"],
            skills=tuple(row["skills"]),
            industry_code=row["industry_code"],
            latitude=_float(row["latitude"]),
            longitude=_float(row["longitude"]),
            service_radius_km=row["service_radius_km"],
            work_status=row["work_status"],
            rating_average=row["rating_average"],
            rating_count=row["rating_count"],
            membership_level=row["membership_level"],
            membership_expires_at=row["membership_expires_at"],
            booked_in_window=row["id"] in booked,
        )
        for row in rows
    ]


def _booked_in_window(order: ServiceOrder, expert_ids: list[UUID]) -> set[UUID]:
    """The candidates holding another open order that overlaps this one's scheduled window.
    Those orders are other customers' rows: one read of their expert ids alone, in the
    all-tenants scope (logged; a read-only look-up, so not audited on every match)."""
    if not expert_ids or order.scheduled_start is None or order.scheduled_end is None:
        return set()
    with system_scope(reason="service: which candidate experts are booked in an order's window", audit=False):
        return set(
            ServiceOrder.objects.filter(
                expert_id__in=expert_ids,
                status__in=OPEN_FOR_EXPERT,
                scheduled_start__lt=order.scheduled_end,
                scheduled_end__gt=order.scheduled_start,
            )
            .exclude(id=order.id)
            .values_list("expert_id", flat=True)
        )


def need_of(order: ServiceOrder, now: datetime) -> matching.WorkNeed:
    return matching.WorkNeed(
        required_skill=order.required_skill,
        urgency=order.urgency,
        latitude=_float(order.latitude),
        longitude=_float(order.longitude),
        now=now,
    )


def _rounded(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(AREA_PLACES, rounding=ROUND_HALF_UP))


def summary_of(order: ServiceOrder, distance: Decimal | None) -> dict:
    """What the candidate expert reads of the order before it is theirs: what, how urgent, the
    skill, roughly where (coordinates to about a kilometre, no address), when, how far."""
    return {
        "number": order.number,
        "title": order.title,
        "urgency": order.urgency,
        "required_skill": order.required_skill,
        "required_skill_label": vocabulary.skill_label(order.required_skill),
        "area": (
            {"latitude": _rounded(order.latitude), "longitude": _rounded(order.longitude)}
            if order.latitude is not None
            else None
        ),
        "scheduled_start": order.scheduled_start.isoformat() if order.scheduled_start else None,
        "scheduled_end": order.scheduled_end.isoformat() if order.scheduled_end else None,
        "distance_km": str(distance) if distance is not None else None,
    }


def _distance(need: matching.WorkNeed, candidate: matching.ExpertCandidate) -> Decimal | None:
    distance = matching.distance_km(need, candidate)
    return None if distance is None else Decimal(str(distance)).quantize(KM, rounding=ROUND_HALF_UP)


def _store(order: ServiceOrder, ranked: list[matching.Scored], need: matching.WorkNeed) -> list[MatchingResult]:
    """Replace the order's results that nobody has acted on (NEW, never offered) with the new
    best MATCHING_KEEP; results with a history (offered, viewed, contacted, dismissed) stay, with
    their score and breakdown brought up to date while their expert is still among the best,
    ranked after the new ones otherwise."""
    existing = list(
        MatchingResult.objects.select_for_update().filter(
            organization_id=order.organization_id, source_type=MatchSourceType.SERVICE_ORDER, source_id=order.id
        )
    )
    kept = {
        row.target_id: row for row in existing if row.offer_status != OfferStatus.NONE or row.status != MatchStatus.NEW
    }
    replaced = [row.id for row in existing if row.target_id not in kept]
    if replaced:
        MatchingResult.objects.filter(id__in=replaced).delete()
    best = ranked[: settings.SERVICE["MATCHING_KEEP"]]
    now = need.now
    created, updated = [], []
    for item in best:
        candidate = item.candidate
        distance = _distance(need, candidate)
        fields = {
            "score": item.score,
            "breakdown": item.breakdown,
            "rank": item.rank,
            "distance_km": distance,
            "summary": summary_of(order, distance),
        }
        row = kept.pop(candidate.id, None)
        if row is None:
            created.append(
                MatchingResult(
                    organization_id=order.organization_id,
                    target_organization_id=candidate.organization_id,
                    source_type=MatchSourceType.SERVICE_ORDER,
                    source_id=order.id,
                    target_type=MatchTargetType.EXPERT,
                    target_id=candidate.id,
                    target_user_id=candidate.user_id,
                    **fields,
                )
            )
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            updated.append(row)
    for position, row in enumerate(sorted(kept.values(), key=lambda row: (row.rank, str(row.id))), start=len(best) + 1):
        row.rank = position
        updated.append(row)
    MatchingResult.objects.bulk_create(created)
    if updated:
        for row in updated:
            row.updated_at = now
        MatchingResult.objects.bulk_update(
            updated, ["score", "breakdown", "rank", "distance_km", "summary", "updated_at"]
        )
    return sorted([*created, *updated], key=lambda row: row.rank)


def _locked_order(*, organization_id: UUID, service_order_id: UUID) -> ServiceOrder:
    order = (
        ServiceOrder.objects.select_for_update().filter(organization_id=organization_id, id=service_order_id).first()
    )
    if order is None:
        raise NotFound("Service order not found.")
    return order


def _match(order: ServiceOrder, *, actor: Actor, now: datetime) -> list[MatchingResult]:
    need = need_of(order, now)
    candidates = _candidates(order)
    ranked = matching.experts_rank(need, candidates, weights=settings.SERVICE["MATCHING_WEIGHTS"])
    results = _store(order, ranked, need)
    offered = offers_round_open(order, actor=actor, now=now)
    logger.info(
        "service.order_matched",
        extra={
            "service_order_id": str(order.id),
            "candidates": len(candidates),
            "matched": len(ranked),
            "kept": len(results),
            "offered": len(offered),
        },
    )
    return results


@transaction.atomic
def service_order_match(*, actor: Actor, service_order_id: UUID, now: datetime | None = None) -> list[MatchingResult]:
    """Match a PENDING order of the actor's organization with experts and keep the best
    (MATCHING_KEEP) as matching results, each with its score and breakdown; an URGENT or HIGH
    order is then offered live to the RUSHING experts among them (a round of OFFER_BATCH), when
    no round is open and rounds remain. Idempotent: run again, it replaces the results nobody
    has acted on and keeps those with a history. An order that is no longer PENDING is left as
    it is ([]). Called when an order is created and when it comes back to PENDING."""
    order = _locked_order(organization_id=actor.organization_id, service_order_id=service_order_id)
    if order.status != ServiceOrderStatus.PENDING:
        return []
    return _match(order, actor=actor, now=now or timezone.now())


@transaction.atomic
def service_order_rematch(
    *, actor: Actor, service_order_id: UUID, own_user_id: UUID | None = None
) -> list[MatchingResult]:
    """The customer asks for the matching again (e.g. after changing the site or the skill, or
    when new experts joined): as `service_order_match`, for an order they may manage (`:own`
    grants: one they asked for or are the customer of; 404 otherwise). 422 unless PENDING."""
    order = order_for_customer(actor=actor, service_order_id=service_order_id, own_user_id=own_user_id)
    if order.status != ServiceOrderStatus.PENDING:
        raise InvalidStateTransition(
            f"A service order that is {order.status} is not matched again.",
            details={"status": ["Matching runs while the order is PENDING."]},
        )
    return _match(order, actor=actor, now=timezone.now())
