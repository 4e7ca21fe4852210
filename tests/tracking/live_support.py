"""WebSocket clients of the live feed and shipments to listen to, for the live tests and the bench."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import websockets

from apps.core.actors import Actor
from apps.orders import services as order_services
from apps.tracking.models import TrackedShipment, TrackingEvent
from tests.shipments import COMPLETE_SHIPMENT


def tracked_order_of(client, supplier, *, customer=None) -> TrackedShipment:
    """A freight order (with `customer` as its customer) and its tracked shipment; caller's scope."""
    order = order_services.order_create(
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=client.id,
            supplier_organization_id=supplier.id,
            customer_id=customer.id if customer is not None else None,
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
    )


def ping(shipment: TrackedShipment, *, at: datetime | None = None, latitude="53.55", longitude="9.99", speed="62.5"):
    """A location event of the shipment as the ingest service hands it to `location_push`."""
    return TrackingEvent(
        shipment_id=shipment.id,
        client_organization_id=shipment.client_organization_id,
        supplier_organization_id=shipment.supplier_organization_id,
        event_type="location_update",
        source="device",
        occurred_at=at or datetime.now(UTC),
        received_at=datetime.now(UTC),
        latitude=Decimal(latitude),
        longitude=Decimal(longitude),
        speed_kmh=Decimal(speed),
        heading=90,
    )


def moments(count: int, *, step_ms: int = 50) -> list[datetime]:
    start = datetime.now(UTC) - timedelta(seconds=5)
    return [start + timedelta(milliseconds=step_ms * index) for index in range(count)]


async def feed(server: str, token: str) -> websockets.ClientConnection:
    """A signed-in socket of the live feed on `server` (host:port); the token in the first message."""
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}", max_queue=None)
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    connected = json.loads(await ws.recv())
    assert connected["type"] == "connected", connected
    return ws


async def subscribe(ws, group: str) -> dict:
    await ws.send(json.dumps({"action": "subscribe", "group": group}))
    return json.loads(await ws.recv())


async def receive_until(ws, predicate, timeout: float = 20.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


async def received_within(ws, seconds: float, predicate) -> list[dict]:
    """Every message matching `predicate` the socket receives in the next `seconds`."""
    messages = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
        if predicate(message):
            messages.append(message)
    return messages


def is_location(message: dict) -> bool:
    return message.get("type") == "location"
