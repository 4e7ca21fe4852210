"""Reads of carrier tracking: a shipment's carrier, its number and how its polling goes."""

from __future__ import annotations

from uuid import UUID

from apps.core.errors import NotFound
from apps.core.visibility import visible_rows
from apps.tracking.models import TrackedShipment


def carrier_tracking_get(*, organization_id: UUID, order_id: UUID) -> TrackedShipment:
    """The tracked shipment of an order the organization is a party of; NotFound otherwise."""
    shipment = visible_rows(TrackedShipment.objects.filter(order_id=order_id), organization_id).first()
    if shipment is None:
        raise NotFound("Tracked shipment not found.")
    return shipment
