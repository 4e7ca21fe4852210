"""The points API as a member reads it: the balance, the ledger as a cursor stream (newest first,
filtered by type and category, each person their own), the rules, the feature switch, and
constant query counts whatever the page size."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope
from apps.points import services
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, member
from tests.points.conftest import publish, relay
from tests.points.test_awarding import completed

pytestmark = pytest.mark.django_db

STAFF = Actor.staff(uuid.uuid4())


def credit(user, amount: int, **fields):
    with system_scope(reason="test: staff credit", audit=False):
        return services.points_adjust(
            actor=STAFF, user_id=user.id, transaction_type="CREDIT", amount=amount, description="Goodwill", **fields
        ).transaction


def test_the_balance_starts_at_zero_and_follows_the_ledger(api, expert, organization):
    client = api(expert)
    assert client.get("/api/v1/points/balance").json() == {"balance": 0, "updated_at": None}

    publish(completed(organization, expert))
    relay(organization.id)

    body = client.get("/api/v1/points/balance").json()
    assert body["balance"] == 100 and body["updated_at"] is not None


def test_the_ledger_lists_each_line_newest_first_with_its_rule(api, expert, organization):
    publish(completed(organization, expert))
    relay(organization.id)
    credit(expert, 7, category="REVIEW")

    response = api(expert).get("/api/v1/points/transactions")

    assert response.status_code == 200
    body = response.json()
    assert [
        (line["sequence"], line["type"], line["amount"], line["balance"], line["rule"]) for line in body["data"]
    ] == [
        (2, "CREDIT", 7, 107, None),
        (1, "REWARD", 100, 100, "service-order-completed"),
    ]
    assert set(body["data"][0]) == {
        "id",
        "sequence",
        "type",
        "category",
        "amount",
        "balance",
        "description",
        "rule",
        "created_at",
    }
    assert body["meta"]["next"] is None


def test_the_ledger_pages_by_cursor_without_repeating_a_line(api, expert):
    for amount in range(1, 8):
        credit(expert, amount)
    client = api(expert)

    first = client.get("/api/v1/points/transactions?limit=3").json()
    # A line added while the person reads does not shift the next page.
    credit(expert, 100)
    second = client.get(first["meta"]["next"]).json()
    third = client.get(second["meta"]["next"]).json()

    assert [line["amount"] for line in first["data"]] == [7, 6, 5]
    assert [line["amount"] for line in second["data"]] == [4, 3, 2]
    assert [line["amount"] for line in third["data"]] == [1] and third["meta"]["next"] is None


def test_the_ledger_filters_by_type_and_category(api, expert):
    credit(expert, 50, category="REVIEW")
    credit(expert, 5, category="DEVICE")
    with system_scope(reason="test: staff penalty", audit=False):
        services.points_adjust(
            actor=STAFF, user_id=expert.id, transaction_type="PENALTY", amount=3, category="REVIEW", description="x"
        )
    client = api(expert)

    penalties = client.get("/api/v1/points/transactions?type=PENALTY").json()["data"]
    reviews = client.get("/api/v1/points/transactions?category=REVIEW").json()["data"]
    invalid = client.get("/api/v1/points/transactions?type=BONUS")

    assert [line["amount"] for line in penalties] == [-3]
    assert [line["amount"] for line in reviews] == [-3, 50]
    assert invalid.status_code == 400 and "type" in invalid.json()["details"]


def test_a_person_reads_only_their_own_ledger(api, expert, admin):
    credit(expert, 10)

    assert api(admin).get("/api/v1/points/transactions").json()["data"] == []
    assert api(admin).get("/api/v1/points/balance").json()["balance"] == 0


def test_the_rules_say_what_earns_what(api, expert):
    body = api(expert).get("/api/v1/points/rules").json()

    rules = {rule["key"]: rule for rule in body["data"]}
    assert rules["service-order-completed"] == {
        "key": "service-order-completed",
        "event_type": "service_order.completed",
        "transaction_type": "REWARD",
        "category": "SERVICE",
        "amount": 100,
        "description": "Service order completed",
    }
    assert {key: rule["amount"] for key, rule in rules.items()} == {
        "service-order-completed": 100,
        "review-written": 10,
        "device-registered": 5,
        "referral-first-order": 200,
        "paid-membership": 50,
    }
    assert body["meta"]["total"] == 5


@pytest.mark.parametrize(
    "path", ["points/balance", "points/transactions", "points/rules", "referrals", "referrals/code"]
)
def test_without_the_feature_every_points_endpoint_answers_feature_disabled(api, path):
    elsewhere = OrganizationFactory(name="No points")
    person = member(elsewhere, Role.CUSTOMER)

    response = api(person).get(f"/api/v1/{path}")

    assert response.status_code == 403 and response.json()["error_code"] == "FEATURE_DISABLED"


def test_a_claim_without_the_feature_answers_feature_disabled(api):
    person = member(OrganizationFactory(name="No points"), Role.CUSTOMER)

    response = api(person).post("/api/v1/referrals/claim", {"code": "ABCDEFGH"}, format="json")

    assert response.status_code == 403 and response.json()["error_code"] == "FEATURE_DISABLED"


def test_signed_out_callers_are_refused(api):
    assert api().get("/api/v1/points/balance").status_code == 401


def _queries(client, url: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(captured.captured_queries), response.json()


def test_the_ledger_runs_the_same_queries_for_3_or_15_lines(api, expert, organization):
    client = api(expert)
    publish(completed(organization, expert))
    relay(organization.id)
    credit(expert, 1)
    credit(expert, 2)
    client.get("/api/v1/points/transactions")  # warms the per-organization feature cache

    few, body = _queries(client, "/api/v1/points/transactions")
    assert len(body["data"]) == 3
    for _ in range(12):
        publish(completed(organization, expert))
    relay(organization.id)
    many, body = _queries(client, "/api/v1/points/transactions?limit=50")

    assert len(body["data"]) == 15 and sum(1 for line in body["data"] if line["rule"]) == 13
    assert many == few


def test_the_rules_list_runs_the_same_queries_for_5_or_15_rules(api, expert):
    client = api(expert)
    client.get("/api/v1/points/rules")
    few, body = _queries(client, "/api/v1/points/rules")
    assert len(body["data"]) == 5
    with system_scope(reason="test: staff edit the rules", audit=False):
        for number in range(10):
            services.point_rule_create(
                actor=STAFF,
                data={
                    "key": f"extra-{number}",
                    "event_type": f"extra.event_{number}",
                    "recipient": "actor",
                    "transaction_type": "REWARD",
                    "category": "DEVICE",
                    "amount": number + 1,
                    "description": "Extra",
                },
            )

    many, body = _queries(client, "/api/v1/points/rules?limit=50")

    assert len(body["data"]) == 15 and many == few
