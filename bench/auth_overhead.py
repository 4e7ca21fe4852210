"""Scenario `auth-overhead`: the same tenant-scoped list endpoint with JWT authentication and without.

Both sides request GET /api/v1/organizations/{id}/members as the organization's admin,
through the whole middleware stack and the same view, tenant scope, queries and
serialization, in this process (Django's test Client, no server):

- auth: `Authorization: Bearer <access token of a real sign-in session>`;
  TenantMiddleware decodes the JWT and checks its signature, looks the session's
  revocation mark up in Redis, and reads the user together with the memberships (one query);
- noauth: `X-Bench-User: <the same user's id>`; bench.preresolved (on only in
  config.settings.bench) hands TenantMiddleware that user, resolved once for the
  whole run. Everything after that point is the same code.

So the difference is the authentication work alone. The two sides alternate in
random order, one request each per iteration, so drift on the machine weighs on both.
ratio = median time per request with auth / median without (goal <= 1.2).
"""

from __future__ import annotations

import json
import os
import random
import time

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_auth"


def add_arguments(parser) -> None:
    parser.add_argument("--iterations", type=int, default=2000, help="timed requests per side (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests per side first (default 200)")
    parser.add_argument("--tenants", type=int, default=50, help="organizations (default 50)")
    parser.add_argument("--members", type=int, default=20, help="members per organization (default 20)")
    parser.add_argument("--seed", type=int, default=2026, help="random order of the sides (default 2026)")
    parser.add_argument(
        "--served-seconds",
        type=float,
        default=5.0,
        help="also serve the endpoint (bearer token) and the bare view on one uvicorn, this long per URL at "
        "8 and at 32 clients, for the served ratio and p95 (default 5; 0: skip)",
    )


def _queries(client, path: str, headers: dict) -> tuple[int, object]:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as captured:
        response = client.get(path, **headers)
    return len(captured), response


def _check(client, path: str, sides: dict) -> dict[str, int]:
    """Both sides answer the same page; without either header the endpoint refuses; returns queries per side."""
    queries, bodies = {}, {}
    for name, headers in sides.items():
        client.get(path, **headers)  # the pre-resolved user is loaded on its first request
        queries[name], response = _queries(client, path, headers)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: {path} answered {response.status_code}: {response.content[:300]!r}")
        bodies[name] = json.loads(response.content)
    if bodies["auth"] != bodies["noauth"]:
        raise RuntimeError("the two sides answered different pages")
    if not bodies["auth"]["data"]:
        raise RuntimeError("the page is empty: nothing would be scoped or serialized")
    refused = client.get(path).status_code
    if refused not in (401, 403):
        raise RuntimeError(f"without credentials the endpoint answered {refused}: nothing is being authenticated")
    forged = client.get(path, HTTP_AUTHORIZATION="Bearer not-a-token").status_code
    if forged != 401:
        raise RuntimeError(f"a forged token got {forged}: the auth side is not checking tokens")
    if queries["auth"] != queries["noauth"]:  # the token's user is read with the memberships
        raise RuntimeError(f"unexpected queries per request: {queries}")
    return queries


def _token_check_ms(token: str, *, repeats: int = 2000) -> float:
    """Median ms of apps.accounts.tokens.user_from_access_token alone (decode, Redis, user query)."""
    from apps.accounts.tokens import user_from_access_token

    for _ in range(100):
        user_from_access_token(token)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        user_from_access_token(token)
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def _served(path: str, token: str, args) -> dict[str, float]:
    """The endpoint with its bearer token and the bare view, served by one uvicorn: req/s and p95 at 8 and 32."""
    import tempfile
    from types import SimpleNamespace

    from bench.api_overhead import _free_port, _load, _start_server, _stop_server, _wait_until_up

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    urls = {"bare": f"{base}/bench/bare", "endpoint": f"{base}{path}"}
    headers = {"bare": [], "endpoint": [f"Authorization: Bearer {token}"]}
    load_args = SimpleNamespace(concurrency=32, max_requests=200_000)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        log_path = f"{scratch}/uvicorn.log"
        with open(log_path, "w") as log:
            server = _start_server(port, 1, log)
            try:
                _wait_until_up(base, server, log_path)
                for name in urls:  # warm-up
                    _load(urls[name], headers[name], load_args, 2.0)
                for clients in (32, 8):
                    for name in urls:
                        result = _load(urls[name], headers[name], load_args, args.served_seconds, concurrency=clients)
                        figures[f"{name}_rps_{clients}"] = result["rps"]
                        figures[f"{name}_p95_{clients}"] = result["p95_ms"]
                        progress(f"served, {clients} clients, {name}: {result['rps']} req/s, p95 {result['p95_ms']} ms")
            finally:
                _stop_server(server)
    return figures


def run(args) -> tuple[list[Metric], list[str]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.accounts.services import session_start
    from bench.api_overhead import _seed

    if not getattr(settings, "BENCHMARK_PRERESOLVED_USER", False):
        raise RuntimeError("BENCHMARK_PRERESOLVED_USER is off: run with config.settings.bench")

    organization, admin = _seed(tenants=args.tenants, members=args.members)
    # On the application's connection (the seeded instance belongs to the owner's).
    admin = get_user_model().objects.get(pk=admin.pk)
    token = session_start(user=admin).access
    path = f"/api/v1/organizations/{organization.id}/members"
    sides = {
        "auth": {"HTTP_AUTHORIZATION": f"Bearer {token}"},
        "noauth": {"HTTP_X_BENCH_USER": str(admin.id)},
    }

    client = Client(HTTP_HOST="127.0.0.1")
    queries = _check(client, path, sides)
    progress(f"both sides answer the same page; queries per request: {queries}")

    order = random.Random(args.seed)
    names = list(sides)
    for _ in range(args.warmup):
        for name in names:
            client.get(path, **sides[name])

    samples: dict[str, list[float]] = {name: [] for name in names}
    differences: list[float] = []
    progress(f"timing {args.iterations} requests per side, alternating in random order")
    for iteration in range(args.iterations):
        order.shuffle(names)
        pair = {}
        for name in names:
            started = time.perf_counter()
            response = client.get(path, **sides[name])
            pair[name] = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code} at iteration {iteration}")
        for name in names:
            samples[name].append(pair[name])
        differences.append(pair["auth"] - pair["noauth"])
        if (iteration + 1) % 1000 == 0:
            progress(f"{iteration + 1}/{args.iterations}")

    token_check_ms = _token_check_ms(token)
    served = _served(path, token, args) if args.served_seconds else None

    p50 = {name: percentile(samples[name], 0.50) for name in names}
    p95 = {name: percentile(samples[name], 0.95) for name in names}

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("auth-overhead", name, round(value, 3), unit)

    metrics = [
        metric("ratio", p50["auth"] / p50["noauth"], "p50_auth/p50_noauth"),
        metric("p50_ms_auth", p50["auth"], "ms"),
        metric("p50_ms_noauth", p50["noauth"], "ms"),
        metric("ratio_p95", p95["auth"] / p95["noauth"], "p95_auth/p95_noauth"),
        metric("p95_ms_auth", p95["auth"], "ms"),
        metric("p95_ms_noauth", p95["noauth"], "ms"),
        metric("auth_ms_paired_median", median(differences), "ms"),
        metric("token_check_median_ms", token_check_ms, "ms"),
        metric("queries_per_request_auth", queries["auth"], "queries"),
        metric("queries_per_request_noauth", queries["noauth"], "queries"),
    ]
    if served:
        metrics += [
            metric("served_ratio", served["endpoint_rps_32"] / served["bare_rps_32"], "endpoint_rps/bare_rps"),
            metric("served_rps", served["endpoint_rps_32"], "req/s"),
            metric("bare_rps", served["bare_rps_32"], "req/s"),
            metric("served_p95_ms", served["endpoint_p95_32"], "ms"),
            metric("bare_p95_ms", served["bare_p95_32"], "ms"),
            metric("served_ratio_8_clients", served["endpoint_rps_8"] / served["bare_rps_8"], "endpoint_rps/bare_rps"),
            metric("served_p95_ms_8_clients", served["endpoint_p95_8"], "ms"),
            metric("bare_p95_ms_8_clients", served["bare_p95_8"], "ms"),
        ]
    notes = [
        f"GET {path.replace(str(organization.id), '{id}')} (page of 20 of {args.members} members), "
        f"{args.iterations} timed requests per side after {args.warmup} warm-up, alternating in random order, "
        f"in process through the full middleware stack, settings {os.environ['DJANGO_SETTINGS_MODULE']}.",
        "ratio = p50 with the bearer token / p50 with the pre-resolved user (goal <= 1.2); ratio_p95 the same at p95.",
        "auth_ms_paired_median: median of (auth - noauth) over the adjacent pairs; token_check_median_ms: "
        "apps.accounts.tokens.user_from_access_token alone (JWT decode and signature, Redis GET, user query).",
        "served_*: the endpoint with the bearer token against GET /bench/bare on one uvicorn worker in the same run, "
        f"{args.served_seconds}s per URL at 32 clients (served_ratio, served_p95_ms) and at 8 (*_8_clients).",
    ]
    return metrics, notes
