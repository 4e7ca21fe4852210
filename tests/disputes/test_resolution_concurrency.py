"""Resolutions racing, with real commits, one connection per thread and a real server: two
mediators deciding the same case at once, and one decision sent by several clients with one
Idempotency-Key at once. Money moves once either way, and `manage.py ledger_check` passes."""

from __future__ import annotations

from io import StringIO
from uuid import uuid4

import httpx
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.core.context import system_scope, tenant_scope
from apps.disputes import services
from apps.disputes.models import DisputeResolution
from tests.escrow.parties import bearer, entry_kinds, escrow_now
from tests.escrow.test_concurrency import _race
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def case(client_party, order, funded_escrow, mediator):
    from apps.core.actors import Actor

    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        dispute = services.dispute_open(
            actor=client_party.actor(),
            data=services.DisputeInput(
                order_id=order.id,
                reason_category="damaged",
                description="Crushed pallets.",
                outcome_requested="refund",
            ),
        )
    with system_scope(reason="test: to mediation"):
        services.dispute_change_status(actor=Actor.staff(mediator.id), dispute_id=dispute.id, status="in_mediation")
    return dispute


def _decide(user, dispute_id, outcome: str, key: str | None = None):
    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
        return client.post(
            f"/api/v1/disputes/{dispute_id}/resolution",
            {"outcome": outcome, "reason": f"Decided: {outcome}."},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid4().hex,
        )

    return call


def _ledger_check() -> str:
    out = StringIO()
    call_command("ledger_check", stdout=out)
    return out.getvalue()


def test_two_mediators_deciding_at_once_move_the_money_once(case, funded_escrow, mediator):
    other = UserFactory(is_staff=True)
    held = escrow_now(funded_escrow.id).held_amount

    responses = _race(
        *[_decide(mediator, case.id, "refund") for _ in range(3)],
        *[_decide(other, case.id, "release") for _ in range(3)],
    )

    codes = sorted(getattr(response, "status_code", repr(response)) for response in responses)
    assert codes == [201, 422, 422, 422, 422, 422], codes
    refused = [response for response in responses if response.status_code == 422]
    assert {response.json()["error_code"] for response in refused} == {"INVALID_STATE_TRANSITION"}
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == 0 and escrow.released_amount + escrow.refunded_amount == held
    assert sorted(entry_kinds(funded_escrow.id)) in (["funding", "refund"], ["funding", "release"])
    with system_scope(reason="test: count decisions", audit=False):
        assert DisputeResolution.objects.filter(dispute=case.id, kind="decision").count() == 1
    assert "ledger balanced" in _ledger_check()


def test_one_key_sent_by_eight_clients_at_once_decides_once(asgi_server, case, funded_escrow, mediator):
    headers = {**bearer(mediator), "Idempotency-Key": f"decide-{uuid4().hex}"}

    def decide():
        with httpx.Client(base_url=f"http://{asgi_server}", timeout=20) as http:
            return http.post(
                f"/api/v1/disputes/{case.id}/resolution",
                json={"outcome": "refund", "reason": "Refund all."},
                headers=headers,
            )

    responses = _race(*[decide] * 8)

    assert [getattr(response, "status_code", repr(response)) for response in responses] == [201] * 8
    assert sorted(response.headers.get("Idempotent-Replayed", "") for response in responses) == [""] + ["true"] * 7
    assert entry_kinds(funded_escrow.id).count("refund") == 1
    assert escrow_now(funded_escrow.id).status == "refunded"
    assert "ledger balanced" in _ledger_check()
