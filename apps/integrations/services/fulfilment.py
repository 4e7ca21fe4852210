"""Shipping a platform order from Manifest: the tracking number is kept on the order's link, the
order moves to in_transit (the seller's move, supplier side), and its order.status_changed event
pushes the fulfilment back to the platform (apps/integrations/services/pushes.py)."""

from __future__ import annotations

import re
from uuid import UUID

from django.db import transaction

from apps.core.actors import Actor
from apps.core.errors import NotFound, ValidationFailed
from apps.integrations.models import PlatformOrderLink
from apps.orders.services import OrderStatus, order_change_status

TRACKING_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


@transaction.atomic
def platform_order_ship(*, actor: Actor, order_id: UUID, tracking_number: str, carrier: str) -> PlatformOrderLink:
    link = (
        PlatformOrderLink.objects.select_for_update()
        .filter(organization_id=actor.organization_id, order_id=order_id)
        .first()
    )
    if link is None:
        raise NotFound("Platform order not found.")
    tracking_number, carrier = (tracking_number or "").strip(), (carrier or "").strip()
    errors = {}
    if not TRACKING_NUMBER.fullmatch(tracking_number):
        errors["tracking_number"] = ["1 to 100 letters, digits, - or _."]
    if not carrier or len(carrier) > 100:
        errors["carrier"] = ["1 to 100 characters."]
    if errors:
        raise ValidationFailed("The shipment's tracking is incomplete.", details=errors)
    link.tracking_number, link.carrier = tracking_number, carrier
    link.save(update_fields=["tracking_number", "carrier"])
    order_change_status(
        order_id=order_id, actor=actor, status=OrderStatus.IN_TRANSIT, note=f"Shipped with {carrier}, {tracking_number}"
    )
    return link
