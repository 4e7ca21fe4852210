"""What the marketplace does when another context's events arrive (through the outbox, at least
once: every handler is idempotent)."""

from __future__ import annotations

from apps.marketplace.services import bookings


def order_status_changed(event) -> None:
    """A booked order cancelled by a party cancels its pending booking with it."""
    if event.payload.get("to_status") == "cancelled":
        bookings.booking_cancel_with_order(order_id=event.payload["order_id"])
