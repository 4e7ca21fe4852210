"""Points in the back-office, for platform staff alone: the rules (edited through the rule service,
audited, never deleted), accounts and the ledger read-only with "credit or penalize" through the
service, referrals with their history. Organization admins see none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.points.models import PointAccount, PointRule
from tests.factories import UserFactory
from tests.points.conftest import ledger_of
from tests.support import admin_client

pytestmark = pytest.mark.django_db

RULES = reverse("admin:points_pointrule_changelist")
ADJUST = reverse("admin:points_pointtransaction_add")
LEDGER = reverse("admin:points_pointtransaction_changelist")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def rule(key: str) -> PointRule:
    return PointRule.objects.get(key=key)


def test_staff_change_a_rules_amount_and_the_change_is_audited(staff):
    completed = rule("service-order-completed")
    page = reverse("admin:points_pointrule_change", args=[completed.pk])
    form = {
        "key": completed.key,
        "event_type": completed.event_type,
        "recipient": completed.recipient,
        "conditions": "{}",
        "transaction_type": "REWARD",
        "category": "SERVICE",
        "amount": "120",
        "description": completed.description,
        "is_active": "on",
    }

    response = admin_client(staff).post(page, form, follow=True)

    assert response.status_code == 200
    assert rule("service-order-completed").amount == 120
    with system_scope(reason="test reads the audit log", audit=False):
        assert AuditLog.objects.filter(action="point_rule.updated", resource_id=str(completed.pk)).exists()


def test_an_invalid_rule_is_refused_with_the_reason_and_nothing_changes(staff):
    completed = rule("service-order-completed")
    page = reverse("admin:points_pointrule_change", args=[completed.pk])
    form = {
        "key": completed.key,
        "event_type": "not an event",
        "recipient": "expert_user_id",
        "conditions": "{}",
        "transaction_type": "REWARD",
        "category": "SERVICE",
        "amount": "100",
        "description": "x",
        "is_active": "on",
    }

    response = admin_client(staff).post(page, form, follow=True)

    assert "The rule is invalid" in response.content.decode()
    assert rule("service-order-completed").event_type == "service_order.completed"


def test_rules_are_never_deleted(staff):
    page = reverse("admin:points_pointrule_delete", args=[rule("review-written").pk])

    assert admin_client(staff).get(page).status_code == 403


def test_staff_credit_a_person_with_a_reason_through_the_service(staff):
    person = UserFactory()

    response = admin_client(staff).post(
        ADJUST,
        {"user": str(person.id), "type": "CREDIT", "amount": "25", "category": "", "description": "Goodwill"},
        follow=True,
    )

    assert response.status_code == 200
    assert [(line.type, line.amount, line.description, line.actor_id) for line in ledger_of(person)] == [
        ("CREDIT", 25, "Goodwill", staff.id)
    ]
    with system_scope(reason="test reads the account", audit=False):
        account = PointAccount.objects.get(user=person)
        assert AuditLog.objects.filter(action="points.adjusted", actor_id=staff.id).exists()
    assert account.balance == 25
    page = admin_client(staff).get(reverse("admin:points_pointaccount_change", args=[person.pk])).content.decode()
    assert f"{ADJUST}?user={person.id}" in page and f"{LEDGER}?user={person.id}" in page
    ledger = admin_client(staff).get(LEDGER, {"user": str(person.id)})
    assert ledger.status_code == 200 and len(ledger.context["cl"].result_list) == 1


def test_a_penalty_below_zero_is_refused_on_the_page(staff):
    person = UserFactory()

    response = admin_client(staff).post(
        ADJUST,
        {"user": str(person.id), "type": "PENALTY", "amount": "5", "category": "", "description": "Abuse"},
        follow=True,
    )

    assert "below zero" in response.content.decode()
    assert ledger_of(person) == []


def test_ledger_lines_cannot_be_changed_or_deleted_here(staff):
    person = UserFactory()
    admin_client(staff).post(
        ADJUST, {"user": str(person.id), "type": "CREDIT", "amount": "5", "description": "x"}, follow=True
    )
    (line,) = ledger_of(person)

    client = admin_client(staff)
    change = client.post(reverse("admin:points_pointtransaction_change", args=[line.pk]), {"amount": "500"})
    delete = client.get(reverse("admin:points_pointtransaction_delete", args=[line.pk]))

    assert delete.status_code == 403
    assert change.status_code in {302, 403} and ledger_of(person)[0].amount == 5


def test_organization_admins_see_no_points_pages(organization, admin):
    client = admin_client(admin)

    for url in (RULES, LEDGER, reverse("admin:points_referral_changelist")):
        assert client.get(url).status_code in {302, 403}
