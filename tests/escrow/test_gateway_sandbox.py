"""The sandbox payment gateway: our adapter against the sandbox provider, over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

import pytest

from apps.escrow.gateways import UnknownProvider, gateway_for
from apps.escrow.gateways.base import GatewayRejected, GatewayUnavailable, WebhookRejected
from apps.escrow.gateways.sandbox import SandboxGateway
from sandboxes.payment_gateway import start_server
from tests.support import free_port


def new_reference() -> str:
    return f"test-{uuid4().hex}"


def charge(gateway, *, reference=None, amount="100.00", payment_method="pm_card_ok", idempotency_key=None):
    return gateway.charge_create(
        reference=reference or new_reference(),
        amount=Decimal(amount),
        currency="EUR",
        payment_method=payment_method,
        metadata={"escrow_id": "42"},
        idempotency_key=idempotency_key or uuid4().hex,
    )


def refund(gateway, *, charge_external_id, amount, reference=None, currency="EUR"):
    return gateway.refund_create(
        reference=reference or new_reference(),
        charge_external_id=charge_external_id,
        amount=Decimal(amount),
        currency=currency,
        metadata={},
        idempotency_key=uuid4().hex,
    )


def succeeded_charge(gateway, sandbox, *, payment_method="pm_card_ok", amount="100.00"):
    """A charge whose charge.succeeded has been sent: only such a charge can be refunded."""
    reference = new_reference()
    result = charge(gateway, reference=reference, amount=amount, payment_method=payment_method)
    sandbox.wait_for_webhooks(reference)
    return result


def recorded_webhook(gateway, sandbox, **charge_options) -> dict:
    reference = new_reference()
    charge(gateway, reference=reference, **charge_options)
    return sandbox.wait_for_webhooks(reference)[0]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signed_at(webhook: dict) -> datetime:
    timestamp = int(webhook["headers"]["Sandbox-Signature"].split(",")[0].removeprefix("t="))
    return datetime.fromtimestamp(timestamp, UTC)


class RecordingEndpoint:
    """A tiny HTTP server that records every POST and answers the statuses it was given, then 200.

    Plays a webhook receiver (.url), or a provider in trouble (.base_url).
    """

    def __init__(self, *statuses: int):
        self.received: list[dict] = []
        statuses_left = list(statuses)
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.received.append({"body": body, "headers": dict(self.headers)})
                self.send_response(statuses_left.pop(0) if statuses_left else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = f"{self.base_url}/webhooks/sandbox"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recording_endpoint():
    """recording_endpoint(*statuses) -> a started RecordingEndpoint, stopped after the test."""
    endpoints = []

    def make(*statuses: int) -> RecordingEndpoint:
        endpoints.append(RecordingEndpoint(*statuses))
        return endpoints[-1]

    yield make
    for endpoint in endpoints:
        endpoint.stop()


# --- Charges ---------------------------------------------------------------------------


def test_charge_answers_pending_and_its_signed_succeeded_webhook_verifies(sandbox_gateway, payment_sandbox):
    reference = new_reference()

    result = charge(sandbox_gateway, reference=reference, amount="250.00")

    assert result.status == "pending"
    assert result.external_id.startswith("ch_")
    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert notice.event_type == "charge.succeeded"
    assert notice.event_id == webhook["event_id"]
    assert (notice.provider, notice.external_id, notice.reference) == ("sandbox", result.external_id, reference)
    assert (notice.amount, notice.currency, notice.metadata) == (Decimal("250.00"), "EUR", {"escrow_id": "42"})
    assert notice.occurred_at.tzinfo is not None
    assert abs(notice.occurred_at - datetime.now(UTC)) < timedelta(seconds=10)
    assert payment_sandbox.charge(result.external_id)["status"] == "succeeded"


def test_charge_amount_travels_as_an_exact_decimal_string(sandbox_gateway, payment_sandbox):
    reference = new_reference()

    charge(sandbox_gateway, reference=reference, amount="1234567.89")

    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    assert json.loads(webhook["body"])["data"]["object"]["amount"] == "1234567.89"
    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert notice.amount == Decimal("1234567.89")
    assert str(notice.amount) == "1234567.89"


def test_charge_with_a_float_amount_is_refused_before_it_is_sent(sandbox_gateway):
    with pytest.raises(TypeError):
        sandbox_gateway.charge_create(
            reference=new_reference(),
            amount=10.1,
            currency="EUR",
            payment_method="pm_card_ok",
            metadata={},
            idempotency_key=uuid4().hex,
        )


def test_declined_card_ends_in_charge_failed_with_card_declined(sandbox_gateway, payment_sandbox):
    reference = new_reference()

    result = charge(sandbox_gateway, reference=reference, payment_method="pm_card_declined")

    assert result.status == "pending"  # the decline comes by webhook, as with a real provider
    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert (notice.event_type, notice.failure_reason) == ("charge.failed", "card_declined")


def test_duplicate_webhook_token_delivers_one_event_twice(sandbox_gateway, payment_sandbox):
    reference = new_reference()

    charge(sandbox_gateway, reference=reference, payment_method="pm_card_duplicate_webhook")

    first, second = payment_sandbox.wait_for_webhooks(reference, count=2)
    assert first["event_id"] == second["event_id"]
    assert (first["delivery"], second["delivery"]) == (1, 2)
    for webhook in (first, second):
        assert sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"]).event_type == (
            "charge.succeeded"
        )


def test_retry_with_the_same_key_returns_the_same_charge_and_no_second_webhook(sandbox_gateway, payment_sandbox):
    reference, key = new_reference(), uuid4().hex
    first = charge(sandbox_gateway, reference=reference, idempotency_key=key)
    payment_sandbox.wait_for_webhooks(reference)

    again = charge(sandbox_gateway, reference=reference, idempotency_key=key)

    assert again.external_id == first.external_id
    time.sleep(0.2)  # a second event would have come 20 ms after the retry
    assert len(payment_sandbox.webhooks(reference)) == 1


def test_same_key_with_a_different_body_is_rejected(sandbox_gateway):
    key = uuid4().hex
    charge(sandbox_gateway, amount="100.00", idempotency_key=key)

    with pytest.raises(GatewayRejected) as rejected:
        charge(sandbox_gateway, amount="100.01", idempotency_key=key)

    assert rejected.value.status_code == 409
    assert "Idempotency-Key" in rejected.value.reason


def test_unknown_payment_method_is_rejected(sandbox_gateway):
    with pytest.raises(GatewayRejected) as rejected:
        charge(sandbox_gateway, payment_method="pm_card_made_up")

    assert rejected.value.reason == "unknown payment_method"


def test_wrong_api_key_is_rejected(payment_sandbox, settings):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(API_KEY="not-the-key")

    with pytest.raises(GatewayRejected) as rejected:
        charge(gateway_for("sandbox"))

    assert rejected.value.status_code == 401


def test_slow_provider_raises_unavailable_within_the_client_timeout(payment_sandbox, settings):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(TIMEOUT=0.5)
    started = time.monotonic()

    with pytest.raises(GatewayUnavailable):
        charge(gateway_for("sandbox"), payment_method="pm_card_timeout")

    # Well short of the 1.5 s the sandbox holds its answer: the client gave up on its own.
    assert time.monotonic() - started < 1.2


def test_retry_after_a_timeout_returns_the_charge_that_was_created(payment_sandbox, settings):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(TIMEOUT=0.5)
    gateway, reference, key = gateway_for("sandbox"), new_reference(), uuid4().hex
    with pytest.raises(GatewayUnavailable):
        charge(gateway, reference=reference, payment_method="pm_card_timeout", idempotency_key=key)

    started = time.monotonic()
    retried = charge(gateway, reference=reference, payment_method="pm_card_timeout", idempotency_key=key)

    assert time.monotonic() - started < 0.5
    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    notice = gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert (notice.event_type, notice.external_id) == ("charge.succeeded", retried.external_id)


def test_closed_port_raises_unavailable(payment_sandbox, settings):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(URL=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(GatewayUnavailable):
        charge(gateway_for("sandbox"))


def test_server_error_from_the_provider_raises_unavailable(payment_sandbox, settings, recording_endpoint):
    provider_in_trouble = recording_endpoint(503)
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(URL=provider_in_trouble.base_url)

    with pytest.raises(GatewayUnavailable):
        charge(gateway_for("sandbox"))

    assert len(provider_in_trouble.received) == 1  # no retry inside the client: the task retries


# --- Refunds ---------------------------------------------------------------------------


def test_refund_of_a_succeeded_charge_ends_in_refund_succeeded(sandbox_gateway, payment_sandbox):
    charged = succeeded_charge(sandbox_gateway, payment_sandbox, amount="100.00")
    reference = new_reference()

    result = refund(sandbox_gateway, charge_external_id=charged.external_id, amount="40.00", reference=reference)

    assert (result.status, result.external_id[:3]) == ("pending", "re_")
    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert (notice.event_type, notice.external_id, notice.amount) == (
        "refund.succeeded",
        result.external_id,
        Decimal("40.00"),
    )
    assert payment_sandbox.charge(charged.external_id)["amount_refunded"] == "40.00"


def test_refund_beyond_what_remains_refundable_is_rejected(sandbox_gateway, payment_sandbox):
    charged = succeeded_charge(sandbox_gateway, payment_sandbox, amount="100.00")
    refund(sandbox_gateway, charge_external_id=charged.external_id, amount="60.00")

    with pytest.raises(GatewayRejected) as rejected:
        refund(sandbox_gateway, charge_external_id=charged.external_id, amount="40.01")

    assert "remains refundable" in rejected.value.reason


def test_refund_in_another_currency_is_rejected(sandbox_gateway, payment_sandbox):
    charged = succeeded_charge(sandbox_gateway, payment_sandbox)

    with pytest.raises(GatewayRejected) as rejected:
        refund(sandbox_gateway, charge_external_id=charged.external_id, amount="10.00", currency="USD")

    assert "currency" in rejected.value.reason


def test_refund_of_an_unknown_charge_is_rejected(sandbox_gateway):
    with pytest.raises(GatewayRejected) as rejected:
        refund(sandbox_gateway, charge_external_id="ch_unknown", amount="10.00")

    assert rejected.value.status_code == 404


def test_refund_on_a_refund_fails_card_ends_in_refund_failed(sandbox_gateway, payment_sandbox):
    charged = succeeded_charge(sandbox_gateway, payment_sandbox, payment_method="pm_card_refund_fails")
    reference = new_reference()

    refund(sandbox_gateway, charge_external_id=charged.external_id, amount="100.00", reference=reference)

    [webhook] = payment_sandbox.wait_for_webhooks(reference)
    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"])
    assert (notice.event_type, notice.failure_reason) == ("refund.failed", "refund_declined")
    assert payment_sandbox.charge(charged.external_id)["amount_refunded"] == "0"


# --- Webhook verification --------------------------------------------------------------


def test_webhook_with_a_tampered_body_is_rejected(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox, amount="100.00")
    tampered = webhook["body"].replace(b'"amount":"100.00"', b'"amount":"900.00"')
    assert tampered != webhook["body"]

    with pytest.raises(WebhookRejected) as rejected:
        sandbox_gateway.webhook_verify(body=tampered, headers=webhook["headers"])

    assert rejected.value.reason == "signature"


def test_webhook_checked_with_another_secret_is_rejected(sandbox_gateway, payment_sandbox, settings):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(SECRET="another-secret")

    with pytest.raises(WebhookRejected) as rejected:
        gateway_for("sandbox").webhook_verify(body=webhook["body"], headers=webhook["headers"])

    assert rejected.value.reason == "signature"


def test_webhook_signed_longer_ago_than_the_tolerance_is_rejected(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)
    later = signed_at(webhook) + timedelta(seconds=301)

    with pytest.raises(WebhookRejected) as rejected:
        sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"], now=later)

    assert rejected.value.reason == "stale"


def test_webhook_signed_within_the_tolerance_verifies(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)
    later = signed_at(webhook) + timedelta(seconds=299)

    notice = sandbox_gateway.webhook_verify(body=webhook["body"], headers=webhook["headers"], now=later)

    assert notice.event_id == webhook["event_id"]


def test_webhook_without_a_signature_header_is_rejected(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)

    with pytest.raises(WebhookRejected) as rejected:
        sandbox_gateway.webhook_verify(body=webhook["body"], headers={"Content-Type": "application/json"})

    assert rejected.value.reason == "signature"


def test_webhook_with_a_garbled_signature_header_is_rejected(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)

    with pytest.raises(WebhookRejected) as rejected:
        sandbox_gateway.webhook_verify(body=webhook["body"], headers={"Sandbox-Signature": "t=soon,v1=xyz"})

    assert rejected.value.reason == "signature"


def test_signature_header_is_found_whatever_the_case_of_its_name(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)

    notice = sandbox_gateway.webhook_verify(
        body=webhook["body"], headers={"sandbox-signature": webhook["headers"]["Sandbox-Signature"]}
    )

    assert notice.event_id == webhook["event_id"]


def test_signed_body_that_is_not_an_event_is_rejected_as_malformed(sandbox_gateway, payment_sandbox):
    body = json.dumps({"id": "evt_1", "type": "charge.succeeded", "data": {"object": {"amount": 100.0}}}).encode()
    headers = {"Sandbox-Signature": sign(payment_sandbox.secret, body, int(time.time()))}

    with pytest.raises(WebhookRejected) as rejected:
        sandbox_gateway.webhook_verify(body=body, headers=headers)

    assert rejected.value.reason == "malformed"


# --- Delivery --------------------------------------------------------------------------


def test_webhook_is_delivered_to_the_callback_url_and_verifies(payment_sandbox, settings, recording_endpoint):
    endpoint = recording_endpoint()
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(WEBHOOK_URL=endpoint.url)
    gateway = gateway_for("sandbox")

    result = charge(gateway)

    [delivered] = endpoint.wait_for(1)
    assert delivered["headers"]["Content-Type"] == "application/json"
    notice = gateway.webhook_verify(body=delivered["body"], headers=delivered["headers"])
    assert (notice.event_type, notice.external_id) == ("charge.succeeded", result.external_id)


def test_delivery_answered_with_500_is_retried_until_it_succeeds(payment_sandbox, settings, recording_endpoint):
    endpoint = recording_endpoint(500)
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(WEBHOOK_URL=endpoint.url)
    reference = new_reference()

    charge(gateway_for("sandbox"), reference=reference)

    first, second = endpoint.wait_for(2)
    assert first["body"] == second["body"]
    attempts = payment_sandbox.wait_for_webhooks(reference, count=2)
    assert [(attempt["attempt"], attempt["status"]) for attempt in attempts] == [(1, 500), (2, 200)]


def test_delivery_goes_to_the_servers_webhook_url_when_the_request_names_none(
    payment_sandbox, settings, recording_endpoint
):
    endpoint = recording_endpoint()
    secrets = {"secret": payment_sandbox.secret, "api_key": payment_sandbox.api_key}
    with start_server(**secrets, webhook_url=endpoint.url) as server:
        settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(URL=server.url, WEBHOOK_URL="")

        result = charge(gateway_for("sandbox"))

        [delivered] = endpoint.wait_for(1)
    assert json.loads(delivered["body"])["data"]["object"]["id"] == result.external_id


def test_resend_delivers_the_same_event_again_newly_signed(sandbox_gateway, payment_sandbox):
    webhook = recorded_webhook(sandbox_gateway, payment_sandbox)

    resent = payment_sandbox.resend(webhook["event_id"])

    assert (resent["event_id"], resent["delivery"]) == (webhook["event_id"], 2)
    assert resent["body"] == webhook["body"]
    notice = sandbox_gateway.webhook_verify(body=resent["body"], headers=resent["headers"])
    assert notice.event_id == webhook["event_id"]


# --- gateway_for -----------------------------------------------------------------------


def test_unknown_provider_is_not_found(settings):
    settings.PAYMENT_GATEWAYS = {}

    with pytest.raises(UnknownProvider) as unknown:
        gateway_for("sandbox")

    assert (unknown.value.status_code, unknown.value.message) == (404, "Unknown payment provider.")


def test_gateway_is_built_once_per_process(sandbox_gateway):
    assert gateway_for("sandbox") is sandbox_gateway


def test_gateway_is_rebuilt_when_the_settings_change(sandbox_gateway, payment_sandbox, settings):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(URL="http://127.0.0.1:9")

    rebuilt = gateway_for("sandbox")

    assert isinstance(rebuilt, SandboxGateway)
    assert rebuilt is not sandbox_gateway
    assert rebuilt.url == "http://127.0.0.1:9"
