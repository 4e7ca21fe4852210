"""Fixtures of the escrow tests."""

from __future__ import annotations

import time

import httpx
import pytest

from apps.escrow.gateways import gateway_for
from sandboxes.payment_gateway import start_server

# === Payment sandbox (docs/payment-gateway.md) ==============================================
# One real sandbox provider per test session (per xdist worker), on a free port. Tests share
# it and keep apart by their references. Other fixtures go below this block.

PAYMENT_SANDBOX_SECRET = "test-sandbox-webhook-secret"
PAYMENT_SANDBOX_API_KEY = "test-sandbox-api-key"
# How long pm_card_timeout holds its answer: longer than the short client timeout a test
# sets to see the timeout (gateway_settings(TIMEOUT=0.5)), shorter than the default read.
PAYMENT_SANDBOX_SLOW_SECONDS = 1.5


class PaymentSandbox:
    """The running sandbox as a test sees it, through its own inspection endpoints."""

    def __init__(self, url: str):
        self.url = url
        self.secret = PAYMENT_SANDBOX_SECRET
        self.api_key = PAYMENT_SANDBOX_API_KEY
        self._http = httpx.Client(base_url=url, timeout=5)

    def gateway_settings(self, **options) -> dict:
        """PAYMENT_GATEWAYS with "sandbox" pointed at this server, `options` on top."""
        return {
            "sandbox": {
                "BACKEND": "apps.escrow.gateways.sandbox.SandboxGateway",
                "URL": self.url,
                "API_KEY": self.api_key,
                "SECRET": self.secret,
                "WEBHOOK_URL": "",  # recorded by the sandbox, sent nowhere
                "TIMEOUT": {"CONNECT": 2, "READ": 5},
                "TOLERANCE_SECONDS": 300,
                **options,
            }
        }

    def webhooks(self, reference: str | None = None) -> list[dict]:
        """Every delivery attempt so far, oldest first; "body" is the exact bytes sent.

        Each: event_id, type, reference, delivery (1 for the first delivery of an event),
        attempt (within the delivery), url, status (None: not sent), error, body, headers.
        """
        params = {} if reference is None else {"reference": reference}
        records = self._json("GET", "/_sandbox/webhooks", params=params)["webhooks"]
        return [{**record, "body": record["body"].encode()} for record in records]

    def wait_for_webhooks(self, reference: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """webhooks(reference) once there are at least `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhooks(reference)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} webhooks for {reference} after {timeout} s: {found}")
            time.sleep(0.02)

    def charge(self, external_id: str) -> dict:
        """The sandbox's view of a charge: status, amount_refunded, refunds."""
        return self._json("GET", f"/_sandbox/charges/{external_id}")

    def resend(self, event_id: str, timeout: float = 5.0) -> dict:
        """Deliver the event once more, newly signed; returns that delivery's first attempt."""
        delivery = self._json("POST", f"/_sandbox/webhooks/{event_id}/resend")["delivery"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.webhooks():
                if record["event_id"] == event_id and record["delivery"] == delivery:
                    return record
            time.sleep(0.02)
        raise AssertionError(f"delivery {delivery} of {event_id} not made after {timeout} s")

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def payment_sandbox():
    """The session's sandbox provider (see PaymentSandbox for its helpers)."""
    server = start_server(
        secret=PAYMENT_SANDBOX_SECRET, api_key=PAYMENT_SANDBOX_API_KEY, slow_seconds=PAYMENT_SANDBOX_SLOW_SECONDS
    )
    sandbox = PaymentSandbox(server.url)
    yield sandbox
    sandbox.close()
    server.stop()


@pytest.fixture
def sandbox_gateway(payment_sandbox, settings):
    """gateway_for("sandbox"), talking to the session's sandbox for this test."""
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings()
    return gateway_for("sandbox")


# === End of the payment sandbox block ========================================================


# === Parties, orders, escrows and the ledger check (tests/escrow/parties.py) ====================
from tests.escrow.parties import (  # noqa: E402, F401
    client_party,
    escrow,
    funded_escrow,
    ledger_stays_balanced,
    order,
    outsider,
    payment_gateways,
    supplier_party,
)
