"""What escrow does when other contexts' events arrive (through the outbox relay, in the
scope of the organization that published them). Receivers only delegate to services."""

from __future__ import annotations

from apps.core.actors import Actor
from apps.escrow import services


def order_status_changed(event) -> None:
    """Delivery proved starts the auto-release clock; a cancelled order closes its unfunded escrow."""
    to_status = event.payload.get("to_status")
    order_id = event.payload["order_id"]
    if to_status == "delivered":
        services.escrow_record_delivery(order_id=order_id, delivered_at=event.created_at)
    elif to_status == "cancelled":
        services.escrow_cancel(
            actor=Actor.system(organization_id=event.organization_id),
            order_id=order_id,
            reason="The order was cancelled",
        )
