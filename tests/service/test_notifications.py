"""Who hears of field-service events: an assignment tells the expert; the expert's accept,
decline, start and completion tell the customer side (the customer person and the customer
organization's dispatchers); a cancellation tells the expert who held the order; an expired
membership tells its expert. Events come from the real services and are relayed as the outbox
relay hands them to the fan-out; nobody else is told, the person who acted included."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.models import OutboxEvent
from apps.notifications import services as notifications
from apps.notifications.models import Notification
from apps.notifications.rendering import render_default
from apps.service import services
from apps.service.models import MatchingResult
from apps.tenancy.roles import Actor, Role
from tests.factories import UserFactory, member
from tests.service.conftest import as_member, create_order, give_membership

pytestmark = pytest.mark.django_db

PROGRESS = "service_order.progress"
DISPATCH = "service_order.dispatch"


@pytest.fixture
def people(customer_organization, expert_organization, dispatcher, customer, expert_user, second_expert_user):
    """Everyone of both organizations, by a name that says who they are."""
    return {
        "customer": customer,
        "dispatcher": dispatcher,
        "customer admin": member(customer_organization, Role.ORG_ADMIN),
        "customer engineer": member(customer_organization, Role.ENGINEER),
        "expert": expert_user,
        "other expert": second_expert_user,
        "expert admin": member(expert_organization, Role.ORG_ADMIN),
        "expert operator": member(expert_organization, Role.OPERATOR),
    }


@pytest.fixture
def order(people, dispatcher, customer, customer_organization, device):
    """A pending order the dispatcher placed for the customer person, on their device."""
    return create_order(dispatcher, customer_organization, passport_id=device.id, customer_id=customer.id)


def assign(order, dispatcher, customer_organization, expert):
    return as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )


def relay_latest(event_type: str, **payload) -> dict:
    """Hand the newest outbox row of `event_type` (whose payload has `payload`) to the fan-out,
    as the relay does; its payload."""
    with system_scope(reason="test: find the event", audit=False):
        rows = OutboxEvent.objects.filter(event_type=event_type).order_by("-created_at")
        row = next(row for row in rows if row.payload.items() >= payload.items())
    with tenant_scope(row.organization_id):
        notifications.event_fan_out(event=row)
    return row.payload


def told(people: dict) -> dict[str, list[str]]:
    """Who got which notification types (in-app), by name; nobody listed who got none."""
    heard = {}
    for name, user in people.items():
        with user_scope(user.id):
            types = list(Notification.objects.filter(user=user).values_list("type", flat=True))
        if types:
            heard[name] = types
    return heard


CUSTOMER_SIDE = {"customer": [PROGRESS], "dispatcher": [DISPATCH], "customer admin": [DISPATCH]}


def test_an_assignment_tells_the_expert(people, order, dispatcher, customer_organization, expert):
    assign(order, dispatcher, customer_organization, expert)

    payload = relay_latest("service_order.status_changed", action="assign")

    assert told(people) == {"expert": ["service_order.assigned"]}
    text = render_default(type_key="service_order.assigned", language="en", context=payload)
    assert text.subject == f"Service order {order.number} assigned to you"
    assert "Motor overheats" in text.body and "Accept it" in text.body


def test_the_expert_starting_the_work_tells_the_customer_and_the_dispatchers(
    people, order, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    assign(order, dispatcher, customer_organization, expert)
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)

    payload = relay_latest("service_order.status_changed", action="start")

    assert told(people) == CUSTOMER_SIDE
    text = render_default(type_key=PROGRESS, language="en", context=payload)
    assert text.subject == f"Service order {order.number}: work started"


def test_the_expert_declining_tells_the_customer_side_with_the_reason(
    people, order, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    assign(order, dispatcher, customer_organization, expert)
    as_member(
        expert_user, expert_organization, services.service_order_decline, service_order_id=order.id, reason="Too far."
    )

    payload = relay_latest("service_order.status_changed", action="decline")

    assert told(people) == CUSTOMER_SIDE
    text = render_default(type_key=DISPATCH, language="ru", context=payload)
    assert text.subject == f"Сервисный заказ {order.number}: специалист отказался"
    assert text.body.endswith("Причина: Too far.")


def test_a_completion_tells_the_customer_side_once(
    people, order, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    assign(order, dispatcher, customer_organization, expert)
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)
    as_member(
        expert_user,
        expert_organization,
        services.service_order_complete,
        service_order_id=order.id,
        data=services.CompletionInput(work_done="Replaced the fan.", signed_off_by_name="I. Petrova"),
    )

    relay_latest("service_order.status_changed", action="complete")  # its twin tells nobody
    payload = relay_latest("service_order.completed")

    assert told(people) == CUSTOMER_SIDE
    text = render_default(type_key=PROGRESS, language="en", context=payload)
    assert text.subject == f"Service order {order.number}: completed"
    assert "the device's passport has the service step" in text.body


def test_an_expert_taking_a_live_offer_tells_the_customer_side(
    people, order, customer_organization, expert, expert_user, expert_organization
):
    give_membership(expert)
    with tenant_scope(customer_organization.id):
        MatchingResult.objects.create(
            organization_id=customer_organization.id,
            target_organization_id=expert_organization.id,
            source_id=order.id,
            target_id=expert.id,
            target_user_id=expert_user.id,
            score=Decimal("0.9000"),
            rank=1,
            offer_status="OFFERED",
            offer_round=1,
            offered_at=timezone.now(),
        )
    as_member(expert_user, expert_organization, services.service_order_accept, service_order_id=order.id)

    payload = relay_latest("service_order.status_changed", action="accept")

    assert told(people) == CUSTOMER_SIDE
    text = render_default(type_key=PROGRESS, language="en", context=payload)
    assert text.subject == f"Service order {order.number}: accepted by the expert"


def test_cancelling_an_assigned_order_tells_its_expert(people, order, dispatcher, customer_organization, expert):
    assign(order, dispatcher, customer_organization, expert)
    as_member(
        dispatcher,
        customer_organization,
        services.service_order_cancel,
        service_order_id=order.id,
        reason="The line is stopped.",
    )

    payload = relay_latest("service_order.status_changed", action="cancel")

    assert told(people) == {"expert": ["service_order.cancelled"]}
    text = render_default(type_key="service_order.cancelled", language="en", context=payload)
    assert text.subject == f"Service order {order.number} cancelled"
    assert text.body.endswith("You are free for other work. Their reason: The line is stopped.")


def test_cancelling_an_order_no_expert_held_tells_nobody(people, order, dispatcher, customer_organization):
    as_member(
        dispatcher, customer_organization, services.service_order_cancel, service_order_id=order.id, reason="Mistake."
    )

    relay_latest("service_order.status_changed", action="cancel")
    relay_latest("service_order.created")

    assert told(people) == {}


def test_an_expired_membership_tells_its_expert_and_a_staff_change_does_not(people, expert):
    give_membership(expert)
    relay_latest("expert.membership_changed", to_level="GOLD")

    services.memberships_expire(now=timezone.now() + timedelta(days=31))
    payload = relay_latest("expert.membership_changed", expired=True)

    assert told(people) == {"expert": ["expert.membership_expired"]}
    text = render_default(type_key="expert.membership_expired", language="en", context=payload)
    assert text.subject == "Your GOLD membership expired"
    assert expert.code in text.body


def test_staff_ending_a_membership_tells_nobody(people, expert):
    give_membership(expert)
    staff = UserFactory(is_staff=True)
    with system_scope(reason="test: staff end it", actor_id=staff.id):
        services.expert_membership_set(actor=Actor.staff(staff.id), expert_id=expert.id, level="FREE", expires_at=None)

    relay_latest("expert.membership_changed", to_level="FREE")

    assert told(people) == {}


def test_the_dispatchers_hear_of_their_own_organizations_expert_too(people, order, dispatcher, customer_organization):
    from tests.service.conftest import register_expert

    # Given an in-house expert of the customer organization itself (both sides are one party)
    technician = member(customer_organization, Role.EXPERT)
    in_house = register_expert(technician, customer_organization)
    people["in-house expert"] = technician
    assign(order, dispatcher, customer_organization, in_house)

    # When the in-house expert starts the work
    as_member(technician, customer_organization, services.service_order_start, service_order_id=order.id)
    relay_latest("service_order.status_changed", action="start")

    # Then the dispatchers are told as for another organization's expert (not only the customer)
    assert told(people) == CUSTOMER_SIDE
