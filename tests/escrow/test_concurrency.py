"""Races on one escrow, with real commits and one database connection per thread: many
partial releases and refunds at once, one Idempotency-Key sent by several clients at once,
two fund requests at once, and one webhook delivered and applied several times at once."""

import threading
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.core.context import system_scope, tenant_scope
from apps.escrow import services
from apps.escrow.models import EscrowStatus, PaymentTransaction, TransactionKind, WebhookEvent
from tests.escrow.parties import (
    bearer,
    charge_event,
    entry_kinds,
    escrow_now,
    signed,
)
from tests.support import wait_until

pytestmark = pytest.mark.usefixtures("committed")


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and connection; their results."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # returned, so that the test sees it and names it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _client(authorization: dict) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization["Authorization"])
    return client


def _release(authorization: dict, escrow_id, amount: str):
    def call():
        return _client(authorization).post(
            f"/api/v1/payments/escrow/{escrow_id}/release",
            {"amount": amount},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid4().hex,
        )

    return call


def _refund(authorization: dict, escrow_id, amount: str):
    def call():
        return _client(authorization).post(
            "/api/v1/payments/refunds",
            {"escrow_id": str(escrow_id), "amount": amount},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid4().hex,
        )

    return call


def _releases_and_refunds(client_party, supplier_party, escrow_id, amount: str, each: int = 12):
    payer, payee = bearer(client_party.staff), bearer(supplier_party.staff)
    calls = [_release(payer, escrow_id, amount) for _ in range(each)] + [
        _refund(payee, escrow_id, amount) for _ in range(each)
    ]
    return _race(*calls)


def test_twelve_releases_and_twelve_refunds_of_100_at_once_move_the_1000_held_exactly_once(
    client_party, supplier_party, funded_escrow
):
    responses = _releases_and_refunds(client_party, supplier_party, funded_escrow.id, "100.00")

    moved = [response for response in responses if response.status_code in (200, 202)]
    refused = [response for response in responses if response not in moved]
    assert len(moved) == 10, [getattr(response, "status_code", response) for response in responses]
    # Once nothing is held the escrow is settled (released or refunded): the late ones are
    # refused by its status, which the service checks before the amount.
    assert {(response.status_code, response.json()["error_code"]) for response in refused} == {
        (422, "INVALID_STATE_TRANSITION")
    }
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == 0
    assert escrow.held_amount + escrow.released_amount + escrow.refunded_amount == escrow.amount
    releases = sum(1 for response in moved if response.status_code == 200)
    assert escrow.released_amount == Decimal("100.00") * releases
    assert sorted(entry_kinds(funded_escrow.id)) == sorted(
        ["funding"] + ["release"] * releases + ["refund"] * (10 - releases)
    )


def test_twelve_releases_and_twelve_refunds_of_150_at_once_never_move_more_than_is_held(
    client_party, supplier_party, funded_escrow
):
    responses = _releases_and_refunds(client_party, supplier_party, funded_escrow.id, "150.00")

    moved = [response for response in responses if response.status_code in (200, 202)]
    refused = [response for response in responses if response not in moved]
    assert len(moved) == 6  # 6 x 150 = 900; the other 18 find 100.00 held
    assert {(response.status_code, response.json()["error_code"]) for response in refused} == {
        (422, "INSUFFICIENT_FUNDS")
    }
    escrow = escrow_now(funded_escrow.id)
    assert escrow.held_amount == Decimal("100.00")
    assert escrow.status in (EscrowStatus.FUNDED, EscrowStatus.PARTIALLY_RELEASED)
    assert escrow.held_amount + escrow.released_amount + escrow.refunded_amount == escrow.amount
    assert len(entry_kinds(funded_escrow.id)) == 1 + 6


def test_one_idempotency_key_sent_by_eight_clients_at_once_releases_once(asgi_server, client_party, funded_escrow):
    headers = {**bearer(client_party.staff), "Idempotency-Key": f"release-{uuid4().hex}"}

    def release():
        with httpx.Client(base_url=f"http://{asgi_server}", timeout=20) as http:
            return http.post(
                f"/api/v1/payments/escrow/{funded_escrow.id}/release", json={"amount": "250.00"}, headers=headers
            )

    responses = _race(*[release] * 8)

    assert [response.status_code for response in responses] == [200] * 8
    assert all(response.json() == responses[0].json() for response in responses)
    assert responses[0].json()["held_amount"] == "750.00"
    assert sorted(response.headers.get("Idempotent-Replayed", "") for response in responses) == [""] + ["true"] * 7
    assert entry_kinds(funded_escrow.id) == ["funding", "release"]
    assert escrow_now(funded_escrow.id).held_amount == Decimal("750.00")


def test_two_fund_requests_at_once_join_one_pending_funding(client_party, escrow):
    payer = bearer(client_party.staff)

    def fund():
        return _client(payer).post(
            f"/api/v1/payments/escrow/{escrow.id}/fund",
            {"payment_method": "pm_card_ok"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid4().hex,
        )

    first, second = _race(fund, fund)

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["transaction"]["id"] == second.json()["transaction"]["id"]
    with system_scope(reason="test: the outcome", audit=False):
        fundings = list(PaymentTransaction.objects.filter(escrow_id=escrow.id, kind=TransactionKind.FUND))
    assert [(str(funding.id), funding.status) for funding in fundings] == [
        (first.json()["transaction"]["id"], "pending")
    ]


def test_one_webhook_delivered_eight_times_at_once_is_recorded_and_applied_once(
    asgi_server, celery_worker, payment_sandbox, client_party, escrow
):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        funding = services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id, payment_method="pm_card_ok")
    # The worker submits it; the sandbox records its signed charge.succeeded (sent nowhere).
    webhook = payment_sandbox.wait_for_webhooks(str(funding.id))[0]

    def deliver():
        return httpx.post(
            f"http://{asgi_server}/api/v1/payments/webhooks/sandbox",
            content=webhook["body"],
            headers=webhook["headers"],
            timeout=20,
        )

    responses = _race(*[deliver] * 8)

    assert [response.status_code for response in responses] == [200] * 8
    assert sorted(response.json()["duplicate"] for response in responses) == [False] + [True] * 7
    assert wait_until(lambda: escrow_now(escrow.id).status == EscrowStatus.FUNDED, timeout=10)
    with system_scope(reason="test: the outcome", audit=False):
        events = list(WebhookEvent.objects.filter(reference=funding.id))
    assert [(event.event_id, event.applied_at is not None) for event in events] == [(webhook["event_id"], True)]
    assert entry_kinds(escrow.id) == ["funding"]
    assert escrow_now(escrow.id).held_amount == Decimal("1000.00")


def test_one_recorded_webhook_applied_by_eight_workers_at_once_moves_the_money_once(client_party, escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        funding = services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id)
    body, headers = signed(charge_event(funding, "charge.succeeded"))
    recorded, created = services.webhook_receive(provider="sandbox", body=body, headers=headers)
    assert created

    def apply():
        with tenant_scope(recorded.organization_id):
            return services.webhook_apply(webhook_event_id=recorded.pk)

    results = _race(*[apply] * 8)

    assert [type(result).__name__ for result in results] == ["WebhookEvent"] * 8
    assert entry_kinds(escrow.id) == ["funding"]
    after = escrow_now(escrow.id)
    assert (after.status, after.held_amount) == (EscrowStatus.FUNDED, Decimal("1000.00"))
    with system_scope(reason="test: the outcome", audit=False):
        event = WebhookEvent.objects.get(pk=recorded.pk)
    assert event.applied_at is not None
    assert event.attempts == 1  # the seven that waited on its lock found it applied
