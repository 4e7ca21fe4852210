"""The scorer alone (apps/service/matching.py), without a database: what any context gives it
(its own factors and candidates) comes back scored, explained and ranked by the stated rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from apps.service import matching
from apps.service.matching import Factor

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Machine:
    """A made-up candidate of another context (say, equipment for hire)."""

    name: str
    capacity: float
    in_stock: bool


def _capacity(need, machine):
    return Factor(Decimal(str(min(machine.capacity / need, 1))), f"{machine.capacity} of {need} needed.")


def _stock(need, machine):
    return Factor(Decimal(1), "In stock.") if machine.in_stock else None


def test_another_contexts_factors_score_explain_exclude_and_rank():
    factors = {"capacity": _capacity, "stock": _stock}
    weights = matching.weights_of({"capacity": 0.7, "stock": 0.3}, factors)
    machines = [Machine("small", 2.0, True), Machine("large", 10.0, True), Machine("gone", 10.0, False)]

    ranked = matching.rank(8.0, machines, factors=factors, weights=weights, tiebreak=lambda m: (m.name,))

    assert [(item.rank, item.candidate.name, item.score) for item in ranked] == [
        (1, "large", Decimal("1.0000")),
        (2, "small", Decimal("0.4750")),
    ]
    assert ranked[1].breakdown == {
        "capacity": {"value": "0.2500", "weight": "0.7", "points": "0.1750", "why": "2.0 of 8.0 needed."},
        "stock": {"value": "1.0000", "weight": "0.3", "points": "0.3000", "why": "In stock."},
    }


def test_values_and_points_round_half_up_to_four_places_and_the_score_is_their_exact_sum():
    factors = {"a": lambda need, c: Factor(Decimal("0.33335"), "a"), "b": lambda need, c: Factor(Decimal(2), "b")}
    weights = matching.weights_of({"a": "0.5", "b": "0.25"}, factors)

    score, breakdown = matching.score_one(None, object(), factors=factors, weights=weights)

    # 0.33335 -> 0.3334 (half up); x 0.5 = 0.1667; a value above 1 counts as 1
    assert (breakdown["a"]["value"], breakdown["a"]["points"]) == ("0.3334", "0.1667")
    assert (breakdown["b"]["value"], breakdown["b"]["points"]) == ("1.0000", "0.2500")
    assert score == Decimal("0.4167") == sum(Decimal(factor["points"]) for factor in breakdown.values())


def test_equal_scores_rank_by_the_tiebreak_every_time():
    factors = {"flat": lambda need, c: Factor(Decimal("0.5"), "same for all")}
    weights = matching.weights_of({"flat": 1}, factors)

    orders = [
        [
            item.candidate
            for item in matching.rank(None, names, factors=factors, weights=weights, tiebreak=lambda c: (c,))
        ]
        for names in (["c", "a", "b"], ["b", "c", "a"])
    ]

    assert orders == [["a", "b", "c"], ["a", "b", "c"]]


def test_weights_must_name_the_factors():
    with pytest.raises(ValueError):
        matching.weights_of({"skill": 1}, matching.EXPERT_FACTORS)


def _expert(**fields) -> matching.ExpertCandidate:
    values = {
        "id": UUID(int=1),
        "organization_id": UUID(int=2),
        "user_id": UUID(int=3),
        "skills": ("EL-MOT",),
        "industry_code": "EL",
        "latitude": 59.93428,
        "longitude": 30.335099,
        "service_radius_km": 50,
        "work_status": "AVAILABLE",
        "rating_average": Decimal(0),
        "rating_count": 0,
        "membership_level": "FREE",
        "membership_expires_at": None,
        **fields,
    }
    return matching.ExpertCandidate(**values)


def _need(**fields) -> matching.WorkNeed:
    values = {"required_skill": "EL-MOT", "urgency": "URGENT", "latitude": 59.93428, "longitude": 30.335099, "now": NOW}
    return matching.WorkNeed(**{**values, **fields})


def test_halfway_to_the_radius_scores_half_the_distance():
    # 25 km due north (a degree of latitude is 111.2 km on the mean sphere)
    expert = _expert(latitude=59.93428 + 25 / 111.19508)

    verdict = matching.distance_factor(_need(), expert)

    assert matching.four_places(verdict.value) == Decimal("0.5000")
    assert verdict.why == "25.0 km from the site, within the 50 km they travel."


def test_a_membership_past_its_end_counts_as_free():
    lapsed = _expert(membership_level="DIAMOND", membership_expires_at=NOW - timedelta(seconds=1))
    running = _expert(membership_level="DIAMOND", membership_expires_at=NOW + timedelta(days=3))

    assert matching.membership_factor(_need(), lapsed) == Factor(
        Decimal(0), "The DIAMOND membership has ended: counted as FREE."
    )
    assert matching.membership_factor(_need(), running).value == Decimal(1)
