"""Demo data of tracking for `make run` (registered with apps.core.demo, run by `manage.py
seed_demo`), made through the services as the demo users would: Baltic Shippers' freight order
Tallinn → Kazan, confirmed and loaded by Volga Carriers, tracked on its planned route; the
carrier's truck device registered and assigned, the hours it has already driven reported, and
its key left for the simulator (`manage.py tracking_demo_truck`, which `make run` starts) to
go on reporting live. Runs once."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from apps.accounts.services import user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.orders import services as order_services
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug
from apps.tracking.demo_journey import DRIVEN_BEFORE_SEEDING, WAYPOINTS, ping, route_length_km
from apps.tracking.models import TrackedShipment
from apps.tracking.services.devices import device_assign, device_register
from apps.tracking.services.ingest import events_record
from apps.tracking.services.shipments import tracking_follow_order

DEVICE_NAME = "Truck A123BC 163 (demo)"
BACKFILL_EVERY = timedelta(minutes=5)


def journey_file() -> Path:
    """Where the seeder leaves the device key and the departure for the simulator."""
    return Path(settings.DEMO_FILES_DIR) / "tracking_truck.json"


def _place(kind: str, city: str, country: str, latitude: float, longitude: float) -> dict:
    return {"kind": kind, "place": {"city": city, "country": country, "latitude": latitude, "longitude": longitude}}


def _shipment(departed_on: str, arriving_by: str) -> dict:
    (_, from_city, from_country, from_lat, from_lon) = WAYPOINTS[0]
    (_, to_city, to_country, to_lat, to_lon) = WAYPOINTS[-1]
    return {
        "shipper": {
            "name": "Baltic Shippers",
            "address_lines": ["Sadama 25"],
            "city": from_city,
            "country": from_country,
        },
        "consignee": {
            "name": "Kazan Machine Works",
            "address_lines": ["Sibirsky trakt 34"],
            "city": to_city,
            "country": to_country,
        },
        "carrier": {"name": "Volga Carriers", "address_lines": ["Portovaya 5"], "city": "Samara", "country": "RU"},
        "taking_over": {
            "address_lines": ["Sadama 25"],
            "city": from_city,
            "country": from_country,
            "latitude": from_lat,
            "longitude": from_lon,
            "date": departed_on,
        },
        "delivery": {
            "address_lines": ["Sibirsky trakt 34"],
            "city": to_city,
            "country": to_country,
            "latitude": to_lat,
            "longitude": to_lon,
            "date_until": arriving_by,
        },
        "route": [
            {**_place(*WAYPOINTS[0]), "date_from": departed_on},
            *(_place(*waypoint) for waypoint in WAYPOINTS[1:-1]),
            # The promised delivery (the tracked shipment's promised_at: the last window's end).
            {**_place(*WAYPOINTS[-1]), "date_until": arriving_by},
        ],
        "cargo_lines": [
            {
                "marks_and_numbers": "BS-002/008",
                "number_of_packages": 8,
                "method_of_packing": "Euro pallets",
                "nature_of_goods": "Chilled dairy",
                "gross_weight_kg": "4200",
                "temperature": {"min_c": "2", "max_c": "6"},
            }
        ],
        "payment_instructions": "carriage_paid",
        "vehicle_plate": "A123BC 163",
        "driver_name": "Ivan Petrov",
    }


def _actor(email: str, organization, role: str) -> Actor:
    return Actor(user_id=user_get_by_email(email=email).id, organization_id=organization.id, role=role)


def seed() -> list[str]:
    """Make the tracked demo journey once; the lines `make run` prints about it."""
    with system_scope(reason="seed_demo: tracking", audit=False):
        carrier = organization_get_by_slug(slug="volga-carriers")
        shipper = organization_get_by_slug(slug="baltic-shippers")
        if TrackedShipment.objects.filter(client_organization=shipper, supplier_organization=carrier).exists():
            return ["  tracking: the demo truck's journey is there already"]
    shipper_user = _actor("shipper@baltic-shippers.demo", shipper, Role.SHIPPER)
    carrier_user = _actor("carrier@volga-carriers.demo", carrier, Role.CARRIER)
    now = timezone.now()
    departed_at = now - DRIVEN_BEFORE_SEEDING
    hours = route_length_km() / 72.0
    with tenant_scope(shipper.id, user_id=shipper_user.user_id):
        order = order_services.order_create(
            actor=shipper_user,
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=shipper.id,
                supplier_organization_id=carrier.id,
                currency="EUR",
                items=[
                    order_services.ItemInput(
                        name="Freight Tallinn → Kazan, 8 chilled pallets", quantity=1, unit_price=Decimal("3150.00")
                    )
                ],
                shipment=_shipment(
                    departed_at.date().isoformat(), (departed_at + timedelta(hours=hours + 12)).date().isoformat()
                ),
            ),
        )
        order_services.order_change_status(order_id=order.id, actor=shipper_user, status="pending")
    with tenant_scope(carrier.id, user_id=carrier_user.user_id):
        order_services.order_change_status(order_id=order.id, actor=carrier_user, status="confirmed")
        shipment = tracking_follow_order(order_id=order.id)
        order_services.order_change_status(order_id=order.id, actor=carrier_user, status="in_transit")
        tracking_follow_order(order_id=order.id)
        device, key = device_register(actor=carrier_user, name=DEVICE_NAME, serial_number="DEMO-0001")
        device_assign(actor=carrier_user, device_id=device.id, shipment_id=shipment.id, valid_from=departed_at)
        moments = []
        moment = departed_at
        while moment < now:
            moments.append(moment)
            moment += BACKFILL_EVERY
        shipment.refresh_from_db()
        events_record(
            shipment=shipment,
            rows=[ping(departed_at=departed_at, moment=at) for at in moments],
            source="device",
            actor=carrier_user,
            device_id=device.id,
            now=now,
        )
        tracking_number = shipment.tracking_number
    path = journey_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"device_key": key, "departed_at": departed_at.isoformat()}))
    os.chmod(path, 0o600)  # a device key: readable by whoever runs the project only
    return [
        f"  tracking: {order.number} Tallinn → Kazan is on the road ({len(moments)} positions so far; the demo"
        f" truck reports every 10 s); public page /t/{tracking_number}"
    ]
