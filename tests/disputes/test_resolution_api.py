"""Resolutions through the API: the mediator decides (release, refund or a split that adds up
to what is held) and the escrow moves it once; proposals that both parties accept become the
decision; the parties accept or appeal a decision; the appeal window closes the case; a case
paid outside escrow records the decision only. The ledger balances after each test
(tests/escrow/parties.py ledger_stays_balanced)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.disputes import services
from apps.disputes.models import Dispute
from tests.disputes.test_disputes_api import open_case
from tests.escrow.parties import entry_kinds, escrow_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(api, client_party, order, funded_escrow, mediator):
    response = open_case(api, client_party, order)
    assert response.status_code == 201, response.json()
    moved = api(mediator).put(
        f"/api/v1/disputes/{response.json()['id']}/status", {"status": "in_mediation"}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    return moved.json()


def money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def resolve(client, case, key: str | None = None, **body):
    return client.post(
        f"/api/v1/disputes/{case['id']}/resolution",
        {"reason": "The CMR shows damage at unloading.", **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid4().hex,
    )


def answer(client, case, what: str, reason: str = ""):
    return client.put(f"/api/v1/disputes/{case['id']}/resolution", {"answer": what, "reason": reason}, format="json")


def test_a_split_decision_moves_what_is_held_once_and_resolves_the_case(api, mediator, case, funded_escrow):
    held = escrow_now(funded_escrow.id).held_amount

    response = resolve(api(mediator), case, outcome="split", release_amount=money(held - 300), refund_amount="300.00")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "resolved" and body["appeal_until"] is not None
    decision = body["resolutions"][-1]
    assert decision["kind"] == "decision" and decision["escrow_moved"] is True
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == 0
    assert escrow.refunded_amount == Decimal("300.00") and escrow.released_amount == held - Decimal("300")
    assert sorted(entry_kinds(funded_escrow.id)) == ["funding", "refund", "release"]
    with system_scope(reason="test: read the outbox"):
        resolved = OutboxEvent.objects.get(event_type="dispute.resolved", aggregate_id=case["id"])
    assert resolved.payload["refund_amount"] == "300.000" and resolved.payload["escrow_moved"] is True


def test_a_refund_decision_refunds_everything_held(api, mediator, case, funded_escrow):
    held = escrow_now(funded_escrow.id).held_amount

    response = resolve(api(mediator), case, outcome="refund")

    assert response.status_code == 201, response.json()
    escrow = escrow_now(funded_escrow.id)
    assert escrow.refunded_amount == held and escrow.held_amount == 0 and escrow.status == "refunded"


def test_a_resolution_larger_than_what_is_held_is_refused_and_changes_nothing(api, mediator, case, funded_escrow):
    held = escrow_now(funded_escrow.id).held_amount

    response = resolve(api(mediator), case, outcome="split", release_amount=money(held), refund_amount="0.01")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INSUFFICIENT_FUNDS"
    escrow = escrow_now(funded_escrow.id)
    assert escrow.status == "disputed" and escrow.held_amount == held
    assert api(mediator).get(f"/api/v1/disputes/{case['id']}").json()["resolutions"] == []


def test_a_split_that_leaves_money_held_is_refused(api, mediator, case, funded_escrow):
    response = resolve(api(mediator), case, outcome="split", release_amount="100.00", refund_amount="100.00")

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert escrow_now(funded_escrow.id).status == "disputed"


def test_a_resolution_without_a_reason_or_with_negative_amounts_is_refused(api, mediator, case):
    no_reason = resolve(api(mediator), case, outcome="refund", reason="")
    negative = resolve(api(mediator), case, outcome="split", release_amount="-1", refund_amount="1001")

    assert no_reason.status_code == 400 and "reason" in no_reason.json()["details"]
    assert negative.status_code == 400 and "release_amount" in negative.json()["details"]


def test_a_resolution_needs_an_idempotency_key(api, mediator, case):
    response = api(mediator).post(
        f"/api/v1/disputes/{case['id']}/resolution", {"outcome": "refund", "reason": "x"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["details"] == {"Idempotency-Key": ["Required."]}


def test_the_same_decision_sent_twice_replays_and_moves_money_once(api, mediator, case, funded_escrow):
    first = resolve(api(mediator), case, key="decide-1", outcome="release")
    again = resolve(api(mediator), case, key="decide-1", outcome="release")
    another = resolve(api(mediator), case, outcome="release")

    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert another.status_code == 422 and another.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert entry_kinds(funded_escrow.id).count("release") == 1


def test_parties_cannot_resolve(api, client_party, supplier_party, case):
    responses = [resolve(api(party.staff), case, outcome="refund") for party in (client_party, supplier_party)]

    assert [response.status_code for response in responses] == [403, 403]


def test_a_decision_is_refused_before_the_case_was_reviewed(api, client_party, supplier_party, mediator):
    from tests.escrow.parties import order_between

    fresh = open_case(api, client_party, order_between(client_party, supplier_party)).json()

    response = resolve(api(mediator), fresh, outcome="refund")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_both_parties_accepting_a_proposal_makes_it_the_decision_and_closes_the_case(
    api, mediator, client_party, supplier_party, case, funded_escrow
):
    held = escrow_now(funded_escrow.id).held_amount
    proposed = resolve(
        api(mediator), case, kind="proposal", outcome="split", release_amount=money(held - 200), refund_amount="200"
    )
    untouched = escrow_now(funded_escrow.id)

    first = answer(api(client_party.staff), case, "accept")
    second = answer(api(supplier_party.staff), case, "accept")

    assert proposed.status_code == 201, proposed.json()
    assert proposed.json()["status"] == "in_mediation" and untouched.held_amount == held
    with system_scope(reason="test: read the outbox"):
        assert OutboxEvent.objects.filter(event_type="dispute.resolution_proposed", aggregate_id=case["id"]).exists()
    assert first.status_code == 200 and first.json()["status"] == "in_mediation"
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "closed"
    kinds = [resolution["kind"] for resolution in second.json()["resolutions"]]
    assert kinds == ["proposal", "decision"]
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == 0 and escrow.refunded_amount == Decimal("200")


def test_a_new_proposal_replaces_the_open_one(api, mediator, client_party, case):
    resolve(api(mediator), case, kind="proposal", outcome="refund")
    answer(api(client_party.staff), case, "reject")
    resolve(api(mediator), case, kind="proposal", outcome="release")

    resolutions = api(mediator).get(f"/api/v1/disputes/{case['id']}").json()["resolutions"]

    assert [(row["outcome"], row["superseded_at"] is None) for row in resolutions] == [
        ("refund", False),
        ("release", True),
    ]
    assert resolutions[0]["client_answer"] == "rejected" and resolutions[1]["client_answer"] == ""


def test_both_parties_accepting_a_decision_close_the_case_at_once(api, mediator, client_party, supplier_party, case):
    resolve(api(mediator), case, outcome="release")

    answer(api(client_party.staff), case, "accept")
    closed = answer(api(supplier_party.staff), case, "accept")

    assert closed.json()["status"] == "closed"
    assert closed.json()["history"][-1]["reason"] == "Both parties accepted the decision."


def test_an_answer_once_given_stands(api, mediator, client_party, case):
    resolve(api(mediator), case, outcome="release")
    answer(api(client_party.staff), case, "accept")

    same = answer(api(client_party.staff), case, "accept")
    changed = answer(api(client_party.staff), case, "reject")

    assert same.status_code == 200
    assert changed.status_code == 422 and changed.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_nothing_to_answer_before_a_resolution(api, client_party, case):
    response = answer(api(client_party.staff), case, "accept")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_the_appeal_window_closes_an_unappealed_case_and_an_appealed_one_waits_for_staff(
    api, mediator, client_party, supplier_party, case, order
):
    resolve(api(mediator), case, outcome="release")
    appealed = answer(api(supplier_party.staff), case, "reject", reason="The damage was the consignee's.")
    later = timezone.now() + timedelta(days=30)

    with tenant_scope(client_party.org.id):
        waiting = services.disputes_deadlines_apply(now=later)
    staff_close = api(mediator).put(
        f"/api/v1/disputes/{case['id']}/status", {"status": "closed", "reason": "Appeal reviewed."}, format="json"
    )

    assert appealed.status_code == 200 and appealed.json()["resolutions"][-1]["supplier_answer"] == "rejected"
    assert waiting["closed"] == 0
    assert staff_close.status_code == 200 and staff_close.json()["status"] == "closed"


def test_an_unappealed_case_closes_when_the_window_ends(api, mediator, client_party, case):
    resolve(api(mediator), case, outcome="release")
    with system_scope(reason="test: the window passed"):
        Dispute.objects.filter(pk=case["id"]).update(appeal_until=timezone.now() - timedelta(minutes=1))

    with tenant_scope(client_party.org.id):
        counts = services.disputes_deadlines_apply()
    late_appeal = answer(api(client_party.staff), case, "reject")
    after = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()

    assert counts["closed"] == 1
    assert after["status"] == "closed" and after["history"][-1]["by"] is None
    assert late_appeal.status_code == 422


def test_a_case_paid_outside_escrow_records_the_decision_only(api, mediator, supplier_party, order):
    opened = open_case(api, supplier_party, order, reason_category="payment", amount_claimed="500.00").json()
    api(mediator).put(f"/api/v1/disputes/{opened['id']}/status", {"status": "in_mediation"}, format="json")

    too_much = resolve(api(mediator), opened, outcome="split", release_amount="5000", refund_amount="0")
    decided = resolve(api(mediator), opened, outcome="release", release_amount="500.00")

    assert too_much.status_code == 422
    assert decided.status_code == 201, decided.json()
    decision = decided.json()["resolutions"][-1]
    assert decision["escrow_moved"] is False and decision["release_amount"] == "500.000"
    assert decided.json()["status"] == "resolved"


def test_the_timeline_shows_the_decision_and_the_money_it_moved_to_staff_and_parties(api, mediator, client_party, case):
    resolve(api(mediator), case, outcome="refund")

    as_staff = api(mediator).get(f"/api/v1/disputes/{case['id']}/timeline")
    as_client = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}/timeline")

    assert as_staff.status_code == 200 and as_client.status_code == 200
    types = [entry["type"] for entry in as_client.json()["data"]]
    assert types == [entry["type"] for entry in as_staff.json()["data"]]
    assert {"dispute_opened", "escrow_frozen", "resolution_decided", "escrow_refunded"} <= set(types)
    assert types.index("escrow_frozen") < types.index("resolution_decided")


def test_an_escrow_funded_while_a_case_is_open_is_frozen_for_it_and_settled_by_its_decision(
    api, mediator, client_party, order, escrow
):
    from apps.core.services import outbox_relay
    from tests.escrow.parties import fund_escrow

    opened = open_case(api, client_party, order, amount_claimed="100.00").json()
    fund_escrow(client_party, escrow)
    with system_scope(reason="test: the funding's event", audit=False):
        funded = OutboxEvent.objects.filter(event_type="escrow.funded").latest("created_at")
    with tenant_scope(funded.organization_id):
        delivered = outbox_relay(organization_id=funded.organization_id, event_ids=[funded.id])
        again = services.dispute_freeze_funded_escrow(order_id=order.id, escrow_id=escrow.id)
    case = api(client_party.staff).get(f"/api/v1/disputes/{opened['id']}").json()
    api(mediator).put(f"/api/v1/disputes/{opened['id']}/status", {"status": "in_mediation"}, format="json")
    decided = resolve(api(mediator), opened, outcome="refund")

    assert opened["escrow_id"] is None and delivered == 1
    assert case["escrow_id"] == str(escrow.id) and again is None
    assert decided.status_code == 201, decided.json()
    assert decided.json()["resolutions"][-1]["escrow_moved"] is True
    assert escrow_now(escrow.id).status == "refunded"
