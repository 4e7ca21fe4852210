"""Points earned by events: the rules award the person the payload names (or the actor), once per
event and rule however often the event is delivered, only where the event's organization has
`points` on; conditions pick the events; penalties never take a balance below zero unless their
rule allows it; the ledger is append-only."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, transaction

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import PermissionDenied
from apps.points import services
from apps.points.models import PointRule, PointTransaction
from apps.service.events import ExpertMembershipChanged, ServiceOrderCompleted
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.passports.conftest import register, with_passports
from tests.points.conftest import balance_of, ledger_of, publish, redeliver, relay, with_points

pytestmark = pytest.mark.django_db

STAFF = Actor.staff(uuid.uuid4())


def completed(organization, expert, **fields) -> ServiceOrderCompleted:
    values = {
        "organization_id": organization.id,
        "service_order_id": str(uuid.uuid4()),
        "number": "SVO-2026-000001",
        "title": "Replace the drive's fan",
        "party_organization_ids": [str(organization.id)],
        "customer_id": None,
        "expert_id": str(uuid.uuid4()),
        "expert_user_id": str(expert.id),
        "customer_organization_id": str(organization.id),
        "completed_at": "2026-12-07T10:00:00+00:00",
        "passport_id": None,
        **fields,
    }
    return ServiceOrderCompleted(**values)


def test_a_completed_service_order_rewards_its_expert_with_the_default_rule(organization, expert):
    publish(completed(organization, expert))

    relay(organization.id)

    (line,) = ledger_of(expert)
    assert (line.type, line.category, line.amount, line.balance, line.sequence) == ("REWARD", "SERVICE", 100, 100, 1)
    assert line.description == "Service order completed"
    assert balance_of(expert) == 100


def test_a_redelivered_event_awards_once(organization, expert):
    row = publish(completed(organization, expert))
    relay(organization.id)

    redeliver(row)
    redeliver(row)

    assert [line.amount for line in ledger_of(expert)] == [100]
    assert balance_of(expert) == 100


def test_two_events_award_twice_with_a_running_balance(organization, expert):
    publish(completed(organization, expert))
    publish(completed(organization, expert))

    relay(organization.id)

    assert [(line.sequence, line.amount, line.balance) for line in ledger_of(expert)] == [(1, 100, 100), (2, 100, 200)]


def test_nothing_is_awarded_where_the_events_organization_has_points_off(expert):
    elsewhere = OrganizationFactory(name="No points here")
    member(elsewhere, Role.ORG_ADMIN)
    publish(completed(elsewhere, expert))

    relay(elsewhere.id)

    assert ledger_of(expert) == []


def test_the_actor_of_a_registered_device_is_rewarded(organization):
    # Given an operator of an organization with device passports and points on
    with_passports(organization)
    operator = member(organization, Role.OPERATOR)

    # When they register a device through the passports service and the relay delivers it
    register(operator, organization)
    relay(organization.id)

    # Then the default rule gave them 5 DEVICE points
    assert [(line.category, line.amount) for line in ledger_of(operator)] == [("DEVICE", 5)]


def membership_changed(organization, expert, to_level, *, expired=False) -> ExpertMembershipChanged:
    return ExpertMembershipChanged(
        organization_id=organization.id,
        expert_id=str(uuid.uuid4()),
        code="EP-T-EL-MOT-2612-DE-000001-00",
        user_id=str(expert.id),
        from_level="FREE",
        to_level=to_level,
        expires_at=None,
        expired=expired,
    )


def test_a_rules_conditions_pick_the_events_it_awards(organization, expert):
    # Paid levels earn the membership reward; FREE, or a drop to FREE when it expired, does not.
    publish(membership_changed(organization, expert, "FREE", expired=True))
    publish(membership_changed(organization, expert, "GOLD"))

    relay(organization.id)

    assert [(line.category, line.amount) for line in ledger_of(expert)] == [("MEMBERSHIP", 50)]


def _penalty_rule(*, allows_negative: bool):
    with system_scope(reason="test: staff edit the rules", audit=False):
        return services.point_rule_create(
            actor=STAFF,
            data={
                "key": "no-show",
                "event_type": "service_order.no_show",
                "recipient": "expert_user_id",
                "transaction_type": "PENALTY",
                "category": "SERVICE",
                "amount": 150,
                "allows_negative": allows_negative,
                "description": "Did not show up",
            },
        )


def no_show(organization, expert):
    event = completed(organization, expert)
    row = publish(event)
    with system_scope(reason="test: another event type", audit=False):
        row.event_type = "service_order.no_show"
        row.save(update_fields=["event_type"])
    return row


def test_a_penalty_that_would_go_below_zero_is_not_applied_unless_its_rule_allows_it(organization, expert):
    # Given 100 points, and a penalty of 150 whose rule does not allow a negative balance
    publish(completed(organization, expert))
    relay(organization.id)
    rule = _penalty_rule(allows_negative=False)

    # When a no-show is delivered
    no_show(organization, expert)
    relay(organization.id)

    # Then nothing is taken
    assert balance_of(expert) == 100 and len(ledger_of(expert)) == 1

    # When staff allow the rule to go below zero, and another no-show comes
    with system_scope(reason="test: staff edit the rules", audit=False):
        services.point_rule_update(actor=STAFF, rule_id=rule.id, data={"allows_negative": True})
    no_show(organization, expert)
    relay(organization.id)

    # Then the balance is negative, the line says so
    assert [(line.type, line.amount, line.balance) for line in ledger_of(expert)][-1] == ("PENALTY", -150, -50)
    assert balance_of(expert) == -50


def test_a_switched_off_rule_awards_nothing(organization, expert):
    with system_scope(reason="test", audit=False):
        rule = PointRule.objects.get(key="service-order-completed")
        services.point_rule_update(actor=STAFF, rule_id=rule.id, data={"is_active": False})
    publish(completed(organization, expert))

    relay(organization.id)

    assert ledger_of(expert) == []


def test_staff_credit_and_penalize_by_hand_and_a_penalty_below_zero_is_refused(expert):
    with system_scope(reason="test: staff in the back-office", audit=False):
        services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="CREDIT", amount=30, description="Goodwill"
        )
        with pytest.raises(services.NotEnoughPoints) as refused:
            services.points_adjust(
                actor=STAFF, user_id=expert.id, transaction_type="PENALTY", amount=31, description="Abuse"
            )
        services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="PENALTY", amount=30, description="Abuse"
        )

    assert refused.value.code == "INSUFFICIENT_FUNDS" and refused.value.details == {"balance": 30, "amount": 31}
    assert [(line.type, line.amount, line.balance) for line in ledger_of(expert)] == [
        ("CREDIT", 30, 30),
        ("PENALTY", -30, 0),
    ]


def test_only_staff_adjust_points(expert, organization, admin):
    with tenant_scope(organization.id, user_id=admin.id), pytest.raises(PermissionDenied):
        services.points_adjust(
            actor=Actor(user_id=admin.id, organization_id=organization.id, role=Role.ORG_ADMIN),
            user_id=expert.id,
            transaction_type="CREDIT",
            amount=30,
            description="Myself",
        )


def test_a_retried_adjustment_with_its_key_records_once(expert):
    with system_scope(reason="test: staff in the back-office", audit=False):
        first = services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="CREDIT", amount=5, description="x", key="k1"
        )
        again = services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="CREDIT", amount=5, description="x", key="k1"
        )

    assert (first.created, again.created) == (True, False)
    assert again.transaction.id == first.transaction.id and balance_of(expert) == 5


def test_the_ledger_is_append_only_even_in_the_all_tenants_scope(expert):
    with system_scope(reason="test: staff in the back-office", audit=False):
        line = services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="CREDIT", amount=5, description="x"
        ).transaction
        for change in (
            lambda: PointTransaction.objects.filter(id=line.id).update(amount=500),
            lambda: PointTransaction.objects.filter(id=line.id).delete(),
        ):
            with (
                pytest.raises((ProgrammingError, InternalError, IntegrityError), match="append-only"),
                transaction.atomic(),
            ):
                change()

    assert [line.amount for line in ledger_of(expert)] == [5]


def test_a_person_reads_only_their_own_points(organization, expert):
    other = UserFactory()
    with system_scope(reason="test: staff in the back-office", audit=False):
        services.points_adjust(actor=STAFF, user_id=other.id, transaction_type="CREDIT", amount=5, description="x")

    with tenant_scope(organization.id, user_id=expert.id):
        assert PointTransaction.objects.count() == 0
    assert balance_of(other) == 5


def test_with_points_everywhere_a_person_collects_from_each_organizations_events(expert, organization):
    other = with_points(OrganizationFactory(name="Second customer"))
    publish(completed(organization, expert))
    publish(completed(other, expert))

    relay(organization.id)
    relay(other.id)

    assert balance_of(expert) == 200
