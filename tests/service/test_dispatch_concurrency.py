"""Concurrent accepts assign once (issue 22 "Tests"): six RUSHING experts of six organizations hold
live offers of the same URGENT order and accept at the same moment, each in a thread of its own
with its own database connection and real commits. Exactly one gets the order; every other
accept is refused (422 INVALID_STATE_TRANSITION) and their offers show TAKEN."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import InvalidStateTransition
from apps.service import services
from apps.service.models import ExpertPassport, MatchingResult, ServiceOrder, ServiceOrderStatusChange
from tests.factories import OrganizationFactory
from tests.service.conftest import actor_of, create_order, with_field_service
from tests.service.matching_support import make_expert, match

pytestmark = pytest.mark.usefixtures("committed")

EXPERTS = 6


def _accept_together(people: list[tuple]) -> list[object]:
    """Each (actor, organization id, user id) accepts at the same moment on its own connection;
    per person, the order returned or the error raised."""
    barrier = threading.Barrier(len(people))
    outcomes: list[object] = [None] * len(people)

    def run(index: int, actor, organization_id, user_id, service_order_id) -> None:
        try:
            barrier.wait()
            with tenant_scope(organization_id, user_id=user_id):
                outcomes[index] = services.service_order_accept(actor=actor, service_order_id=service_order_id)
        except Exception as error:  # kept, so that the test names it
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, *person)) for index, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an accepting thread hung"
    return outcomes


def test_concurrent_accepts_assign_the_order_once(settings, dispatcher, customer_organization):
    # Given six rushing experts of six organizations, all offered the same URGENT order live
    settings.SERVICE = {**settings.SERVICE, "OFFER_BATCH": EXPERTS}
    organizations = [with_field_service(OrganizationFactory()) for _ in range(EXPERTS)]
    experts = [make_expert(organization, status="RUSHING", level="GOLD") for organization in organizations]
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    match(order, customer_organization)
    with system_scope(reason="test: the offers", audit=False):
        assert set(MatchingResult.objects.filter(source_id=order.id).values_list("offer_status", flat=True)) == {
            "OFFERED"
        }
    users = {user.id: user for user in get_user_model().objects.filter(id__in=[e.user_id for e in experts])}
    people = [
        (actor_of(users[expert.user_id], organization), organization.id, expert.user_id, order.id)
        for expert, organization in zip(experts, organizations, strict=True)
    ]

    # When they all accept at the same moment
    outcomes = _accept_together(people)

    # Then exactly one got the order, and every other was refused as taken
    won = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, ServiceOrder)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidStateTransition)]
    assert len(won) == 1, outcomes
    assert len(refused) == EXPERTS - 1, outcomes
    winner = experts[won[0]]
    with system_scope(reason="test: the order as committed", audit=False):
        stored = ServiceOrder.objects.get(id=order.id)
        offers = dict(MatchingResult.objects.filter(source_id=order.id).values_list("target_id", "offer_status"))
        moves = list(
            ServiceOrderStatusChange.objects.filter(service_order_id=order.id).values_list("from_status", "to_status")
        )
        winner_status = ExpertPassport.objects.get(id=winner.id).work_status
    # ... the order's expert is the winner, assigned once
    assert (stored.status, stored.expert_id, stored.expert_organization_id) == (
        "ASSIGNED",
        winner.id,
        winner.organization_id,
    )
    assert stored.accepted_at is not None and stored.offers_expire_at is None
    assert moves.count(("PENDING", "ASSIGNED")) == 1
    # ... their offer ACCEPTED, every other one TAKEN
    assert offers[winner.id] == "ACCEPTED"
    assert sorted(status for target, status in offers.items() if target != winner.id) == ["TAKEN"] * (EXPERTS - 1)
    assert winner_status == "BOOKED"
