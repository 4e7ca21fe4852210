"""Scenario `tracking-live`: how long a position takes from the ingest to a subscriber's socket.

Two uvicorn processes of the project (config.settings.bench) serve the live feed; S sockets
(500 by default), signed in as a member of the carrier, are spread over them in turn, each
subscribed to the `order.<id>` group of one of N shipments (50: ten listeners a shipment). A
pusher in another process (forked: its CPU is not the clients') then pushes one position per
shipment per round through the ingest service (`events_record`, as POST /tracking/events and
the driver's location endpoint do: its transaction, then `location_push` on commit), with
`occurred_at` the wall-clock moment just before the call. Rounds are spaced a little more than
TRACKING["LIVE_LOCATION_INTERVAL_S"] apart, so every push is a window's leading send (a
coalesced one waits for its window by design, which is not latency). A client takes, for each
message, its arrival time minus `occurred_at`: one machine, one clock.

Measured from the ingest service's call, not from the HTTP request: the endpoint's own cost
(authentication, parsing) is the `tracking-ingest` scenario's business.

Metrics: `p95_ms` (goal < 100), `p50_ms`, `max_ms`, and `delivered` (messages received over
messages expected; 1.0 unless something was lost).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_tracking_live"
ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "tracking-live"


def add_arguments(parser) -> None:
    parser.add_argument("--subscribers", type=int, default=500, help="sockets, spread over the servers (default 500)")
    parser.add_argument("--shipments", type=int, default=50, help="shipments listened to (default 50)")
    parser.add_argument("--rounds", type=int, default=20, help="positions pushed per shipment (default 20)")
    parser.add_argument("--servers", type=int, default=2, help="ASGI processes (default 2)")


@dataclass(frozen=True)
class Seeded:
    token: str
    carrier_id: str
    shipments: list[dict]  # {"id", "kind", "order_id"}


def _seed(*, shipments: int) -> Seeded:
    """A shipper and a carrier, `shipments` tracked freight orders between them, and the access
    token of a carrier's member (every socket signs in with it)."""
    import secrets
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start
    from apps.core.actors import Actor
    from apps.core.context import system_scope, tenant_scope
    from apps.orders import services as order_services
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role
    from apps.tracking.models import TrackedShipment

    with system_scope(reason="bench: seed the live feed's parties", audit=False):
        shipper = Organization.objects.create(name="Bench shipper", slug=f"bench-shipper-{secrets.token_hex(3)}")
        carrier = Organization.objects.create(name="Bench carrier", slug=f"bench-carrier-{secrets.token_hex(3)}")
        user = get_user_model().objects.create_user(
            email=f"dispatcher-{secrets.token_hex(3)}@carrier.bench", password=secrets.token_urlsafe(16)
        )
        Membership.objects.create(organization=carrier, user=user, role=Role.CARRIER)
    made = []
    with tenant_scope(shipper.id):
        for _ in range(shipments):
            order = order_services.order_create(
                order_input=order_services.OrderInput(
                    kind="freight",
                    client_organization_id=shipper.id,
                    supplier_organization_id=carrier.id,
                    currency="EUR",
                    items=[order_services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("100"))],
                ),
                actor=Actor(user_id=None),
            )
            shipment = TrackedShipment.objects.create(
                kind="order",
                order=order,
                client_organization_id=shipper.id,
                supplier_organization_id=carrier.id,
                tracking_number=f"MF{secrets.token_hex(5).upper()}",
                reference=order.number,
                status=order.status,
            )
            made.append({"id": str(shipment.id), "kind": "order", "order_id": str(order.id)})
    return Seeded(token=session_start(user=user).access, carrier_id=str(carrier.id), shipments=made)


# --- The pusher (a forked process) ----------------------------------------------------------


# The parent's connections a forked pusher inherited: kept referenced, so that collecting them
# never ends the parent's sessions (the process leaves with os._exit, closing nothing).
_INHERITED: list = []


def _forget_inherited_connections() -> None:
    """After the fork, the parent's connections and its pool's are the parent's sockets: using
    one here would share a session (prepared statements collide), closing one would end it.
    Drop them unused, so that this process opens connections of its own."""
    from django.db import connections
    from django.db.backends.postgresql.base import DatabaseWrapper

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _INHERITED.append(connection.connection)
            connection.connection = None
    _INHERITED.append(dict(DatabaseWrapper._connection_pools))
    DatabaseWrapper._connection_pools.clear()


def _push_rounds(shipments: list[dict], carrier_id: str, rounds: int, start_after: float) -> None:
    """Each round, one position per shipment through the ingest service, as the carrier's
    driver app would send it (`events_record`: validation, the row, the shipment's update,
    processing, the track; on commit `location_push`), `occurred_at` the moment just before."""
    from django.conf import settings

    from apps.core.context import tenant_scope
    from apps.tenancy.roles import Actor
    from apps.tracking.models import TrackedShipment
    from apps.tracking.services.ingest import events_record

    _forget_inherited_connections()
    period = float(settings.TRACKING["LIVE_LOCATION_INTERVAL_S"]) * 1.1
    actor = Actor(user_id=None, organization_id=carrier_id)
    with tenant_scope(carrier_id):
        targets = list(TrackedShipment.objects.filter(id__in=[shipment["id"] for shipment in shipments]))
    time.sleep(start_after)
    for number in range(rounds):
        for shipment in targets:
            row = {
                "event_type": "location_update",
                "occurred_at": datetime.now(UTC).isoformat(),
                # 2 m a round: a plausible walk, so every ping becomes the shipment's position.
                "latitude": f"{53.5 + number * 0.00002:.6f}",
                "longitude": "10.000000",
                "speed_kmh": "70",
                "heading": 90,
            }
            with tenant_scope(carrier_id):  # commits: the push goes on commit
                events_record(shipment=shipment, rows=[row], source="driver_app", actor=actor)
        # A whole period after the round, not after its start: a shipment pushed late in a slow
        # round must not be pushed again inside its window (that send would wait for a trailing
        # flush, by design, and measure the window instead of the feed).
        time.sleep(period)


# --- The subscribers -------------------------------------------------------------------------


async def _subscriber(server: str, token: str, group: str, ready: asyncio.Event, latencies: list, expected: int):
    import websockets

    async with websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}", max_queue=None) as ws:
        await ws.send(json.dumps({"type": "authenticate", "token": token}))
        json.loads(await ws.recv())  # connected
        await ws.send(json.dumps({"action": "subscribe", "group": group}))
        answer = json.loads(await ws.recv())
        if answer.get("type") != "subscribed":
            raise RuntimeError(f"subscribe to {group} refused: {answer}")
        ready.set()
        received = 0
        while received < expected:
            message = json.loads(await ws.recv())
            if message.get("type") != "location":
                continue
            arrived = time.time()
            latencies.append((arrived - datetime.fromisoformat(message["occurred_at"]).timestamp()) * 1000)
            received += 1


async def _listen(servers: list[str], seeded: Seeded, subscribers: int, rounds: int, timeout: float) -> tuple:
    """Open the sockets, start the pusher once every one is subscribed, gather the latencies."""
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = []
    for number in range(subscribers):
        shipment = seeded.shipments[number % len(seeded.shipments)]
        tasks.append(
            asyncio.create_task(
                _subscriber(
                    servers[number % len(servers)],
                    seeded.token,
                    f"order.{shipment['order_id']}",
                    readies[number],
                    latencies,
                    rounds,
                )
            )
        )
        if number % 50 == 49:
            await asyncio.sleep(0.05)  # a handshake storm measures the accept queue, not the feed
    async with asyncio.timeout(timeout):
        await asyncio.gather(*(ready.wait() for ready in readies))
    progress(f"{subscribers} sockets subscribed on {len(servers)} servers; pushing {rounds} rounds")
    pusher = multiprocessing.get_context("fork").Process(
        target=_push_rounds, args=(seeded.shipments, seeded.carrier_id, rounds, 0.2), daemon=True
    )
    pusher.start()
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    failures = [task.exception() for task in done if task.exception() is not None]
    pusher.join(timeout=10)
    progress(f"{len(latencies)} of {subscribers * rounds} messages arrived; {len(pending)} sockets still waiting")
    if failures:
        raise failures[0]
    return latencies, subscribers * rounds


def measure(servers: list[str], seeded: Seeded, *, subscribers: int, rounds: int) -> list[Metric]:
    """Run the sockets and the pusher against `servers` (host:port each); the metrics."""
    from django.db import connections

    connections.close_all()  # before the fork
    timeout = 60 + rounds * 2.0
    latencies, expected = asyncio.run(_listen(servers, seeded, subscribers, rounds, timeout))
    if not latencies:
        raise RuntimeError("no location message arrived")
    return [
        Metric(SCENARIO, "p95_ms", round(percentile(latencies, 0.95), 2), "ms"),
        Metric(SCENARIO, "p50_ms", round(median(latencies), 2), "ms"),
        Metric(SCENARIO, "max_ms", round(max(latencies), 2), "ms"),
        Metric(SCENARIO, "delivered", round(len(latencies) / expected, 4), "ratio"),
    ]


# --- The servers -----------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_server(port: int, log) -> subprocess.Popen:
    from bench.environment import SETTINGS_MODULE

    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--lifespan", "off"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _wait_healthy(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def run(args) -> tuple[list[Metric], list[str]]:
    seeded = _seed(shipments=args.shipments)
    ports = [_free_port() for _ in range(args.servers)]
    with tempfile.TemporaryFile() as log:
        servers = [_start_server(port, log) for port in ports]
        try:
            deadline = time.monotonic() + 60
            for port in ports:
                _wait_healthy(port, deadline)
            metrics = measure(
                [f"127.0.0.1:{port}" for port in ports], seeded, subscribers=args.subscribers, rounds=args.rounds
            )
        finally:
            for server in servers:
                if server.poll() is None:
                    os.killpg(server.pid, signal.SIGTERM)
            for server in servers:
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:  # sockets that never closed: no reason to wait longer
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait(timeout=5)
    notes = [
        f"{args.subscribers} sockets over {args.servers} ASGI processes, {args.shipments} shipments, "
        f"{args.rounds} positions each; latency from the ingest service's call "
        "(events_record, its transaction, then location_push on commit) to the message's arrival at the client."
    ]
    return metrics, notes
