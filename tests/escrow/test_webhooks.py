"""The webhook endpoint as a payment provider meets it: POST /api/v1/payments/webhooks/<provider>
with a raw JSON body signed in Sandbox-Signature, and no user (the signature is the credential).

A refused webhook is 400 in the error envelope and records nothing; an accepted one is recorded
once per event id and applied by the worker's task (run here in process: in these rolled-back
tests on_commit never fires, so nothing is applied by itself)."""

import time
from decimal import Decimal
from uuid import uuid4

import pytest
from django.conf import settings

from apps.core.context import system_scope, tenant_scope
from apps.escrow import selectors, services, tasks
from apps.escrow.models import EscrowStatus, PaymentTransaction, TransactionStatus, WebhookEvent
from sandboxes.payment_gateway import sign
from tests.escrow.parties import WEBHOOK_SECRET, charge_event, entry_kinds, escrow_now, signed

pytestmark = pytest.mark.django_db

ENVELOPE = {"error_code", "message", "details", "timestamp", "request_id"}


def post_webhook(api, body: bytes, headers: dict, *, provider: str = "sandbox"):
    """POST the body byte for byte, with the provider's headers, and no user."""
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    extra.pop("HTTP_CONTENT_TYPE", None)
    return api().post(f"/api/v1/payments/webhooks/{provider}", data=body, content_type="application/json", **extra)


def recorded_events() -> list[WebhookEvent]:
    with system_scope(reason="test: the webhook events", audit=False):
        return list(WebhookEvent.objects.order_by("id"))


def apply_as_the_worker(event: WebhookEvent) -> None:
    result = tasks.payment_webhook_apply.apply(
        kwargs={"webhook_event_id": event.pk, "organization_id": str(event.organization_id)}
    )
    assert result.successful(), result.traceback


def transaction_now(transaction_id) -> PaymentTransaction:
    with system_scope(reason="test: the outcome", audit=False):
        return PaymentTransaction.objects.get(pk=transaction_id)


@pytest.fixture
def funding(client_party, escrow) -> PaymentTransaction:
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        return services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id, payment_method="pm_card_ok")


def test_a_well_signed_charge_succeeded_is_received_recorded_and_funds_the_escrow_once_applied(
    api, funding, escrow, django_capture_on_commit_callbacks
):
    event = charge_event(funding, "charge.succeeded")

    with django_capture_on_commit_callbacks() as enqueued:
        response = post_webhook(api, *signed(event))

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    assert len(enqueued) == 1  # the task that applies it, once committed
    (recorded,) = recorded_events()
    assert (recorded.event_id, recorded.reference, recorded.applied_at) == (event["id"], funding.id, None)
    apply_as_the_worker(recorded)
    assert escrow_now(escrow.id).status == EscrowStatus.FUNDED
    assert entry_kinds(escrow.id) == ["funding"]


def _bad_signature(event):
    body, headers = signed(event)
    timestamp = headers["Sandbox-Signature"].split(",")[0]
    return body, {**headers, "Sandbox-Signature": f"{timestamp},v1={'0' * 64}"}


def _tampered_body(event):
    body, headers = signed(event)
    tampered = body.replace(b'"1000.0000"', b'"1.0000"').replace(b'"1000.00"', b'"1.00"')
    assert tampered != body
    return tampered, headers


def _stale(event):
    tolerance = settings.PAYMENT_GATEWAYS["sandbox"]["TOLERANCE_SECONDS"]
    return signed(event, timestamp=int(time.time()) - tolerance - 60)


def _no_signature(event):
    body, headers = signed(event)
    return body, {"Content-Type": headers["Content-Type"]}


def _malformed_json(event):
    body = b'{"id": "evt_1", "type": "charge.succeeded", "data": '
    return body, {"Sandbox-Signature": sign(WEBHOOK_SECRET, body, int(time.time()))}


def _not_our_transaction(event):
    return signed({**event, "data": {"object": {**event["data"]["object"], "reference": "pay-elsewhere"}}})


def _unknown_organization(event):
    obj = event["data"]["object"]
    return signed(
        {**event, "data": {"object": {**obj, "metadata": {**obj["metadata"], "organization_id": str(uuid4())}}}}
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(_bad_signature, {"signature": ["signature"]}, id="wrong signature"),
        pytest.param(_tampered_body, {"signature": ["signature"]}, id="tampered body"),
        pytest.param(
            lambda event: signed(event, secret="not-our-secret"), {"signature": ["signature"]}, id="wrong secret"
        ),
        pytest.param(_stale, {"signature": ["stale"]}, id="stale timestamp"),
        pytest.param(_no_signature, {"signature": ["signature"]}, id="missing header"),
        pytest.param(_malformed_json, {"signature": ["malformed"]}, id="malformed json"),
        pytest.param(_not_our_transaction, {"reference": ["Unknown."]}, id="reference not ours"),
        pytest.param(_unknown_organization, {"metadata.organization_id": ["Unknown."]}, id="organization unknown"),
    ],
)
def test_a_webhook_that_must_not_be_believed_is_400_and_records_nothing(api, funding, escrow, make, reason):
    body, headers = make(charge_event(funding, "charge.succeeded"))

    response = post_webhook(api, body, headers)

    assert response.status_code == 400, response.content
    answer = response.json()
    assert set(answer) == ENVELOPE
    assert (answer["error_code"], answer["details"]) == ("VALIDATION_FIELD_INVALID", reason)
    assert recorded_events() == []
    assert escrow_now(escrow.id).status == EscrowStatus.CREATED


def test_the_same_event_delivered_twice_is_200_duplicate_and_applied_once(
    api, funding, escrow, django_capture_on_commit_callbacks
):
    event = charge_event(funding, "charge.succeeded")

    with django_capture_on_commit_callbacks() as enqueued:
        first = post_webhook(api, *signed(event))
        again = post_webhook(api, *signed(event, timestamp=int(time.time()) + 1))  # a redelivery, newly signed

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert len(enqueued) == 1
    (recorded,) = recorded_events()
    apply_as_the_worker(recorded)
    apply_as_the_worker(recorded)  # a redelivered task finds it applied
    assert entry_kinds(escrow.id) == ["funding"]
    assert escrow_now(escrow.id).held_amount == Decimal("1000.00")


def test_an_unknown_provider_is_404_and_records_nothing(api, funding):
    response = post_webhook(api, *signed(charge_event(funding, "charge.succeeded")), provider="stripe")

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert recorded_events() == []


@pytest.mark.parametrize(
    ("event_type", "overrides", "why"),
    [
        pytest.param("charge.succeeded", {"reference": str(uuid4())}, "no such payment transaction", id="unknown"),
        pytest.param("charge.succeeded", {"amount": "999.00"}, "amount 999.00 differs", id="amount mismatch"),
        pytest.param("charge.succeeded", {"currency": "USD"}, "currency USD differs", id="currency mismatch"),
        pytest.param("refund.succeeded", {}, "refund.succeeded for a fund transaction", id="kind mismatch"),
    ],
)
def test_a_signed_event_that_does_not_match_our_transaction_is_recorded_ignored_and_moves_nothing(
    api, client_party, funding, escrow, event_type, overrides, why
):
    response = post_webhook(api, *signed(charge_event(funding, event_type, **overrides)))
    (recorded,) = recorded_events()

    apply_as_the_worker(recorded)

    assert response.status_code == 200
    (ignored,) = recorded_events()
    assert ignored.applied_at is not None  # settled: the sweep does not retry it
    assert ignored.last_error.startswith(f"ignored: {why}"), ignored.last_error
    assert escrow_now(escrow.id).status == EscrowStatus.CREATED
    assert transaction_now(funding.id).status == TransactionStatus.PENDING
    assert entry_kinds(escrow.id) == []
    with tenant_scope(client_party.org.id):
        assert selectors.balances(organization_id=client_party.org.id) == []
