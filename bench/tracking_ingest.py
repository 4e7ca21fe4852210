"""Scenario `tracking-ingest`: device pings per second through POST /api/v1/tracking/events,
against a raw COPY of the same rows.

The data: the orders-list seed (one tenant, `--shipments` orders), a tracked shipment on each
order, and one device of the tenant per shipment, registered and assigned through the
services (apps/tracking/services/devices.py) as the API does. None of this is timed.

`pings_per_s`: batches of `--batch` (1,000) pings, each device's in turn, posted with its
`Authorization: Device <key>` through Django's whole stack in this process (the test client:
middleware, DRF, the device key's lookup, the tenant scope, the ingest service with its
INSERT, the shipment's update and `apps.tracking.processing.batch_process`), serially, after
`--warmup` untimed batches. Every answer must be 201 with the whole batch stored, or the run
stops. The pings of a device move 11 m a second along a line (40 km/h: all plausible), on
its shipment's planned route, through two geofences, with a promised time: the deviation,
geofence, ETA and delay steps all run (`_planned`).

`copy_rows_per_s`: the same number of rows, shaped as the ingest stores them, written by
`COPY tracking_trackingevent FROM STDIN` on the owner's connection (COPY FROM refuses a table
under row-level security, so only an owner that bypasses it can: devstack's superuser).
`ratio_to_copy` = pings_per_s / copy_rows_per_s: what the API, validation, RLS and the
pipeline cost over the bare write.

In process and serial: the figure is one Python process's; a served run (uvicorn workers) is
not part of this scenario yet.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from bench.environment import progress
from bench.stats import Metric

DATABASE = "bench_tracking_ingest"
EVENTS = "/api/v1/tracking/events"
START = (53.5511, 9.9937)  # Hamburg
STEP_DEGREES = 0.0001  # about 11 m of latitude: 40 km/h at one ping a second


def add_arguments(parser) -> None:
    parser.add_argument("--shipments", type=int, default=8, help="shipments, one device each (default 8)")
    parser.add_argument("--batch", type=int, default=1000, help="pings per request (default 1000)")
    parser.add_argument("--batches", type=int, default=40, help="timed batches (default 40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches first (default 3)")


@dataclass(frozen=True)
class Seeded:
    organization_id: uuid.UUID
    keys: list[str]  # one device key per shipment
    shipment_ids: list[uuid.UUID]


def _seed(*, shipments: int) -> Seeded:
    from django.contrib.auth import get_user_model

    from apps.core.context import system_scope, tenant_scope
    from apps.orders.models import Order
    from apps.tenancy.roles import Actor, Role
    from apps.tracking.models import TrackedShipment
    from apps.tracking.services import devices
    from bench.orders_list import _seed as orders_seed

    tenants, admins = orders_seed(tenants=1, orders=max(shipments * 2, 10))
    tenant, admin = tenants[0], get_user_model().objects.get(pk=admins[0].pk)
    with system_scope(reason="bench tracking seed", using="owner", audit=False):
        orders = list(Order.objects.using("owner").filter(kind="freight").order_by("id")[:shipments])
        if len(orders) < shipments:
            raise RuntimeError(f"the seed made {len(orders)} freight orders, {shipments} wanted")
        tracked = TrackedShipment.objects.using("owner").bulk_create(
            TrackedShipment(
                kind="order",
                order_id=order.id,
                client_organization_id=order.client_organization_id,
                supplier_organization_id=order.supplier_organization_id,
                tracking_number=f"MFB{n:08d}",
                reference=order.number,
                status=order.status,
                **_planned(),
            )
            for n, order in enumerate(orders)
        )
    actor = Actor(user_id=admin.id, organization_id=tenant.id, role=Role.ORG_ADMIN)
    keys = []
    since = _origin() - timedelta(hours=1)
    with tenant_scope(tenant.id, user_id=admin.id):
        for n, shipment in enumerate(tracked):
            device, key = devices.device_register(actor=actor, name=f"Bench truck {n:02d}")
            devices.device_assign(actor=actor, device_id=device.id, shipment_id=shipment.id, valid_from=since)
            keys.append(key)
    return Seeded(organization_id=tenant.id, keys=keys, shipment_ids=[s.id for s in tracked])


def _planned() -> dict:
    """What makes the pipeline work on every ping: a planned route along the pings' line (the
    corridor and the ETA), a promised time (the delay check), a temperature range (readings
    checked when the client has cold chain) and two geofences the trucks drive through (a
    waypoint's and a custom one): processing is on, as the issue asks."""
    from datetime import UTC, datetime

    length = 200_000 * STEP_DEGREES  # beyond any run's pings
    end = (START[0] + length, START[1])
    middle = (START[0] + 0.05, START[1])

    def waypoint(kind, point, city):
        return {"kind": kind, "latitude": point[0], "longitude": point[1], "city": city, "country": "DE"}

    return {
        "route": [
            waypoint("pickup", START, "Hamburg"),
            waypoint("stop", middle, "Rest area"),
            waypoint("delivery", end, "North"),
        ],
        "route_length_m": int(length * 111_195),
        "corridor_width_m": 5000,
        "promised_at": datetime.now(UTC) + timedelta(days=30),
        "geofences": [
            {
                "id": "bench-yard",
                "name": "Yard",
                "shape": "circle",
                "center_latitude": START[0] + 0.02,
                "center_longitude": START[1],
                "radius_m": 300,
                "polygon": [],
                "purpose": "custom",
                "warehouse_id": None,
            }
        ],
    }


def _origin():
    """When the pings start: 20 days ago (inside TRACKING MAX_EVENT_AGE, and its partitions)."""
    from django.utils import timezone

    return timezone.now().replace(microsecond=0) - timedelta(days=20)


def _rows(sequence: int, size: int, origin) -> list[dict]:
    """Batch `sequence` of one device: `size` pings a second apart, after the previous batch's."""
    first = sequence * size
    return [
        {
            "occurred_at": (origin + timedelta(seconds=first + i)).isoformat(),
            "latitude": f"{START[0] + (first + i) * STEP_DEGREES:.6f}",
            "longitude": f"{START[1]:.6f}",
            "speed_kmh": 40,
            "heading": 0,
        }
        for i in range(size)
    ]


def _ingest(seeded: Seeded, *, batches: int, warmup: int, size: int) -> tuple[float, int]:
    """(seconds for `batches` batches, pings stored); the warm-up batches are not timed."""
    import json

    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # config.settings.bench's ALLOWED_HOSTS
    origin = _origin()
    devices = len(seeded.keys)
    bodies = [
        (seeded.keys[n % devices], json.dumps({"events": _rows(n // devices, size, origin)}))
        for n in range(warmup + batches)
    ]
    stored = 0
    started = None
    for n, (key, body) in enumerate(bodies):
        if n == warmup:
            started = time.perf_counter()
        response = client.post(EVENTS, body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {key}")
        answer = response.json()
        if response.status_code != 201 or answer.get("stored") != size:
            raise RuntimeError(f"batch {n}: {response.status_code} {str(answer)[:500]}")
        if n >= warmup:
            stored += answer["stored"]
    return time.perf_counter() - (started or time.perf_counter()), stored


def _copy(seeded: Seeded, *, rows: int, size: int) -> float:
    """Seconds to COPY `rows` rows shaped as the ingest stores them (the owner's connection)."""
    from django.db import connections
    from django.utils import timezone

    origin = _origin() + timedelta(days=5)  # clear of the ingested pings
    shipment_id = seeded.shipment_ids[0]
    now = timezone.now()
    columns = (
        "id, shipment_id, client_organization_id, supplier_organization_id, event_type, source, occurred_at,"
        " received_at, latitude, longitude, address, speed_kmh, heading, temperature_c, device_id,"
        " created_by_id, is_implausible, description, metadata"
    )
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT client_organization_id, supplier_organization_id FROM tracking_trackedshipment WHERE id = %s",
            [shipment_id],
        )
        client_id, supplier_id = cursor.fetchone()
        device_id = uuid.uuid4()
        started = time.perf_counter()
        for first in range(0, rows, size):
            with cursor.cursor.copy(f"COPY tracking_trackingevent ({columns}) FROM STDIN") as copy:
                for i in range(first, min(first + size, rows)):
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            shipment_id,
                            client_id,
                            supplier_id,
                            "location_update",
                            "device",
                            origin + timedelta(seconds=i),
                            now,
                            f"{START[0] + i * STEP_DEGREES:.6f}",
                            f"{START[1]:.6f}",
                            "",
                            "40.0",
                            0,
                            None,
                            device_id,
                            None,
                            False,
                            "",
                            "{}",
                        )
                    )
        return time.perf_counter() - started


def run(args) -> tuple[list[Metric], list[str]]:
    progress(f"seeding {args.shipments} shipments with a device each")
    seeded = _seed(shipments=args.shipments)
    progress(f"posting {args.warmup} + {args.batches} batches of {args.batch} pings")
    seconds, stored = _ingest(seeded, batches=args.batches, warmup=args.warmup, size=args.batch)
    pings_per_s = stored / seconds
    progress(f"COPY of {stored} rows")
    copy_seconds = _copy(seeded, rows=stored, size=args.batch)
    copy_per_s = stored / copy_seconds

    def metric(name, value, unit):
        return Metric("tracking-ingest", name, round(value, 3), unit)

    metrics = [
        metric("pings_per_s", pings_per_s, "pings/s"),
        metric("copy_rows_per_s", copy_per_s, "rows/s"),
        metric("ratio_to_copy", pings_per_s / copy_per_s, "ratio"),
        metric("batch_ms", seconds / args.batches * 1000, "ms"),
    ]
    notes = [
        f"{stored} pings in {args.batches} batches of {args.batch}, {args.shipments} devices, one process, "
        "serial, through the test client (middleware, DRF, RLS, the ingest service and processing).",
    ]
    return metrics, notes
