"""What a batch of stored events does to its shipment: deviation from the planned corridor,
geofence entries and exits, the ETA and delays, cold-chain readings. Called by the ingest
service (apps/tracking/services/ingest.py) in its transaction, with the shipment locked.

IN PROGRESS (issue 17): the processing steps land here; until then a batch changes nothing
beyond what the ingest service itself records."""

from __future__ import annotations

from datetime import datetime

from apps.tracking.models import TrackedShipment, TrackingEvent


def batch_process(*, shipment: TrackedShipment, events: list[TrackingEvent], now: datetime) -> list[TrackingEvent]:
    """Process `events` (stored, plausible or flagged, sorted by occurred_at) for the locked
    `shipment`; returns the events it derived and stored (geofence entries and exits)."""
    return []
