"""Mediation through the API: platform staff see every case, take one as its mediator, put it
in mediation, ask a side for information with a deadline (whose evidence is the answer), and
close a resolved case; the parties cannot make the mediator's moves, and a third organization
sees nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.context import system_scope
from apps.core.models import AuditLog, OutboxEvent
from tests.disputes.test_disputes_api import open_case
from tests.escrow.parties import order_between
from tests.factories import UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(api, client_party, order, funded_escrow):
    response = open_case(api, client_party, order)
    assert response.status_code == 201, response.json()
    return response.json()


def put_status(client, case, **body):
    return client.put(f"/api/v1/disputes/{case['id']}/status", body, format="json")


def test_staff_list_every_case_and_filter_by_status(api, mediator, case):
    everything = api(mediator).get("/api/v1/disputes")
    in_mediation = api(mediator).get("/api/v1/disputes", {"status": "in_mediation"})

    assert everything.status_code == 200, everything.json()
    assert [row["id"] for row in everything.json()["data"]] == [case["id"]]
    assert in_mediation.json()["data"] == []


def test_the_staff_list_keeps_a_constant_number_of_queries(api, mediator, client_party, supplier_party):
    for _ in range(3):
        assert open_case(api, client_party, order_between(client_party, supplier_party)).status_code == 201
    client = api(mediator)

    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/disputes").status_code == 200
    few_count = len(few.captured_queries)
    for _ in range(4):
        assert open_case(api, client_party, order_between(client_party, supplier_party)).status_code == 201
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/disputes").json()["data"]) == 7
    assert len(many.captured_queries) == few_count


def test_a_mediator_takes_the_case_and_it_is_audited(api, mediator, case):
    response = api(mediator).put(f"/api/v1/disputes/{case['id']}/mediator", {}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["mediator_assigned"] is True
    with system_scope(reason="test: read the audit"):
        assert AuditLog.objects.filter(action="dispute.mediator_assigned", resource_id=case["id"]).exists()
        assert OutboxEvent.objects.filter(event_type="dispute.mediator_assigned", aggregate_id=case["id"]).exists()


def test_only_staff_can_be_mediators(api, mediator, client_party, case):
    response = api(mediator).put(
        f"/api/v1/disputes/{case['id']}/mediator", {"mediator_id": str(client_party.staff.id)}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"mediator_id": ["Not platform staff."]}


def test_a_party_cannot_assign_a_mediator(api, client_party, case):
    response = api(client_party.staff).put(f"/api/v1/disputes/{case['id']}/mediator", {}, format="json")

    assert response.status_code == 403


def test_staff_ask_a_side_for_information_and_its_evidence_answers(api, mediator, client_party, case):
    to_mediation = put_status(api(mediator), case, status="in_mediation", reason="Both sides heard.")
    due = timezone.now() + timedelta(hours=12)
    asked = put_status(
        api(mediator),
        case,
        status="awaiting_response",
        side="client",
        reason="Send the photos taken at unloading.",
        due_at=due.isoformat(),
    )
    answer = api(client_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"statement": "Photos attached."}, format="json"
    )
    after = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()

    assert to_mediation.status_code == 200, to_mediation.json()
    assert asked.status_code == 200, asked.json()
    assert asked.json()["status"] == "awaiting_response" and asked.json()["response_side"] == "client"
    assert asked.json()["history"][-1]["reason"] == "Send the photos taken at unloading."
    assert answer.status_code == 201
    assert after["status"] == "under_review" and after["response_due_at"] is None


def test_asking_for_information_needs_a_side_and_a_question(api, mediator, case):
    response = put_status(api(mediator), case, status="awaiting_response")

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"side", "reason"}


def test_a_deadline_in_the_past_is_refused_and_changes_nothing(api, mediator, case):
    response = put_status(
        api(mediator),
        case,
        status="awaiting_response",
        side="supplier",
        reason="Why late?",
        due_at=(timezone.now() - timedelta(hours=1)).isoformat(),
    )
    after = api(mediator).get(f"/api/v1/disputes/{case['id']}").json()

    assert response.status_code == 400 and "due_at" in response.json()["details"]
    assert after["status"] == "created"


def test_a_party_cannot_make_the_mediators_moves(api, client_party, supplier_party, case):
    moves = [
        put_status(api(client_party.staff), case, status="in_mediation"),
        put_status(api(supplier_party.staff), case, status="under_review"),
        put_status(api(supplier_party.staff), case, status="withdrawn"),
        put_status(api(client_party.staff), case, status="resolved"),
    ]

    assert [(move.status_code, move.json()["error_code"]) for move in moves] == [(422, "INVALID_STATE_TRANSITION")] * 4


def test_resolved_is_reached_through_the_resolution_not_the_status(api, mediator, case):
    put_status(api(mediator), case, status="in_mediation")

    response = put_status(api(mediator), case, status="resolved")

    assert response.status_code == 400
    assert "resolution" in response.json()["message"]


def test_an_illegal_staff_move_is_422(api, mediator, case):
    response = put_status(api(mediator), case, status="closed")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_third_organization_sees_none_of_it(api, outsider, case):
    client = api(outsider.staff)

    answers = [
        client.get(f"/api/v1/disputes/{case['id']}"),
        put_status(client, case, status="withdrawn"),
        client.put(f"/api/v1/disputes/{case['id']}/resolution", {"answer": "accept"}, format="json"),
        client.post(f"/api/v1/disputes/{case['id']}/evidence", {"statement": "Me too"}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404] * 4
    assert client.get("/api/v1/disputes").json()["data"] == []


def test_a_staff_user_who_acts_for_an_organization_is_its_member_not_a_mediator(api, outsider, case):
    staff_member = member(outsider.org, user=UserFactory(is_staff=True))

    response = api(staff_member, organization=outsider.org).get(f"/api/v1/disputes/{case['id']}")

    assert response.status_code == 404


def test_staff_evidence_is_the_mediators_and_never_the_awaited_answer(api, mediator, case):
    response = api(mediator).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"statement": "Carrier's GPS log requested."}, format="json"
    )
    after = api(mediator).get(f"/api/v1/disputes/{case['id']}").json()

    assert response.status_code == 201, response.json()
    assert response.json()["added_by_side"] == "staff"
    assert after["status"] == "created" and after["response_side"] == "supplier"
