"""Explainable matching: candidates in, each scored factor by factor with the reason, ranked.

Pure: no database, no settings read here, no clock but the one passed in. The field-service
context scores experts for a service order with `EXPERT_FACTORS` (apps/service/services/
matching.py finds the candidates and stores the results); a later context (the equipment
marketplace) gives its own factors and candidates to `rank`.

How a score is made, exactly:
- each factor gives a value from 0 to 1 and a sentence saying why (or excludes the candidate:
  an expert outside their radius, off duty, without the skill or its industry);
- the value is rounded to four places, half up; its points are value x weight, rounded to four
  places, half up (weights are Decimal, e.g. settings.SERVICE["MATCHING_WEIGHTS"]);
- the score is the sum of the points, with nothing rounded after: the breakdown adds up to it;
- the ranking is by score, highest first, then the caller's tie-break (deterministic), and
  ranks are 1, 2, 3, ... with no two candidates sharing one.

The breakdown, as stored on a matching result and shown to the customer and the expert:
`{factor: {"value": "0.8125", "weight": "0.25", "points": "0.2031", "why": "..."}}`, the
numbers as decimal strings (never floats: their sum must be the score, digit for digit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from apps.service import vocabulary

FOUR_PLACES = Decimal("0.0001")
ZERO = Decimal("0.0000")
ONE = Decimal("1.0000")


@dataclass(frozen=True)
class Factor:
    """One factor's verdict on one candidate: a value from 0 to 1 and why."""

    value: Decimal
    why: str


# A factor reads what is needed and one candidate; None excludes the candidate.
FactorFunction = Callable[[Any, Any], Factor | None]


@dataclass(frozen=True)
class Scored:
    candidate: Any
    score: Decimal
    breakdown: dict[str, dict[str, str]]
    rank: int = 0


def four_places(value: float | Decimal) -> Decimal:
    """A factor's value clamped to 0..1 and rounded to four places, half up."""
    clamped = min(max(Decimal(str(value)), Decimal(0)), Decimal(1))
    return clamped.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def weights_of(raw: Mapping[str, float | str | Decimal], factors: Mapping[str, FactorFunction]) -> dict[str, Decimal]:
    """The weights as Decimal (from their written form: 0.35 is 0.35), one per factor."""
    if set(raw) != set(factors):
        raise ValueError(f"Matching weights {sorted(raw)} do not name the factors {sorted(factors)}.")
    weights = {name: Decimal(str(value)) for name, value in raw.items()}
    if any(weight < 0 for weight in weights.values()):
        raise ValueError("Matching weights are not negative.")
    return weights


def score_one(
    need: Any, candidate: Any, *, factors: Mapping[str, FactorFunction], weights: Mapping[str, Decimal]
) -> tuple[Decimal, dict[str, dict[str, str]]] | None:
    """(score, breakdown) of one candidate, or None when a factor excludes it."""
    breakdown: dict[str, dict[str, str]] = {}
    score = ZERO
    for name, factor in factors.items():
        verdict = factor(need, candidate)
        if verdict is None:
            return None
        value = four_places(verdict.value)
        weight = weights[name]
        points = (value * weight).quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)
        score += points
        breakdown[name] = {"value": str(value), "weight": str(weight), "points": str(points), "why": verdict.why}
    return score, breakdown


def rank(
    need: Any,
    candidates: Iterable[Any],
    *,
    factors: Mapping[str, FactorFunction],
    weights: Mapping[str, Decimal],
    tiebreak: Callable[[Any], tuple],
) -> list[Scored]:
    """Every candidate no factor excludes, scored and ranked (score descending, then
    `tiebreak(candidate)` ascending: it must tell any two candidates apart)."""
    scored = []
    for candidate in candidates:
        result = score_one(need, candidate, factors=factors, weights=weights)
        if result is not None:
            scored.append(Scored(candidate=candidate, score=result[0], breakdown=result[1]))
    scored.sort(key=lambda item: (-item.score, tiebreak(item.candidate)))
    return [
        Scored(candidate=item.candidate, score=item.score, breakdown=item.breakdown, rank=position)
        for position, item in enumerate(scored, start=1)
    ]


# --- Experts for a service order ---------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088
# Ratings are shrunk toward a prior: an expert with few ratings counts as if they also had
# PRIOR_RATINGS ratings of PRIOR_STARS (a Bayesian average), so one 5-star rating does not
# outrank a hundred 4.8s.
PRIOR_STARS = Decimal("3.5")
PRIOR_RATINGS = 5
# How available each work status makes an expert (OFF_DUTY experts are not candidates).
AVAILABILITY = {
    "AVAILABLE": (Decimal(1), "Available for work now."),
    "RUSHING": (Decimal(1), "Rushing: takes urgent work now."),
    "IDLE": (Decimal("0.5"), "Idle: not looking for work at the moment."),
    "BOOKED": (Decimal("0.3"), "Booked on another service order."),
    "IN_SERVICE": (Decimal("0.2"), "At work on another service order now."),
}
URGENT_LEVELS = ("URGENT", "HIGH")
MEMBERSHIP = {"DIAMOND": Decimal(1), "GOLD": Decimal("0.66"), "SILVER": Decimal("0.33"), "FREE": Decimal(0)}
SAME_INDUSTRY = Decimal("0.4")


@dataclass(frozen=True)
class WorkNeed:
    """What a service order needs, as matching reads it."""

    required_skill: str
    urgency: str
    latitude: float | None
    longitude: float | None
    now: datetime


@dataclass(frozen=True)
class ExpertCandidate:
    """An expert as matching reads them. `booked_in_window`: they hold another order in the
    order's scheduled window (their calendar)."""

    id: UUID
    organization_id: UUID
    user_id: UUID
    skills: tuple[str, ...]
    industry_code: str
    latitude: float | None
    longitude: float | None
    service_radius_km: int
    work_status: str
    rating_average: Decimal
    rating_count: int
    membership_level: str
    membership_expires_at: datetime | None
    booked_in_window: bool = False


def haversine_km(latitude_1: float, longitude_1: float, latitude_2: float, longitude_2: float) -> float:
    """The great-circle distance in km (the mean Earth radius)."""
    phi_1, phi_2 = math.radians(latitude_1), math.radians(latitude_2)
    d_phi = phi_2 - phi_1
    d_lambda = math.radians(longitude_2 - longitude_1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi_1) * math.cos(phi_2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_km(need: WorkNeed, candidate: ExpertCandidate) -> float | None:
    if None in (need.latitude, need.longitude, candidate.latitude, candidate.longitude):
        return None
    return haversine_km(need.latitude, need.longitude, candidate.latitude, candidate.longitude)


def industry_of(skill: str) -> str:
    return skill.partition(vocabulary.SEPARATOR)[0]


def skill_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    required = need.required_skill
    label = vocabulary.skill_label(required)
    if required in candidate.skills:
        return Factor(ONE, f"Has the required skill: {label} ({required}).")
    industry = industry_of(required)
    if candidate.industry_code == industry or any(industry_of(skill) == industry for skill in candidate.skills):
        name = vocabulary.INDUSTRIES.get(industry, industry)
        return Factor(SAME_INDUSTRY, f"Works in {name} ({industry}), though not on {label} ({required}) itself.")
    return None


def distance_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    if need.latitude is None or need.longitude is None:
        return Factor(ZERO, "The site has no coordinates: distance is not scored (0 for everyone).")
    distance = distance_km(need, candidate)
    if distance is None:
        return None  # an expert without a base point cannot say they reach the site
    radius = candidate.service_radius_km
    if radius <= 0 or distance > radius:
        return None
    return Factor(
        Decimal(str(1 - distance / radius)), f"{distance:.1f} km from the site, within the {radius} km they travel."
    )


def availability_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    if candidate.work_status not in AVAILABILITY:
        return None  # OFF_DUTY (or a status matching does not know): not a candidate
    if candidate.booked_in_window:
        return Factor(ZERO, "Booked for another service order in the scheduled window.")
    value, why = AVAILABILITY[candidate.work_status]
    return Factor(value, why)


def rating_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    count = max(candidate.rating_count, 0)
    average = Decimal(str(candidate.rating_average)) if count else Decimal(0)
    shrunk = (average * count + PRIOR_STARS * PRIOR_RATINGS) / (count + PRIOR_RATINGS)
    if not count:
        return Factor(shrunk / 5, f"No ratings yet: counted as {PRIOR_STARS} stars, the prior.")
    plural = "rating" if count == 1 else "ratings"
    return Factor(
        shrunk / 5,
        f"{average:.2f} stars from {count} {plural}, counted as {shrunk:.2f} "
        f"(shrunk toward {PRIOR_STARS} as if with {PRIOR_RATINGS} more ratings).",
    )


def urgency_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    if need.urgency not in URGENT_LEVELS:
        return Factor(ZERO, f"The order is {need.urgency}: rushing does not count (0 for everyone).")
    if candidate.work_status == "RUSHING":
        return Factor(ONE, f"Rushing, and the order is {need.urgency}: rushing experts come first.")
    return Factor(ZERO, f"Not rushing, and the order is {need.urgency}: rushing experts come first.")


def membership_is_active(candidate: ExpertCandidate, now: datetime) -> bool:
    return (
        candidate.membership_level != "FREE"
        and candidate.membership_expires_at is not None
        and candidate.membership_expires_at > now
    )


def membership_factor(need: WorkNeed, candidate: ExpertCandidate) -> Factor | None:
    level = candidate.membership_level
    if level == "FREE":
        return Factor(ZERO, "FREE membership: no tie-break advantage.")
    if not membership_is_active(candidate, need.now):
        return Factor(ZERO, f"The {level} membership has ended: counted as FREE.")
    until = candidate.membership_expires_at.date().isoformat()
    return Factor(MEMBERSHIP.get(level, ZERO), f"{level} member until {until}: breaks ties.")


EXPERT_FACTORS: dict[str, FactorFunction] = {
    "skill": skill_factor,
    "distance": distance_factor,
    "availability": availability_factor,
    "rating": rating_factor,
    "urgency": urgency_factor,
    "membership": membership_factor,
}


def expert_tiebreak(need: WorkNeed) -> Callable[[ExpertCandidate], tuple]:
    """Equal scores: the nearer expert, then the one with more ratings, then the id (always
    different): the same candidates rank the same way every time."""

    def key(candidate: ExpertCandidate) -> tuple:
        distance = distance_km(need, candidate)
        return (math.inf if distance is None else distance, -candidate.rating_count, str(candidate.id))

    return key


def experts_rank(
    need: WorkNeed, candidates: Iterable[ExpertCandidate], *, weights: Mapping[str, float | str | Decimal]
) -> list[Scored]:
    """The experts who can do the work, scored by `EXPERT_FACTORS` and ranked."""
    return rank(
        need,
        candidates,
        factors=EXPERT_FACTORS,
        weights=weights_of(weights, EXPERT_FACTORS),
        tiebreak=expert_tiebreak(need),
    )
