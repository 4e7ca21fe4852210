"""Scenario `api-overhead`: an authenticated, tenant-scoped list endpoint against a bare view.

One uvicorn server (config.settings.bench: DEBUG off, the bare view mounted) serves
both URLs; a load generator in another process (bench.loadgen) keeps 32 clients busy
on one URL at a time. The endpoint is GET /api/v1/organizations/{id}/members with a
Bearer token of the organization's admin: token check, the user's memberships,
the tenant scope, the permission check, the page of 20 members with their users,
the count, DRF serialization. The bare view /bench/bare goes through the same
middleware (so it opens the same no-tenant transaction) and returns `{"data": []}`.

Bare and endpoint take turns (after a warm-up of each), so a noisy neighbour on the
machine weighs on both; rps is the sum of successful requests over the sum of
measured seconds, p95 is over every measured request.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_api"
SERVERS = ("uvicorn", "gunicorn-threads", "granian-wsgi", "granian-asgi")
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def add_arguments(parser) -> None:
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of one measured round (default 15)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per URL, alternating (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="untimed load per URL first (default 5)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="request budget of one round")
    parser.add_argument("--tenants", type=int, default=50, help="organizations (default 50)")
    parser.add_argument("--members", type=int, default=20, help="members per organization (default 20)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="HTTP server (default: uvicorn)")
    parser.add_argument("--threads", type=int, default=32, help="request threads of a WSGI server (default 32)")
    parser.add_argument(
        "--latency-concurrency",
        type=int,
        default=8,
        help="clients of one more round per URL, where queueing does not dominate on two cores (default 8; 0: skip)",
    )


def _seed(*, tenants: int, members: int):
    """Organizations with their members (the first of each an org admin); returns (organization, admin)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    user_model = get_user_model()
    roles = [role for role in Role if role != Role.ORG_ADMIN]
    now = timezone.now()
    organizations = [
        Organization(name=f"Bench tenant {n:02d}", slug=f"bench-tenant-{n:02d}", country="DE", city="Hamburg")
        for n in range(tenants)
    ]
    users, memberships = [], []
    for organization_number, organization in enumerate(organizations):
        admin = None
        for member_number in range(members):
            user = user_model(
                email=f"member{member_number:03d}@tenant{organization_number:02d}.bench",
                first_name=f"Member{member_number:03d}",
                last_name=f"Tenant{organization_number:02d}",
                password=make_password(None),  # unusable: the admin's session is opened directly, no password
            )
            users.append(user)
            role = Role.ORG_ADMIN if admin is None else roles[member_number % len(roles)]
            memberships.append(
                Membership(organization=organization, user=user, role=role, joined_at=now, invited_by=admin)
            )
            admin = admin or user
    # The owner's connection in the bypass scope: an external owner that is not a superuser
    # is subject to the forced policies too.
    with system_scope(reason="bench api seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create(organizations)
        user_model.objects.using("owner").bulk_create(users)
        Membership.objects.using("owner").bulk_create(memberships)
    progress(f"seeded {tenants} organizations with {members} members each")
    return organizations[0], users[0]  # the first organization's admin


def _in_process(path: str, headers: dict, *, requests: int = 200) -> tuple[int, float]:
    """(SQL statements of one request, median ms of serial requests) through Django's WSGI-style handler.

    No server, no event loop, no threads: what the request costs the application
    itself, to set against what the same request costs through uvicorn.
    """
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    for _ in range(20):  # imports, the connection pool, caches
        client.get(path, **headers)
    with CaptureQueriesContext(connections["default"]) as captured:
        response = client.get(path, **headers)
    queries = len(captured)  # now: the context reads the connection's log lazily
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path, **headers)
        samples.append((time.perf_counter() - started) * 1000)
    return queries, median(samples)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_command(server: str, port: int, workers: int, threads: int) -> list[str]:
    """How each candidate of docs/decisions/0007-http-server.md serves the application (one worker by default).

    uvicorn is what `make run` uses; the others are measured for the decision only and
    are not in requirements/ (install them to compare: the scenario says so if missing).
    """
    bind = ["--host", "127.0.0.1", "--port", str(port)]
    if server == "uvicorn":
        command = [PYTHON, "-m", "uvicorn", "config.asgi:application", *bind, "--lifespan", "off"]
        return [*command, "--no-access-log", "--log-level", "warning", "--workers", str(workers)]
    if server == "gunicorn-threads":
        command = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
        return [*command, "--log-level", "warning"]
    interface = server.removeprefix("granian-")
    application = f"config.{interface}:application"
    command = [PYTHON, "-m", "granian", "--interface", interface, *bind, "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log", "--no-ws"]
    if interface == "wsgi":
        command += ["--blocking-threads", str(threads)]
    return [*command, application]


def _start_server(port: int, workers: int, log, *, server: str = "uvicorn", threads: int = 32) -> subprocess.Popen:
    import importlib.util

    from bench.environment import SETTINGS_MODULE

    module = server.split("-")[0]
    if importlib.util.find_spec(module) is None:
        raise RuntimeError(f"{module} is not installed: pip install {module} to measure it")
    command = _server_command(server, port, workers, threads)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE}
    # Its own session: a Ctrl-C reaches us, and the finally block below stops the server.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def _stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only, built here
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_until_up(base: str, server: subprocess.Popen, log_path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{Path(log_path).read_text()[-3000:]}")
        try:
            if _get(f"{base}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout}s:\n{Path(log_path).read_text()[-3000:]}")


def _load(
    url: str,
    headers: list[str],
    args,
    seconds: float,
    latencies_path: str | None = None,
    *,
    concurrency: int | None = None,
    extra: list[str] = (),
) -> dict:
    command = [PYTHON, "-m", "bench.loadgen", url, "--concurrency", str(concurrency or args.concurrency), *extra]
    command += ["--seconds", str(seconds), "--requests", str(args.max_requests)]
    for header in headers:
        command += ["--header", header]
    if latencies_path:
        command += ["--latencies", latencies_path]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 60)
    if finished.returncode != 0:
        raise RuntimeError(f"the load generator failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout)
    if result["errors"]:
        raise RuntimeError(f"{url}: {result['errors']} failed requests ({result['statuses']})")
    return result


def run(args) -> tuple[list[Metric], list[str]]:
    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start

    organization, admin = _seed(tenants=args.tenants, members=args.members)
    # A real sign-in session (the token carries its id), opened on the application's
    # connection: the seeded instance belongs to the owner's, and Django refuses to
    # relate rows across connections.
    admin = get_user_model().objects.get(pk=admin.pk)
    token = session_start(user=admin).access
    path = f"/api/v1/organizations/{organization.id}/members"
    queries, in_process_endpoint_ms = _in_process(path, {"HTTP_AUTHORIZATION": f"Bearer {token}"})
    bare_queries, in_process_bare_ms = _in_process("/bench/bare", {})

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {"bare": f"{base}/bench/bare", "endpoint": f"{base}{path}"}
    headers = {"bare": [], "endpoint": [f"Authorization: Bearer {token}"]}
    latencies: dict[str, list[float]] = {"bare": [], "endpoint": []}
    totals = {name: {"ok": 0, "seconds": 0.0} for name in urls}
    low: dict[str, dict] = {}  # one round per URL at --latency-concurrency clients

    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        log_path = f"{scratch}/uvicorn.log"
        with open(log_path, "w") as log:
            server = _start_server(port, args.workers, log, server=args.server, threads=args.threads)
            try:
                _wait_until_up(base, server, log_path)
                status, body = _get(urls["endpoint"], {"Authorization": f"Bearer {token}"})
                page = json.loads(body)
                if status != 200 or len(page["data"]) != min(args.members, 20):
                    raise RuntimeError(f"the endpoint answered {status}: {body[:300]!r}")
                if _get(urls["bare"])[0] != 200:
                    raise RuntimeError("the bare view is not mounted (BENCHMARK_BARE_VIEW)")

                progress(f"{args.server} on {base} ({args.workers} worker); warming up {args.warmup_seconds}s per URL")
                for name in urls:
                    _load(urls[name], headers[name], args, args.warmup_seconds)
                for round_number in range(args.rounds):
                    for name in urls:
                        latencies_path = f"{scratch}/{name}-{round_number}.json"
                        result = _load(urls[name], headers[name], args, args.seconds, latencies_path)
                        latencies[name] += json.loads(Path(latencies_path).read_text())
                        totals[name]["ok"] += result["ok"]
                        totals[name]["seconds"] += result["seconds"]
                        progress(
                            f"round {round_number + 1}/{args.rounds} {name}: {result['rps']} req/s, "
                            f"p95 {result['p95_ms']} ms"
                        )
                if args.latency_concurrency:
                    for name in urls:
                        result = _load(
                            urls[name], headers[name], args, args.seconds, concurrency=args.latency_concurrency
                        )
                        low[name] = result
                        progress(
                            f"{args.latency_concurrency} clients {name}: {result['rps']} req/s, "
                            f"p95 {result['p95_ms']} ms"
                        )
            finally:
                _stop_server(server)

    rps = {name: totals[name]["ok"] / totals[name]["seconds"] for name in urls}
    p95 = {name: percentile(latencies[name], 0.95) for name in urls}

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("api-overhead", name, round(value, 3), unit)

    metrics = [
        metric("ratio", rps["endpoint"] / rps["bare"], "endpoint_rps/bare_rps"),
        metric("rps", rps["endpoint"], "req/s"),
        metric("p95_ms", p95["endpoint"], "ms"),
        metric("p50_ms", percentile(latencies["endpoint"], 0.50), "ms"),
        metric("bare_rps", rps["bare"], "req/s"),
        metric("bare_p95_ms", p95["bare"], "ms"),
        metric("queries_per_request", queries, "queries"),
        metric("bare_queries_per_request", bare_queries, "queries"),
        metric("in_process_median_ms", in_process_endpoint_ms, "ms"),
        metric("bare_in_process_median_ms", in_process_bare_ms, "ms"),
    ]
    if low:
        clients = args.latency_concurrency
        metrics += [
            metric(f"p95_ms_{clients}_clients", low["endpoint"]["p95_ms"], "ms"),
            metric(f"bare_p95_ms_{clients}_clients", low["bare"]["p95_ms"], "ms"),
            metric(f"rps_{clients}_clients", low["endpoint"]["rps"], "req/s"),
            metric(f"ratio_{clients}_clients", low["endpoint"]["rps"] / low["bare"]["rps"], "endpoint_rps/bare_rps"),
        ]
    notes = [
        f"GET {path.replace(str(organization.id), '{id}')} (page of 20 of {args.members} members) vs GET /bench/bare, "
        f"{args.concurrency} concurrent clients, {args.rounds} alternating rounds of {args.seconds}s per URL, "
        f"{args.server} with {args.workers} worker(s), settings {os.environ['DJANGO_SETTINGS_MODULE']}.",
        "ratio = endpoint req/s / bare req/s (goal >= 0.5); p95_ms is the endpoint's (goal < 100 ms), at "
        f"{args.concurrency} clients, where p95 is mostly queueing; *_{args.latency_concurrency}_clients: one more "
        "round per URL at that many clients, where latency shows.",
        "in_process_median_ms: one request at a time through Django's WSGI-style handler (no server): "
        "the application's own cost; the rest of the served latency is the ASGI server and the queue.",
    ]
    return metrics, notes
