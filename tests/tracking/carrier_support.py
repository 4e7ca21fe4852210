"""The carrier sandbox for tracking tests: one real sandbox carrier per test session (per xdist
worker) on a free port, shared by tests that keep apart by their tracking numbers; and the
ingest service the poller stores through.

Fixtures (import them into a test module): carrier_sandbox, sandbox_carrier, ingest_service."""

from __future__ import annotations

import secrets
import sys
import types
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from django.utils import timezone

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


# --- The ingest service ---------------------------------------------------------------------
# STAND-IN until t17-ingest is merged: the poller stores through
# apps.tracking.services.ingest.events_record, built on another branch. While that module is
# missing, this fixture puts a minimal one in its place (plain INSERTs, no validation or
# processing) with the agreed signature; once it is merged the real one is used and this
# block can go. The tests that store events are those that take `ingest_service`.


@dataclass
class _StandInResult:
    stored: list
    duplicates: int
    rejected: list


def _stand_in_events_record(*, shipment, rows, source, actor, device_id=None, now=None):
    from apps.tracking.models import TrackingEvent

    now = now or timezone.now()
    events = [
        TrackingEvent(
            id=uuid.uuid4(),
            shipment_id=shipment.id,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
            event_type=row["event_type"],
            source=source,
            occurred_at=datetime.fromisoformat(row["occurred_at"]),
            received_at=now,
            latitude=row.get("latitude"),
            longitude=row.get("longitude"),
            address=row.get("address") or "",
            description=row.get("description") or "",
            metadata=row.get("metadata") or {},
            device_id=device_id,
            created_by_id=actor.user_id,
        )
        for row in rows
    ]
    # No ON CONFLICT: a carrier event stored twice fails the test at the unique index.
    return _StandInResult(stored=TrackingEvent.objects.bulk_create(events), duplicates=0, rejected=[])


@pytest.fixture
def ingest_service(monkeypatch):
    """apps.tracking.services.ingest: the real one once merged, else the stand-in above."""
    try:
        from apps.tracking.services import ingest
    except ImportError:
        ingest = types.ModuleType("apps.tracking.services.ingest")
        ingest.events_record = _stand_in_events_record
        monkeypatch.setitem(sys.modules, "apps.tracking.services.ingest", ingest)
    return ingest
