"""Scenario `tracking-read`: GET /api/v1/tracking/orders/{id}/route and /eta of a shipment with
100,000 pings, in process (issue 17; goal < 20 ms each).

The data: a shipper and a carrier, one confirmed freight order between them made through the
orders services, its tracking started by the tracking service (as the receiver of
order.status_changed does), then `--pings` location pings (one every two seconds, ending now,
along a weaving line east from Hamburg) written with one set-based INSERT on the owner's
connection, and the shipment's simplified track built from them with the service the ingest
side keeps it current with (`shipment_track_rebuild`; ingest calls `shipment_track_append`
per batch). The route endpoint reads that track (a few thousand points), never the pings:
that is what makes it independent of the number of pings.

What is measured: the shipper's member asks for each endpoint serially in this process (no
server), through Django's handler, after a warm-up; the median of `--requests` requests.
Before timing, the answers are checked: 200, the track's point count within bounds.
"""

from __future__ import annotations

import time
from datetime import timedelta

from bench.api_overhead import _in_process
from bench.environment import progress
from bench.stats import Metric

DATABASE = "bench_tracking_read"


def add_arguments(parser) -> None:
    parser.add_argument("--pings", type=int, default=100_000, help="pings of the shipment (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="serial requests per endpoint (default 200)")


def _seed(*, pings: int):
    """The parties, the tracked order and its pings; returns (shipper member, order id, track points)."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone

    from apps.core.actors import Actor
    from apps.core.context import system_scope, tenant_scope
    from apps.orders import services as order_services
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role
    from apps.tracking import partitions
    from apps.tracking.models import ShipmentTrack
    from apps.tracking.services import shipments

    started = time.perf_counter()
    user_model = get_user_model()
    now = timezone.now()
    shipper = Organization(name="Bench shipper", slug="bench-tracking-shipper", country="DE")
    carrier = Organization(name="Bench carrier", slug="bench-tracking-carrier", country="PL")
    shipper_user = user_model(email="shipper@tracking.bench", password=make_password(None))
    carrier_user = user_model(email="carrier@tracking.bench", password=make_password(None))
    with system_scope(reason="bench tracking seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([shipper, carrier])
        user_model.objects.using("owner").bulk_create([shipper_user, carrier_user])
        Membership.objects.using("owner").bulk_create(
            [
                Membership(organization=shipper, user=shipper_user, role=Role.SHIPPER, joined_at=now),
                Membership(organization=carrier, user=carrier_user, role=Role.CARRIER, joined_at=now),
            ]
        )

    def place(city, country, latitude, longitude):
        return {"city": city, "country": country, "latitude": latitude, "longitude": longitude}

    route = [
        {"kind": "pickup", "place": place("Hamburg", "DE", "53.550000", "10.000000"), "date_from": "2027-01-11"},
        {"kind": "stop", "place": place("Warsaw", "PL", "52.230000", "21.010000"), "date_until": "2027-01-12"},
        {"kind": "delivery", "place": place("Minsk", "BY", "53.900000", "27.560000"), "date_until": "2027-01-14"},
    ]
    with tenant_scope(shipper.id, user_id=shipper_user.id):
        order = order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=shipper.id,
                supplier_organization_id=carrier.id,
                currency="EUR",
                items=[order_services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("1000"))],
                shipment={"route": route},
            ),
            actor=Actor(user_id=shipper_user.id),
        )
        order_services.order_change_status(
            order_id=order.id,
            actor=Actor(user_id=shipper_user.id, organization_id=shipper.id, role=Role.SHIPPER),
            status="pending",
        )
    with tenant_scope(carrier.id, user_id=carrier_user.id):
        order_services.order_change_status(
            order_id=order.id,
            actor=Actor(user_id=carrier_user.id, organization_id=carrier.id, role=Role.CARRIER),
            status="confirmed",
        )
        shipment = shipments.tracking_follow_order(order_id=order.id)
        # The pings reach two seconds per ping back: the month before may need its partition.
        partitions.partitions_ensure(today=(now - timedelta(seconds=2 * pings + 60)).date())
    with system_scope(reason="bench tracking seed", using="owner", audit=False), connections["owner"].cursor() as c:
        c.execute(
            """INSERT INTO tracking_trackingevent (id, shipment_id, client_organization_id,
                   supplier_organization_id, event_type, source, occurred_at, received_at, latitude,
                   longitude, address, speed_kmh, is_implausible, description, metadata)
               SELECT gen_random_uuid(), %s, %s, %s, 'location_update', 'device',
                      now() - make_interval(secs => 2 * (%s - g)), now(),
                      round((53.55 - g * 0.0000035 + 0.02 * sin(g / 500.0))::numeric, 6),
                      round((10.0 + g * 0.00017)::numeric, 6),
                      '', 60.0, g %% 997 = 0, '', '{}'::jsonb
               FROM generate_series(1, %s) AS g""",
            [shipment.id, shipper.id, carrier.id, pings, pings],
        )
        c.execute("ANALYZE tracking_trackingevent")
    with tenant_scope(carrier.id):
        shipments.shipment_track_rebuild(shipment_id=shipment.id)
        points = len(ShipmentTrack.objects.get(shipment_id=shipment.id).points)
    progress(f"seeded {pings} pings, a track of {points} points, in {time.perf_counter() - started:.1f} s")
    return shipper_user, order.id, points


def run(args) -> tuple[list[Metric], list[str]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.services import session_start

    member, order_id, points = _seed(pings=args.pings)
    token = session_start(user=get_user_model().objects.get(pk=member.pk)).access
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    route_path = f"/api/v1/tracking/orders/{order_id}/route"
    eta_path = f"/api/v1/tracking/orders/{order_id}/eta"

    answer = Client(HTTP_HOST="127.0.0.1").get(route_path, **headers)
    if answer.status_code != 200:
        raise RuntimeError(f"{route_path} answered {answer.status_code}: {answer.content[:300]!r}")
    track = answer.json()["features"][-1]
    drawn = len(track["geometry"]["coordinates"])
    if not 2 <= drawn <= 3000 or track["properties"]["pings"] < args.pings * 0.99:
        raise RuntimeError(f"the track draws {drawn} points of {track['properties']['pings']} pings")

    route_queries, route_ms = _in_process(route_path, headers, requests=args.requests)
    eta_queries, eta_ms = _in_process(eta_path, headers, requests=args.requests)
    progress(f"route: {route_queries} queries, median {route_ms:.2f} ms; eta: {eta_queries} queries, {eta_ms:.2f} ms")

    def metric(name, value, unit):
        return Metric("tracking-read", name, round(value, 3), unit)

    metrics = [
        metric("route_in_process_ms", route_ms, "ms"),
        metric("eta_in_process_ms", eta_ms, "ms"),
        metric("route_queries", route_queries, "queries"),
        metric("eta_queries", eta_queries, "queries"),
        metric("track_points", drawn, "points"),
        metric("pings", args.pings, "pings"),
    ]
    notes = [
        f"A shipment with {args.pings} pings; its track is kept simplified ({points} points), "
        "so the route endpoint reads one row whatever the number of pings. Goal: < 20 ms each."
    ]
    return metrics, notes
