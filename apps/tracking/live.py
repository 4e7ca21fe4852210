"""The live feed of a tracked shipment: location messages to `order.<id>` / `package.<id>`,
at most one per shipment per TRACKING["LIVE_LOCATION_INTERVAL_S"].

IN PROGRESS (issue 17): the push lands here; until then nothing is sent."""

from __future__ import annotations

from apps.tracking.models import TrackedShipment, TrackingEvent


def location_push(*, shipment: TrackedShipment, event: TrackingEvent) -> None:
    """After commit: tell the shipment's live group where it is now (coalesced)."""
