"""Reads of carrier tracking: a shipment's carrier, its number and how its polling goes."""

from __future__ import annotations

from uuid import UUID

from apps.core.errors import NotFound
from apps.core.visibility import visible_rows
from apps.tracking.models import TrackedShipment

CARRIER_TRACKING_FIELDS = (
    "id",
    "order_id",
    "client_organization_id",
    "supplier_organization_id",
    "is_active",
    "carrier_code",
    "external_tracking_number",
    "poll_next_at",
    "poll_failures",
    "poll_error_code",
    "poll_error",
    "poll_stopped_at",
)


def carrier_tracking_get(*, organization_id: UUID, order_id: UUID) -> TrackedShipment:
    """The tracked shipment of an order the organization is a party of (only the carrier
    tracking's fields); NotFound otherwise."""
    shipment = (
        visible_rows(TrackedShipment.objects.filter(order_id=order_id), organization_id)
        .only(*CARRIER_TRACKING_FIELDS)
        .first()
    )
    if shipment is None:
        raise NotFound("Tracked shipment not found.")
    return shipment
