"""What tracking does when other contexts' events arrive (through the outbox relay, in the
scope of the organization that published them, at least once). Receivers only delegate."""

from __future__ import annotations

from uuid import UUID

from apps.tracking.services import shipments


def order_status_changed(event) -> None:
    """A freight order confirmed starts its tracking; later moves are copied, the end stops it."""
    if event.payload.get("kind") != "freight":
        return
    shipments.tracking_follow_order(order_id=UUID(event.payload["order_id"]))


def package_status_changed(event) -> None:
    """A package that leaves the warehouse is tracked; delivery stops it."""
    shipments.tracking_follow_package(package_id=UUID(event.payload["package_id"]))
