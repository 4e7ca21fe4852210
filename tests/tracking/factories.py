"""Tracked shipments for tests, made through the orders services like real ones."""

from __future__ import annotations

import secrets
from decimal import Decimal

from apps.core.actors import Actor
from apps.orders import services as order_services
from apps.tracking.models import TrackedShipment
from tests.shipments import COMPLETE_SHIPMENT


def tracked_order(client, supplier, **fields) -> TrackedShipment:
    """A freight order between two organizations and its tracked shipment (caller's scope)."""
    order = order_services.order_create(
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=client.id,
            supplier_organization_id=supplier.id,
            currency="EUR",
            items=[order_services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("100"))],
            shipment=COMPLETE_SHIPMENT,
        ),
        actor=Actor(user_id=None),
    )
    return TrackedShipment.objects.create(
        kind="order",
        order=order,
        client_organization_id=client.id,
        supplier_organization_id=supplier.id,
        tracking_number=f"MF{secrets.token_hex(5).upper()}",
        reference=order.number,
        status=order.status,
        **fields,
    )
