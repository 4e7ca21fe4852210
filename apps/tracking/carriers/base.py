"""The carrier tracking adapter: what the poller asks of a carrier's tracking API, whoever it is.

A carrier keeps, per tracking number, a stream of events (scans, positions, status changes)
that only grows. The poller reads it page by page from an opaque cursor the carrier gave
last time; the cursor of the last page is where the next poll starts, so each poll reads
only what is new. Events carry the carrier's own id: the same event read twice (a cursor
saved before a crash, a carrier that repeats itself) is stored once.

Errors say what the poller should do next: wait and ask again (`CarrierUnavailable`,
`CarrierRateLimited`), or count a failure that asking again will not mend (`TrackingNumberUnknown`,
`CarrierRejected`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Self

from apps.core.task_bases import TransientError


@dataclass(frozen=True)
class CarrierEvent:
    """One event of the carrier's, normalized to our tracking events."""

    carrier_event_id: str  # the carrier's id of the event: the same on every read
    event_type: str  # apps.tracking.models.EventType
    occurred_at: datetime  # aware, UTC: the carrier's time of the event
    status_code: str  # the carrier's own status code, kept in metadata
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    address: str = ""
    description: str = ""

    def as_row(self, *, carrier_code: str) -> dict:
        """The event as a row of the ingest service (JSON-like, as the events endpoint takes them)."""
        return {
            "event_type": str(self.event_type),  # plain text, as JSON gives it
            "occurred_at": self.occurred_at.isoformat(),
            "latitude": None if self.latitude is None else str(self.latitude),
            "longitude": None if self.longitude is None else str(self.longitude),
            "address": self.address,
            "description": self.description,
            "metadata": {
                "carrier_code": carrier_code,
                "carrier_event_id": self.carrier_event_id,
                "carrier_status": self.status_code,
            },
        }


@dataclass(frozen=True)
class Page:
    """One page of a tracking number's events, oldest first."""

    events: list[CarrierEvent]
    next_cursor: str  # where the next read starts: after this page (also after the last one)
    has_more: bool  # more events are there already; read on from next_cursor


class CarrierError(Exception):
    """Anything but a page from the carrier."""


class CarrierUnavailable(CarrierError, TransientError):
    """The carrier could not be reached, did not answer in time, answered 5xx or something
    unreadable. Ask again later."""


class CarrierRateLimited(CarrierUnavailable):
    """The carrier answered 429. `retry_after`: the seconds it asked us to wait, or None."""

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class TrackingNumberUnknown(CarrierError):
    """The carrier does not know the tracking number (404). It may learn it (a label printed
    before the parcel is handed over), so it is retried, but it counts as a failure."""


class CarrierRejected(CarrierError):
    """The carrier refused the request for good: bad credentials, a malformed number (4xx)."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


# The failures that asking again will not mend: the poller stops after enough of them.
PERMANENT_ERRORS: tuple[type[CarrierError], ...] = (TrackingNumberUnknown, CarrierRejected)


class CarrierTracking(ABC):
    """One carrier's tracking API. Instances are shared by threads (carrier_for caches them)."""

    code: str

    @classmethod
    @abstractmethod
    def from_options(cls, *, code: str, options: Mapping[str, Any]) -> Self:
        """The adapter configured by its TRACKING_CARRIERS entry (without BACKEND)."""

    @abstractmethod
    def fetch_events(self, *, tracking_number: str, cursor: str) -> Page:
        """The events of `tracking_number` after `cursor` ("" for the first), one page.

        Raises CarrierUnavailable or CarrierRateLimited (ask again later), TrackingNumberUnknown
        or CarrierRejected."""
