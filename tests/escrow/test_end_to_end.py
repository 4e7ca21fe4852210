"""Escrow over the wire, every part real: users call the live ASGI server over HTTP, the Celery
worker submits to the sandbox provider, the sandbox POSTs its signed webhooks back to the live
server, and the worker applies them. The worker and the server run in this process, so the
settings fixture points the sandbox's webhooks at the server for them too."""

import asyncio
import json
from decimal import Decimal
from uuid import uuid4

import pytest
import websockets

from apps.accounts.services import session_start
from apps.core.context import system_scope
from apps.escrow.models import WebhookEvent
from tests.escrow.parties import entry_kinds, live_client
from tests.support import wait_until

pytestmark = pytest.mark.usefixtures("committed")

SETTLES_WITHIN = 15  # seconds: worker -> sandbox -> webhook -> server -> worker, on a busy machine


@pytest.fixture
def live(asgi_server, celery_worker, payment_sandbox, settings) -> str:
    """The live server's address, with the sandbox's webhooks going to it."""
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(
        WEBHOOK_URL=f"http://{asgi_server}/api/v1/payments/webhooks/sandbox"
    )
    return asgi_server


def money_post(http, path: str, body: dict):
    return http.post(f"/api/v1/payments/{path}", json=body, headers={"Idempotency-Key": uuid4().hex})


def status_of(http, escrow_id: str) -> dict:
    response = http.get(f"/api/v1/payments/escrow/{escrow_id}/status")
    assert response.status_code == 200, response.text
    return response.json()


def transaction_in(status: dict, transaction_id: str) -> dict:
    return next(transaction for transaction in status["transactions"] if transaction["id"] == transaction_id)


def open_escrow(payer, order) -> str:
    created = money_post(payer, "escrow/create", {"order_id": str(order.id)})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def fund_and_wait(payer, escrow_id: str, payment_method: str) -> dict:
    """Fund over HTTP; once the provider's webhook is applied, the transaction the fund answered with."""
    funding = money_post(payer, f"escrow/{escrow_id}/fund", {"payment_method": payment_method})
    assert funding.status_code == 202, funding.text
    assert funding.json()["escrow"]["status"] == "created"  # final only when the provider confirms
    assert wait_until(lambda: status_of(payer, escrow_id)["status"] == "funded", timeout=SETTLES_WITHIN)
    return funding.json()["transaction"]


def webhook_events(reference: str) -> list[WebhookEvent]:
    with system_scope(reason="test: the webhook events", audit=False):
        return list(WebhookEvent.objects.filter(reference=reference))


def test_an_escrow_is_funded_released_in_part_and_refunded_in_part_over_the_wire(
    live, payment_sandbox, client_party, supplier_party, order
):
    with live_client(live, client_party.staff) as payer, live_client(live, supplier_party.staff) as payee:
        escrow_id = open_escrow(payer, order)
        funding = fund_and_wait(payer, escrow_id, "pm_card_ok")
        released = money_post(payer, f"escrow/{escrow_id}/release", {"amount": "300.00"})
        refund = money_post(payee, "refunds", {"escrow_id": escrow_id, "amount": "200.00"})
        refund_id = refund.json()["transaction"]["id"]
        assert wait_until(
            lambda: transaction_in(status_of(payee, escrow_id), refund_id)["status"] == "completed",
            timeout=SETTLES_WITHIN,
        )
        final = status_of(payer, escrow_id)

    assert (released.status_code, released.json()["status"]) == (200, "partially_released")
    assert (refund.status_code, refund.json()["transaction"]["status"]) == (202, "pending")
    assert (final["held_amount"], final["released_amount"], final["refunded_amount"]) == ("500.00", "300.00", "200.00")
    charge = payment_sandbox.charge(transaction_in(final, funding["id"])["external_id"])
    assert (charge["status"], Decimal(charge["amount_refunded"])) == ("succeeded", Decimal("200.00"))
    assert entry_kinds(escrow_id) == ["funding", "release", "refund"]
    assert [event.applied_at is not None for event in webhook_events(funding["id"]) + webhook_events(refund_id)] == [
        True,
        True,
    ]


def test_a_charge_whose_webhook_the_provider_delivers_twice_funds_the_escrow_once(
    live, payment_sandbox, client_party, order
):
    with live_client(live, client_party.staff) as payer:
        escrow_id = open_escrow(payer, order)
        funding = fund_and_wait(payer, escrow_id, "pm_card_duplicate_webhook")
        deliveries = payment_sandbox.wait_for_webhooks(funding["id"], count=2)
        final = status_of(payer, escrow_id)

    assert [(delivery["delivery"], delivery["status"]) for delivery in deliveries] == [(1, 200), (2, 200)]
    assert len({delivery["event_id"] for delivery in deliveries}) == 1
    assert [event.event_id for event in webhook_events(funding["id"])] == [deliveries[0]["event_id"]]
    assert entry_kinds(escrow_id) == ["funding"]
    assert final["held_amount"] == "1000.00"


def test_a_refund_the_provider_fails_credits_the_clients_available_balance(live, client_party, supplier_party, order):
    with live_client(live, client_party.staff) as payer, live_client(live, supplier_party.staff) as payee:
        escrow_id = open_escrow(payer, order)
        fund_and_wait(payer, escrow_id, "pm_card_refund_fails")
        refund = money_post(payee, "refunds", {"escrow_id": escrow_id, "amount": "250.00"})
        refund_id = refund.json()["transaction"]["id"]
        assert wait_until(
            lambda: transaction_in(status_of(payee, escrow_id), refund_id)["status"] == "failed",
            timeout=SETTLES_WITHIN,
        )
        failed = transaction_in(status_of(payee, escrow_id), refund_id)
        balances = payer.get("/api/v1/payments/balances").json()["data"]

    assert failed["failure_reason"] == "refund_declined"
    assert [(row["currency"], Decimal(row["available"]), Decimal(row["held"])) for row in balances] == [
        ("EUR", Decimal("250.00"), Decimal("750.00"))
    ]
    assert entry_kinds(escrow_id) == ["funding", "refund", "refund_failed"]


async def _receive_until(ws, predicate, timeout=SETTLES_WITHIN):
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


def test_the_clients_live_feed_hears_that_the_escrow_is_funded(live, client_party, order):
    token = session_start(user=client_party.staff).access

    with live_client(live, client_party.staff) as payer:
        escrow_id = open_escrow(payer, order)

        async def scenario():
            async with websockets.connect(f"ws://{live}/ws/v1/events/?token={token}", origin=f"http://{live}") as ws:
                await ws.recv()  # connected
                await ws.send(json.dumps({"action": "subscribe", "group": f"org.{client_party.org.id}"}))
                await ws.recv()  # subscribed
                funding = await asyncio.to_thread(
                    money_post, payer, f"escrow/{escrow_id}/fund", {"payment_method": "pm_card_ok"}
                )
                funded = await _receive_until(
                    ws,
                    lambda message: (
                        message.get("event", {}).get("event_type") == "escrow.funded"
                        and message["event"]["aggregate_id"] == escrow_id
                    ),
                )
                return funding, funded

        funding, funded = asyncio.run(scenario())

    assert funding.status_code == 202
    payload = funded["event"]["payload"]
    assert (payload["status"], payload["transaction_id"]) == ("funded", funding.json()["transaction"]["id"])
    assert Decimal(payload["held_amount"]) == Decimal("1000.00")
