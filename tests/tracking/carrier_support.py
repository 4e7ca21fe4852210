"""The carrier sandbox for tracking tests: one real sandbox carrier per test session (per xdist
worker) on a free port, shared by tests that keep apart by their tracking numbers; and the
ingest service the poller stores through.

Fixtures (import them into a test module): carrier_sandbox, sandbox_carrier, ingest_service."""

from __future__ import annotations

import secrets
from datetime import datetime

import httpx
import pytest

from apps.tracking.carriers import carrier_for
from sandboxes.carrier_tracking import start_server

CARRIER_SANDBOX_API_KEY = "test-carrier-sandbox-api-key"


def new_number() -> str:
    return f"T{secrets.token_hex(6).upper()}"


class CarrierSandbox:
    """The running sandbox as a test sees it, through its own endpoints."""

    def __init__(self, url: str):
        self.url = url
        self.api_key = CARRIER_SANDBOX_API_KEY
        self._http = httpx.Client(base_url=url, timeout=5)

    def carrier_settings(self, **options) -> dict:
        """TRACKING_CARRIERS with "sandbox" pointed at this server, `options` on top."""
        return {
            "sandbox": {
                "BACKEND": "apps.tracking.carriers.sandbox.SandboxCarrier",
                "URL": self.url,
                "API_KEY": self.api_key,
                "TIMEOUT": {"CONNECT": 2, "READ": 5},
                "PAGE_SIZE": 2,
                **options,
            }
        }

    def register(self, number: str, events: list[dict]) -> None:
        """The number's stream is `events` ({"status", "occurred_at", ...}; ids made up when absent)."""
        self._json("POST", "/_sandbox/shipments", json={"tracking_number": number, "events": events})

    def generate(self, number: str, *, count: int, started_at: datetime, every_seconds: int = 60) -> None:
        generate = {"count": count, "started_at": started_at.isoformat(), "every_seconds": every_seconds}
        self._json("POST", "/_sandbox/shipments", json={"tracking_number": number, "generate": generate})

    def append(self, number: str, events: list[dict]) -> None:
        self._json("POST", f"/_sandbox/shipments/{number}/events", json={"events": events})

    def fault(self, number: str, status: int, *, count: int = 1, retry_after: int | None = None) -> None:
        """The next `count` calls for `number` answer `status` (with Retry-After when given)."""
        fault = {"tracking_number": number, "status": status, "count": count, "retry_after": retry_after}
        self._json("POST", "/_sandbox/faults", json=fault)

    def requests(self, number: str) -> list[dict]:
        """The calls the sandbox served for `number`, oldest first: cursor, limit, status."""
        return self._json("GET", "/_sandbox/requests", params={"tracking_number": number})["requests"]

    def _json(self, method: str, path: str, **kwargs) -> dict:
        response = self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="session")
def carrier_sandbox():
    server = start_server(api_key=CARRIER_SANDBOX_API_KEY)
    sandbox = CarrierSandbox(server.url)
    yield sandbox
    sandbox.close()
    server.stop()


@pytest.fixture
def sandbox_carrier(carrier_sandbox, settings):
    """carrier_for("sandbox"), talking to the session's sandbox, two events a page."""
    settings.TRACKING_CARRIERS = carrier_sandbox.carrier_settings()
    return carrier_for("sandbox")


@pytest.fixture
def ingest_service():
    """The ingest service the poller stores through."""
    from apps.tracking.services import ingest

    return ingest
