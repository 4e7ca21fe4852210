"""What the documents context does when another context's events arrive (through the outbox,
at least once: every handler is idempotent)."""

from __future__ import annotations

from apps.documents import services


def shipment_changed(event) -> None:
    """shipment.updated / shipment.amended: the versions made before it are outdated."""
    services.documents_mark_outdated(order_id=event.payload["order_id"], changed_at=event.created_at)
