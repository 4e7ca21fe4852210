"""Matching explains its order: every stored result's breakdown adds up to its score, ranks follow
the scores, and who is never a candidate (outside the radius, OFF_DUTY, unpublished, without the
skill's industry) is never matched. Experts are made through the real services; orders are
matched as the `service_order.created` subscriber matches them, in the customer's scope."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.errors import InvalidStateTransition
from apps.service import services
from apps.service.models import MatchingResult, ServiceOrder
from tests.factories import OrganizationFactory, member
from tests.service.conftest import as_member, create_order, with_field_service
from tests.service.matching_support import (
    FAR,
    NEAR,
    events,
    make_expert,
    match,
    order_as_stored,
    ranked_targets,
    relay_events,
    results_of,
)

pytestmark = pytest.mark.django_db

FACTORS = {"skill", "distance", "availability", "rating", "urgency", "membership"}


def test_every_breakdown_adds_up_to_its_score_and_the_ranks_follow_the_scores(
    dispatcher, customer_organization, expert_organization
):
    # Given experts who differ in every factor
    make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("4.8", 40))
    make_expert(expert_organization, status="AVAILABLE", rating=("3.1", 2), **NEAR)
    make_expert(expert_organization, status="IDLE", industry_code="EL", skill_code="DRV", skills=[])
    make_expert(expert_organization, status="AVAILABLE", level="SILVER", service_radius_km=300, **NEAR)
    make_expert(OrganizationFactory(), status="AVAILABLE", level="DIAMOND", rating=("5", 1))
    order = create_order(dispatcher, customer_organization, urgency="URGENT")

    # When the order is matched
    returned = match(order, customer_organization)

    # Then each result's points add up to its score, factor by factor, with a reason each
    results = results_of(order)
    assert [result.id for result in returned] == [result.id for result in results]
    assert len(results) == 5
    for result in results:
        assert set(result.breakdown) == FACTORS
        assert sum(Decimal(factor["points"]) for factor in result.breakdown.values()) == result.score
        for factor in result.breakdown.values():
            assert Decimal(0) <= Decimal(factor["value"]) <= Decimal(1)
            assert Decimal(factor["points"]) == (Decimal(factor["value"]) * Decimal(factor["weight"])).quantize(
                Decimal("0.0001"), rounding=ROUND_HALF_UP
            )
            assert factor["why"]
    # ... and the ranks run 1..n with the scores never rising
    assert [result.rank for result in results] == [1, 2, 3, 4, 5]
    scores = [result.score for result in results]
    assert scores == sorted(scores, reverse=True)


def test_outside_the_radius_off_duty_unpublished_or_another_trade_is_never_matched(
    dispatcher, customer_organization, expert_organization
):
    # Given one expert who can come, and five who cannot
    reachable = make_expert(expert_organization)
    make_expert(expert_organization, **FAR)
    # ... inside the box around their 80 km circle, but 94 km away: outside the circle itself
    make_expert(expert_organization, latitude=Decimal("60.534280"), longitude=Decimal("31.535099"))
    make_expert(expert_organization, status="OFF_DUTY")
    hidden = make_expert(expert_organization)
    as_member(
        hidden.user, expert_organization, services.expert_update, expert_id=hidden.id, changes={"is_published": False}
    )
    make_expert(expert_organization, industry_code="IT", skill_code="NET", skills=[])

    # When an order at the site is matched
    order = create_order(dispatcher, customer_organization, urgency="MEDIUM")
    match(order, customer_organization)

    # Then only the one who can come is a result
    assert ranked_targets(order) == [reachable.id]
    [result] = results_of(order)
    assert result.distance_km == Decimal("0.00")
    assert result.breakdown["distance"]["value"] == "1.0000"


def test_a_rushing_expert_ranks_first_for_an_urgent_order_when_otherwise_equal(
    dispatcher, customer_organization, expert_organization
):
    # Given two experts alike in everything (place, skills, GOLD, no ratings) but rushing
    available = make_expert(expert_organization, status="AVAILABLE", level="GOLD")
    rushing = make_expert(expert_organization, status="RUSHING", level="GOLD")

    # When an URGENT order and a MEDIUM one are matched
    urgent = create_order(dispatcher, customer_organization, urgency="URGENT")
    medium = create_order(dispatcher, customer_organization, urgency="MEDIUM")
    match(urgent, customer_organization)
    match(medium, customer_organization)

    # Then the rushing expert is first for the URGENT order, by the urgency factor alone
    first, second = results_of(urgent)
    assert (first.target_id, second.target_id) == (rushing.id, available.id)
    assert first.score - second.score == Decimal("0.0800")
    assert first.breakdown["urgency"]["value"] == "1.0000"
    assert "Rushing" in first.breakdown["urgency"]["why"]
    # ... and for the MEDIUM one rushing counts for nobody: the two score the same
    medium_scores = {result.target_id: result for result in results_of(medium)}
    assert medium_scores[rushing.id].score == medium_scores[available.id].score
    assert "does not count" in medium_scores[rushing.id].breakdown["urgency"]["why"]


def test_the_membership_level_breaks_a_tie(dispatcher, customer_organization, expert_organization):
    # Given three experts alike but for their membership
    free = make_expert(expert_organization)
    gold = make_expert(expert_organization, level="GOLD")
    silver = make_expert(expert_organization, level="SILVER")

    # When an order is matched
    order = create_order(dispatcher, customer_organization, urgency="LOW")
    match(order, customer_organization)

    # Then the paid levels come first, GOLD before SILVER, by the membership's points only
    results = results_of(order)
    assert [result.target_id for result in results] == [gold.id, silver.id, free.id]
    assert [result.breakdown["membership"]["points"] for result in results] == ["0.0132", "0.0066", "0.0000"]
    assert results[0].score - results[2].score == Decimal("0.0132")


def test_the_exact_skill_outscores_the_same_industry_and_the_breakdown_says_so(
    dispatcher, customer_organization, expert_organization
):
    motors = make_expert(expert_organization)
    drives = make_expert(expert_organization, industry_code="EL", skill_code="DRV", skills=[])

    order = create_order(dispatcher, customer_organization, required_skill="EL-MOT")
    match(order, customer_organization)

    by_expert = {result.target_id: result.breakdown["skill"] for result in results_of(order)}
    assert by_expert[motors.id]["value"] == "1.0000"
    assert "Has the required skill" in by_expert[motors.id]["why"]
    assert by_expert[drives.id]["value"] == "0.4000"
    assert "Electrical equipment" in by_expert[drives.id]["why"]
    assert ranked_targets(order) == [motors.id, drives.id]


def test_few_ratings_are_shrunk_toward_the_prior(dispatcher, customer_organization, expert_organization):
    # Given one perfect rating against forty very good ones
    lucky = make_expert(expert_organization, rating=("5.00", 1))
    proven = make_expert(expert_organization, rating=("4.80", 40))

    order = create_order(dispatcher, customer_organization)
    match(order, customer_organization)

    by_expert = {result.target_id: result.breakdown["rating"] for result in results_of(order)}
    # (5 * 1 + 3.5 * 5) / 6 / 5 = 0.75 ; (4.8 * 40 + 3.5 * 5) / 45 / 5 = 0.9311
    assert by_expert[lucky.id]["value"] == "0.7500"
    assert by_expert[proven.id]["value"] == "0.9311"
    assert ranked_targets(order) == [proven.id, lucky.id]


def test_an_expert_booked_in_the_window_has_no_availability(dispatcher, customer_organization, expert_organization):
    # Given an expert assigned another customer's order from 10:00 to 14:00 tomorrow
    busy = make_expert(expert_organization)
    free = make_expert(expert_organization)
    start = (timezone.now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    other_customer = with_field_service(OrganizationFactory())
    other_dispatcher = member(other_customer)
    other = create_order(
        other_dispatcher, other_customer, scheduled_start=start, scheduled_end=start + timedelta(hours=4)
    )
    as_member(
        other_dispatcher, other_customer, services.service_order_assign, service_order_id=other.id, expert_id=busy.id
    )

    # When an order from 12:00 to 13:00 the same day is matched
    order = create_order(
        dispatcher,
        customer_organization,
        scheduled_start=start + timedelta(hours=2),
        scheduled_end=start + timedelta(hours=3),
    )
    match(order, customer_organization)

    # Then the booked expert scores no availability, and says why
    by_expert = {result.target_id: result.breakdown["availability"] for result in results_of(order)}
    assert by_expert[busy.id] == {
        "value": "0.0000",
        "weight": "0.15",
        "points": "0.0000",
        "why": "Booked for another service order in the scheduled window.",
    }
    assert by_expert[free.id]["value"] == "1.0000"


def test_an_order_without_coordinates_is_matched_by_skill_and_distance_scores_nobody(
    dispatcher, customer_organization, expert_organization
):
    near = make_expert(expert_organization)
    far = make_expert(expert_organization, **FAR)

    order = create_order(dispatcher, customer_organization, latitude=None, longitude=None)
    match(order, customer_organization)

    results = results_of(order)
    assert {result.target_id for result in results} == {near.id, far.id}
    assert {result.breakdown["distance"]["value"] for result in results} == {"0.0000"}
    assert all("no coordinates" in result.breakdown["distance"]["why"] for result in results)
    assert all(result.distance_km is None for result in results)


def test_the_expert_reads_the_summary_of_the_order_offered_but_not_the_order(
    dispatcher, customer_organization, expert_organization
):
    expert = make_expert(expert_organization, **NEAR)
    order = create_order(dispatcher, customer_organization, address="Line 3, Ligovsky pr. 50")

    match(order, customer_organization)

    with tenant_scope(expert_organization.id):
        result = MatchingResult.objects.get(source_id=order.id)
        assert not ServiceOrder.objects.filter(id=order.id).exists()
    assert result.target_id == expert.id and result.target_user_id == expert.user_id
    assert result.summary == {
        "number": order.number,
        "title": "Motor overheats",
        "urgency": "HIGH",
        "required_skill": "EL-MOT",
        "required_skill_label": "Electric motors",
        "area": {"latitude": "59.93", "longitude": "30.34"},
        "scheduled_start": None,
        "scheduled_end": None,
        "distance_km": str(result.distance_km),
    }
    assert "Ligovsky" not in str(result.summary)


def test_matching_again_replaces_untouched_results_and_keeps_offered_ones(
    settings, dispatcher, customer_organization, expert_organization
):
    # Given an urgent order matched once: its rushing expert was offered it live
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": 1}
    rushing = make_expert(expert_organization, status="RUSHING", level="GOLD")
    available = make_expert(expert_organization)
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)
    before = {result.target_id: result for result in results_of(order)}
    assert before[rushing.id].offer_status == "OFFERED"

    # When the customer asks for the matching again, twice
    as_member(dispatcher, customer_organization, services.service_order_rematch, service_order_id=order.id)
    as_member(dispatcher, customer_organization, services.service_order_rematch, service_order_id=order.id)

    # Then the offered result is the same row, still OFFERED; the untouched one was replaced
    after = {result.target_id: result for result in results_of(order)}
    assert set(after) == {rushing.id, available.id}
    assert after[rushing.id].id == before[rushing.id].id
    assert (after[rushing.id].offer_status, after[rushing.id].offer_round) == ("OFFERED", 1)
    assert after[available.id].id != before[available.id].id
    assert [result.rank for result in results_of(order)] == [1, 2]
    # ... and no second round was opened while the first is open
    assert order_as_stored(order).offer_round == 1
    assert len(events("service_order.offered")) == 1


def test_an_order_no_longer_pending_is_not_matched_again(dispatcher, customer_organization, expert_organization):
    expert = make_expert(expert_organization)
    order = create_order(dispatcher, customer_organization)
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )

    assert match(order, customer_organization) == []
    with pytest.raises(InvalidStateTransition):
        as_member(dispatcher, customer_organization, services.service_order_rematch, service_order_id=order.id)
    assert results_of(order) == []


def test_a_new_order_is_matched_when_its_event_is_relayed(dispatcher, customer_organization, expert_organization):
    expert = make_expert(expert_organization)
    order = create_order(dispatcher, customer_organization, urgency="LOW")
    assert results_of(order) == []

    relay_events("service_order.created")
    relay_events("service_order.created")  # nothing left: delivered once

    assert ranked_targets(order) == [expert.id]


def test_an_order_its_expert_declined_is_matched_again_and_offered_to_the_next(
    settings, dispatcher, customer_organization, expert_organization
):
    # Given an urgent order a rushing expert took live, and another rushing expert
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": 1}
    first = make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("5", 20))
    second = make_expert(expert_organization, status="RUSHING", level="GOLD")
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    relay_events("service_order.created")
    as_member(first.user, expert_organization, services.service_order_accept, service_order_id=order.id)

    # When the expert gives it back, and the event is relayed
    as_member(first.user, expert_organization, services.service_order_decline, service_order_id=order.id)
    relay_events("service_order.status_changed")

    # Then the order is offered to the next rushing expert, in round 2; the first stays declined
    by_expert = {result.target_id: result for result in results_of(order)}
    assert (by_expert[first.id].offer_status, by_expert[first.id].status) == ("DECLINED", "DISMISSED")
    assert (by_expert[second.id].offer_status, by_expert[second.id].offer_round) == ("OFFERED", 2)
    assert order_as_stored(order).offer_round == 2


def test_an_order_whose_site_moved_is_matched_again_when_its_update_is_relayed(
    dispatcher, customer_organization, expert_organization
):
    from tests.service.matching_support import FAR

    # Given an order at the site, matched with the expert nearby
    near = make_expert(expert_organization)
    far = make_expert(expert_organization, **FAR)
    order = create_order(dispatcher, customer_organization, urgency="LOW")
    relay_events("service_order.created")
    assert ranked_targets(order) == [near.id]

    # When the customer moves the site to the other expert's city
    as_member(dispatcher, customer_organization, services.service_order_update, service_order_id=order.id, changes=FAR)
    relay_events("service_order.updated")

    # Then the order is matched again there: the untouched result of the first site is gone
    assert ranked_targets(order) == [far.id]


def test_the_customer_asks_for_the_matching_again_through_the_api(
    api, dispatcher, customer_organization, expert_organization
):
    order = create_order(dispatcher, customer_organization, urgency="LOW")
    relay_events("service_order.created")
    assert results_of(order) == []

    joined = make_expert(expert_organization)  # an expert who joined since
    response = api(dispatcher, customer_organization).post(f"/api/v1/service-orders/{order.id}/matches")

    assert response.status_code == 200, response.json()
    assert [row["expert"]["id"] for row in response.json()["data"]] == [str(joined.id)]
