"""Scenario `webhooks` (issue 20): events from the outbox to a local receiver, signed, through a
real Celery worker.

The data: one organization with `--endpoints` endpoints (5), each subscribed to
`organization.*` and pointing at its own path of a local receiver (a threaded HTTP server in
this process, on loopback: the benchmark settings allow private networks). Each event thus
becomes `--endpoints` deliveries.

The worker: `celery -A config worker -Q default,notifications --pool prefork --concurrency
--worker-concurrency` (2), with the benchmark settings; the relay runs on `default`, the
sends on `notifications`, as in production. No beat: every delivery is sent by the task its
fan-out enqueued on commit (a retry would show as missing, then failed).

Two measurements, after `--warmup` untimed events:
- `commit_to_delivery_p95_ms` (and p50, max): `--latency-events` (100) published one by one at
  a steady `--rate` (2 a second: 10 deliveries a second, well under the throughput), each an
  `organization.updated` written by `outbox_publish` in its own transaction, as a service
  does. The clock starts when the transaction has committed and stops when the receiver has
  read the request: relay task, fan-out (the deliveries written), one send task per delivery
  (claim, sign, POST, record). One machine, one clock.
- `deliveries_per_s`: `--events` (400) published as fast as one publisher commits them;
  deliveries received divided by the time from the first commit to the last arrival.

Counts: `delivered` (requests the receiver got whose signature verified, first copy of each
delivery), `duplicates` (a delivery received more than once: must be 0), `failed` (expected
deliveries that never arrived within `--timeout`, or arrived unsigned).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_webhooks"
SCENARIO = "webhooks"
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser) -> None:
    parser.add_argument("--endpoints", type=int, default=5, help="endpoints of the organization (default 5)")
    parser.add_argument("--events", type=int, default=400, help="events of the throughput run (default 400)")
    parser.add_argument("--latency-events", type=int, default=100, help="events of the latency run (default 100)")
    parser.add_argument("--rate", type=float, default=2.0, help="events per second of the latency run (default 2)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed events first (default 20)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the deliveries (default 300)")


# --- the receiver ------------------------------------------------------------------------------


class Inbox:
    """What the receiver got: per delivery id, the arrival times; per event id, its endpoints."""

    def __init__(self, secrets: dict[str, str]):
        self.secrets = secrets  # endpoint path -> secret
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}
        self.event_of: dict[str, str] = {}
        self.unverified = 0

    def record(self, path: str, headers, body: bytes, arrived: float) -> None:
        from hashlib import sha256
        from hmac import compare_digest, new

        header = headers.get("Manifest-Signature", "")
        parts = dict(part.split("=", 1) for part in header.split(",")[:2] if "=" in part)
        expected = new(self.secrets.get(path, "").encode(), f"{parts.get('t')}.".encode() + body, sha256).hexdigest()
        verified = compare_digest(expected, parts.get("v1", ""))
        delivery_id = headers.get("Manifest-Delivery-Id", "")
        with self.lock:
            if not verified:
                self.unverified += 1
                return
            self.arrivals.setdefault(delivery_id, []).append(arrived)
            self.event_of[delivery_id] = headers.get("Manifest-Event-Id", "")

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()
            self.event_of.clear()
            self.unverified = 0


def _start_receiver(inbox: Inbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.time()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            inbox.record(self.path, self.headers, body, arrived)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# --- the data, the worker, the events ------------------------------------------------------------


def _seed(port: int, endpoints: int):
    """The organization and its endpoints; (organization id, {path: secret})."""
    from apps.core.actors import Actor
    from apps.core.context import system_scope, tenant_scope
    from apps.tenancy.models import Organization
    from apps.webhooks import services

    organization = Organization(name="Bench webhooks", slug="bench-webhooks", country="DE")
    with system_scope(reason="bench webhooks seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([organization])
    actor = Actor(user_id=None, organization_id=organization.id, role="org_admin")
    secrets = {}
    with tenant_scope(organization.id):
        for n in range(endpoints):
            path = f"/hooks/{n}"
            _, secret = services.endpoint_create(
                actor=actor, url=f"http://127.0.0.1:{port}{path}", event_types=["organization.*"]
            )
            secrets[path] = secret
    return organization.id, secrets


def _start_worker(concurrency: int, log) -> subprocess.Popen:
    from bench.environment import SETTINGS_MODULE

    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,notifications"]
    command += ["--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "warning"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--hostname", "bench-webhooks@%h"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "OUTBOUND_ALLOW_PRIVATE_NETWORKS": "true"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _publish(organization_id) -> tuple[str, float]:
    """One organization.updated in its own transaction; (event id, wall-clock time of its commit)."""
    from apps.core.context import tenant_scope
    from apps.core.services import outbox_publish
    from apps.tenancy.events import OrganizationUpdated

    with tenant_scope(organization_id):
        event = outbox_publish(OrganizationUpdated(organization_id=organization_id, changed_fields=["name"]))
    return str(event.id), time.time()


def _wait(inbox: Inbox, expected: int, worker: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while inbox.count() < expected and time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError("the worker stopped")
        time.sleep(0.05)


def _run_events(organization_id, *, count: int, rate: float | None) -> dict[str, float]:
    """Publish `count` events (at `rate` a second, or as fast as they commit); commit times by event id."""
    committed = {}
    started = time.monotonic()
    for n in range(count):
        if rate:
            pause = started + n / rate - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        event_id, at = _publish(organization_id)
        committed[event_id] = at
    return committed


def _outcome(inbox: Inbox, committed: dict[str, float], expected: int) -> tuple[list[float], int, int, int, float]:
    """(latencies in ms, delivered, duplicates, failed, last arrival)."""
    with inbox.lock:
        arrivals = {delivery: list(times) for delivery, times in inbox.arrivals.items()}
        event_of = dict(inbox.event_of)
        unverified = inbox.unverified
    latencies = [(times[0] - committed[event_of[delivery]]) * 1000 for delivery, times in arrivals.items()]
    duplicates = sum(len(times) - 1 for times in arrivals.values())
    last = max((times[0] for times in arrivals.values()), default=0.0)
    return latencies, len(arrivals), duplicates, max(expected - len(arrivals), 0) + unverified, last


def run(args) -> tuple[list[Metric], list[str]]:
    from config.celery import app

    inbox = Inbox({})
    server = _start_receiver(inbox)
    organization_id, secrets = _seed(server.server_address[1], args.endpoints)
    inbox.secrets = secrets
    app.control.purge()  # messages a stopped run left behind would be sent first
    metrics = []
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        log_path = f"{scratch}/worker.log"
        with open(log_path, "w") as log:
            worker = _start_worker(args.worker_concurrency, log)
            try:
                _run_events(organization_id, count=args.warmup, rate=None)
                _wait(inbox, args.warmup * args.endpoints, worker, args.timeout)
                progress(f"worker up; {inbox.count()} warm-up deliveries received")

                inbox.reset()
                expected = args.latency_events * args.endpoints
                committed = _run_events(organization_id, count=args.latency_events, rate=args.rate)
                _wait(inbox, expected, worker, args.timeout)
                latencies, delivered, duplicates, failed, _ = _outcome(inbox, committed, expected)
                progress(f"latency run: {delivered}/{expected} deliveries at {args.rate}/s events")
                if latencies:
                    metrics += [
                        Metric(SCENARIO, "commit_to_delivery_p95_ms", round(percentile(latencies, 0.95), 1), "ms"),
                        Metric(SCENARIO, "commit_to_delivery_p50_ms", round(median(latencies), 1), "ms"),
                        Metric(SCENARIO, "commit_to_delivery_max_ms", round(max(latencies), 1), "ms"),
                    ]

                inbox.reset()
                expected_burst = args.events * args.endpoints
                first_commit = time.time()
                burst = _run_events(organization_id, count=args.events, rate=None)
                _wait(inbox, expected_burst, worker, args.timeout)
                _, burst_delivered, burst_duplicates, burst_failed, last = _outcome(inbox, burst, expected_burst)
                progress(f"throughput run: {burst_delivered}/{expected_burst} deliveries")
            finally:
                _stop_worker(worker)
                server.shutdown()
                app.control.purge()
    elapsed = max(last - first_commit, 1e-9)
    metrics += [
        Metric(SCENARIO, "deliveries_per_s", round(burst_delivered / elapsed, 1), "deliveries/s"),
        Metric(SCENARIO, "delivered", delivered + burst_delivered, "deliveries"),
        Metric(SCENARIO, "duplicates", duplicates + burst_duplicates, "deliveries"),
        Metric(SCENARIO, "failed", failed + burst_failed, "deliveries"),
    ]
    notes = [
        f"{args.endpoints} endpoints of one organization on a local receiver; a celery worker of "
        f"{args.worker_concurrency} processes (queues default and notifications). Latency: "
        f"{args.latency_events} events at {args.rate}/s, from each event's commit to the receiver reading "
        f"each delivery. Throughput: {args.events} events committed back to back, deliveries received "
        "over the time from the first commit to the last arrival."
    ]
    return metrics, notes
