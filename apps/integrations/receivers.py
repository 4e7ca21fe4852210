"""What integrations do when other contexts' events arrive (through the outbox, at least once:
every handler is idempotent)."""

from __future__ import annotations

from uuid import UUID


def order_status_changed(event) -> None:
    """A platform order we shipped: its fulfilment is pushed back to the platform (once per event)."""
    from apps.core.context import tenant_scope
    from apps.integrations.services.pushes import status_push_create

    payload = event.payload
    if payload.get("kind") != "platform" or event.organization_id is None:
        return
    with tenant_scope(event.organization_id):
        status_push_create(
            organization_id=event.organization_id,
            order_id=UUID(payload["order_id"]),
            to_status=payload.get("to_status", ""),
            event_id=event.id,
        )
