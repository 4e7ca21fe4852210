"""The adapter for the sandbox carrier (sandboxes/carrier_tracking.py), over real HTTP.

Retries are the poller's: urllib3 makes exactly one attempt, and the poller decides when to
ask again (its backoff, or the carrier's Retry-After).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Self
from urllib.parse import quote

import urllib3
from django.core.exceptions import ImproperlyConfigured

from apps.tracking.carriers.base import (
    CarrierEvent,
    CarrierRateLimited,
    CarrierRejected,
    CarrierTracking,
    CarrierUnavailable,
    Page,
    TrackingNumberUnknown,
)
from apps.tracking.models import EventType

DEFAULT_TIMEOUT = {"CONNECT": 2.0, "READ": 5.0}
DEFAULT_PAGE_SIZE = 50
USER_AGENT = "Manifest/1.0"
SIX_PLACES = Decimal("0.000001")

# The sandbox's statuses as our event types; a status it adds later is a status change.
STATUS_EVENT_TYPES = {
    "PICKED_UP": EventType.MILESTONE,
    "DELIVERED": EventType.MILESTONE,
    "ARRIVED": EventType.WAREHOUSE_SCAN,
    "DEPARTED": EventType.WAREHOUSE_SCAN,
    "IN_TRANSIT": EventType.LOCATION_UPDATE,
    "OUT_FOR_DELIVERY": EventType.STATUS_CHANGE,
    "EXCEPTION": EventType.STATUS_CHANGE,
}


def _timeout(option: float | Mapping[str, float] | None) -> urllib3.Timeout:
    """TIMEOUT: seconds for both the connect and the read, or {"CONNECT": s, "READ": s}."""
    if option is None:
        option = DEFAULT_TIMEOUT
    if isinstance(option, int | float):
        return urllib3.Timeout(connect=float(option), read=float(option))
    return urllib3.Timeout(
        connect=float(option.get("CONNECT", DEFAULT_TIMEOUT["CONNECT"])),
        read=float(option.get("READ", DEFAULT_TIMEOUT["READ"])),
    )


def _retry_after(value: str | None) -> int | None:
    """Retry-After in seconds; None when absent or an HTTP date (the sandbox sends seconds,
    and a date would need a clock we do not share with the carrier)."""
    if value and value.strip().isdigit():
        return int(value.strip())
    return None


class SandboxCarrier(CarrierTracking):
    """The sandbox's GET /v1/shipments/{number}/events."""

    def __init__(
        self, *, code: str, url: str, api_key: str, timeout: urllib3.Timeout | None = None, page_size: int = 50
    ):
        self.code = code
        self.url = url.rstrip("/")
        self.page_size = page_size
        self._api_key = api_key
        self._http = urllib3.PoolManager(timeout=timeout or _timeout(None), retries=False)

    @classmethod
    def from_options(cls, *, code: str, options: Mapping[str, Any]) -> Self:
        missing = [key for key in ("URL", "API_KEY") if not options.get(key)]
        if missing:
            raise ImproperlyConfigured(f"TRACKING_CARRIERS[{code!r}] needs {', '.join(missing)}.")
        return cls(
            code=code,
            url=options["URL"],
            api_key=options["API_KEY"],
            timeout=_timeout(options.get("TIMEOUT")),
            page_size=int(options.get("PAGE_SIZE", DEFAULT_PAGE_SIZE)),
        )

    def __repr__(self) -> str:
        return f"<SandboxCarrier {self.code} {self.url}>"  # never the key

    def fetch_events(self, *, tracking_number: str, cursor: str) -> Page:
        path = f"/v1/shipments/{quote(tracking_number, safe='')}/events"
        try:
            response = self._http.request(
                "GET",
                self.url + path,
                fields={"cursor": cursor, "limit": str(self.page_size)},
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                redirect=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise CarrierUnavailable(f"{self.code}: {error.__class__.__name__}") from error

        if response.status == 429:
            raise CarrierRateLimited(
                f"{self.code}: rate limited", retry_after=_retry_after(response.headers.get("Retry-After"))
            )
        if response.status >= 500:
            raise CarrierUnavailable(f"{self.code}: HTTP {response.status}")
        if response.status == 404:
            raise TrackingNumberUnknown(f"{self.code} does not know {tracking_number}")
        if response.status != 200:
            raise CarrierRejected(f"{self.code}: {_error_message(response)}", status_code=response.status)
        return self._page(response.data)

    def _page(self, body: bytes) -> Page:
        # An unreadable page is the carrier's hiccup: the same cursor is asked again later.
        try:
            answer = json.loads(body, parse_float=Decimal)
            events = [self._event(item) for item in answer["events"]]
            next_cursor, has_more = answer["next_cursor"], answer["has_more"]
        except (ValueError, TypeError, KeyError, InvalidOperation) as error:
            raise CarrierUnavailable(f"{self.code}: unreadable page ({error.__class__.__name__})") from error
        if not isinstance(next_cursor, str) or not isinstance(has_more, bool):
            raise CarrierUnavailable(f"{self.code}: unreadable page (cursor)")
        return Page(events=events, next_cursor=next_cursor, has_more=has_more)

    def _event(self, item: dict) -> CarrierEvent:
        status = str(item["status"])
        occurred_at = datetime.fromisoformat(item["occurred_at"].replace("Z", "+00:00"))
        if occurred_at.tzinfo is None:
            raise ValueError("occurred_at without its offset")
        location = item.get("location") or {}
        latitude, longitude = _coordinate(location.get("latitude")), _coordinate(location.get("longitude"))
        event_type = STATUS_EVENT_TYPES.get(status, EventType.STATUS_CHANGE)
        if event_type == EventType.LOCATION_UPDATE and (latitude is None or longitude is None):
            event_type = EventType.STATUS_CHANGE  # a position without coordinates says only the status
        return CarrierEvent(
            carrier_event_id=str(item["id"]),
            event_type=event_type,
            occurred_at=occurred_at.astimezone(UTC),
            status_code=status,
            latitude=latitude,
            longitude=longitude,
            address=str(location.get("address") or "")[:300],
            description=str(item.get("description") or "")[:300],
        )


def _coordinate(value) -> Decimal | None:
    # Our rows keep six decimal places (about 0.1 m); a carrier may send more.
    if value is None:
        return None
    return Decimal(str(value)).quantize(SIX_PLACES, rounding=ROUND_HALF_EVEN)


def _error_message(response: urllib3.BaseHTTPResponse) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return str(message or f"HTTP {response.status}")[:200]
