"""Live offers: an URGENT or HIGH order goes to the best RUSHING experts among its matches, a round
at a time; a round that ends unanswered expires and the next goes out, until the last round; the
offered experts (and only they) are told. Orders are matched as the subscriber matches them; the
rounds' end is the beat job's, run in process (tests/beat.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, user_scope
from apps.notifications.models import Notification
from apps.service import services, tasks
from apps.service.models import ServiceOrder
from tests.beat import run_beat_job
from tests.service.conftest import as_member, create_order
from tests.service.matching_support import events, make_expert, match, order_as_stored, relay_events, results_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_of_one(settings):
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": 1, "OFFER_WINDOW_SECONDS": 120, "OFFER_MAX_ROUNDS": 3}


def _offers(order) -> dict:
    return {result.target_id: (result.offer_status, result.offer_round) for result in results_of(order)}


def _round_ends(order) -> None:
    """The round's window passes (its end moved into the past), and the beat job runs."""
    with system_scope(reason="test: the round's window passes", audit=False):
        ServiceOrder.objects.filter(id=order.id).update(offers_expire_at=timezone.now() - timedelta(seconds=1))
    run_beat_job(tasks.offers_expire)


def test_an_urgent_order_is_offered_to_the_best_rushing_experts_only(
    settings, dispatcher, customer_organization, expert_organization
):
    # Given three rushing experts and two better-rated available ones
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": 2}
    best_rushing = make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("4.9", 30))
    next_rushing = make_expert(expert_organization, status="RUSHING", level="SILVER", rating=("4.5", 30))
    last_rushing = make_expert(expert_organization, status="RUSHING", level="SILVER", rating=("3.0", 30))
    available = [make_expert(expert_organization, rating=("5", 80)) for _ in range(2)]

    # When an URGENT order is matched
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    before = timezone.now()
    match(order, customer_organization)

    # Then the two best rushing experts are offered it in round 1, nobody else
    offers = _offers(order)
    assert offers[best_rushing.id] == offers[next_rushing.id] == ("OFFERED", 1)
    assert offers[last_rushing.id] == ("NONE", 0)
    assert all(offers[expert.id] == ("NONE", 0) for expert in available)
    stored = order_as_stored(order)
    assert stored.offer_round == 1
    assert before + timedelta(seconds=119) < stored.offers_expire_at <= timezone.now() + timedelta(seconds=120)
    # ... and one event names their users
    [offered] = events("service_order.offered")
    assert sorted(offered.payload["user_ids"]) == sorted([str(best_rushing.user_id), str(next_rushing.user_id)])
    assert (offered.payload["offer_round"], offered.payload["urgency"]) == (1, "URGENT")
    assert offered.organization_id == customer_organization.id


@pytest.mark.parametrize("urgency", ["LOW", "MEDIUM"])
def test_an_order_that_is_not_urgent_is_not_offered_live(
    urgency, dispatcher, customer_organization, expert_organization
):
    make_expert(expert_organization, status="RUSHING", level="GOLD")
    order = create_order(dispatcher, customer_organization, urgency=urgency)

    match(order, customer_organization)

    assert {status for status, _ in _offers(order).values()} == {"NONE"}
    assert order_as_stored(order).offer_round == 0
    assert events("service_order.offered") == []


def test_a_round_nobody_answered_expires_and_the_next_goes_out_until_the_last(
    rounds_of_one, dispatcher, customer_organization, expert_organization
):
    # Given four rushing experts, ranked by rating, and rounds of one expert, three at most
    experts = [
        make_expert(expert_organization, status="RUSHING", level="GOLD", rating=(stars, 20))
        for stars in ("5.0", "4.6", "4.2", "3.8")
    ]
    order = create_order(dispatcher, customer_organization, urgency="HIGH")
    match(order, customer_organization)
    assert _offers(order)[experts[0].id] == ("OFFERED", 1)

    # When the first round ends unanswered
    _round_ends(order)

    # Then its offer expired and the second best is offered the order in round 2
    offers = _offers(order)
    assert offers[experts[0].id] == ("EXPIRED", 1)
    assert offers[experts[1].id] == ("OFFERED", 2)
    assert offers[experts[2].id] == offers[experts[3].id] == ("NONE", 0)
    [closed] = events("service_order.offer_closed")
    assert (closed.payload["outcome"], closed.payload["user_ids"]) == ("EXPIRED", [str(experts[0].user_id)])

    # When rounds 2 and 3 end too
    _round_ends(order)
    assert _offers(order)[experts[2].id] == ("OFFERED", 3)
    _round_ends(order)

    # Then no fourth round goes out: the order waits for the customer
    offers = _offers(order)
    assert [offers[expert.id] for expert in experts] == [("EXPIRED", 1), ("EXPIRED", 2), ("EXPIRED", 3), ("NONE", 0)]
    stored = order_as_stored(order)
    assert (stored.status, stored.offer_round, stored.offers_expire_at) == ("PENDING", 3, None)
    assert len(events("service_order.offered")) == 3
    # ... and the beat job finds nothing more to do
    assert run_beat_job(tasks.offers_expire) == []


def test_a_round_not_yet_over_is_left_alone(rounds_of_one, dispatcher, customer_organization, expert_organization):
    expert = make_expert(expert_organization, status="RUSHING", level="GOLD")
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)

    assert run_beat_job(tasks.offers_expire) == []

    assert _offers(order)[expert.id] == ("OFFERED", 1)


def test_an_expert_who_declined_the_offer_is_not_offered_it_again(
    rounds_of_one, dispatcher, customer_organization, expert_organization
):
    # Given a round-1 offer the best expert declines
    first = make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("5", 20))
    second = make_expert(expert_organization, status="RUSHING", level="GOLD")
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)
    assert as_member(first.user, expert_organization, services.service_order_decline, service_order_id=order.id) is None

    # When the round ends
    _round_ends(order)

    # Then the second expert has it, the first is still the one who declined
    offers = _offers(order)
    assert offers[first.id] == ("DECLINED", 1)
    assert offers[second.id] == ("OFFERED", 2)


def test_a_round_every_expert_declined_is_over_and_matching_again_sends_the_next_at_once(
    rounds_of_one, dispatcher, customer_organization, expert_organization
):
    first = make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("5", 20))
    second = make_expert(expert_organization, status="RUSHING", level="GOLD")
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)
    as_member(first.user, expert_organization, services.service_order_decline, service_order_id=order.id)

    as_member(dispatcher, customer_organization, services.service_order_rematch, service_order_id=order.id)

    offers = _offers(order)
    assert (offers[first.id], offers[second.id]) == (("DECLINED", 1), ("OFFERED", 2))
    assert order_as_stored(order).offer_round == 2


def test_an_expert_who_stopped_rushing_is_skipped(
    rounds_of_one, dispatcher, customer_organization, expert_organization
):
    # Given three rushing experts, the best offered round 1, the second no longer rushing
    best, stopped, third = (
        make_expert(expert_organization, status="RUSHING", level="GOLD", rating=(stars, 20))
        for stars in ("5.0", "4.6", "4.2")
    )
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)
    as_member(
        stopped.user, expert_organization, services.expert_work_status_change, expert_id=stopped.id, work_status="IDLE"
    )

    # When round 1 ends
    _round_ends(order)

    # Then round 2 skips the expert who went idle
    offers = _offers(order)
    assert (offers[best.id], offers[stopped.id], offers[third.id]) == (("EXPIRED", 1), ("NONE", 0), ("OFFERED", 2))


def test_the_offer_is_told_to_the_offered_experts_and_nobody_else(
    settings, dispatcher, customer_organization, expert_organization
):
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": 1}
    offered = make_expert(expert_organization, status="RUSHING", level="GOLD", rating=("5", 20))
    passed_over = make_expert(expert_organization, status="RUSHING", level="GOLD")
    available = make_expert(expert_organization)
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)

    relay_events("service_order.offered")

    def told(expert) -> list[tuple[str, str]]:
        with user_scope(expert.user_id):
            return list(Notification.objects.filter(user_id=expert.user_id).values_list("type", "title"))

    assert told(offered) == [("service.offer", f"URGENT service order {order.number}: Motor overheats")]
    assert told(passed_over) == told(available) == []
    with user_scope(dispatcher.id):
        assert not Notification.objects.filter(user_id=dispatcher.id, type="service.offer").exists()
