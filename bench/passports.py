"""Scenario `passports`: passport codes issued per second under concurrent clients, with no code
twice and no number skipped, and the public scan page against the bare view (issue 21).

Codes. One organization (the worst case: every registration takes the same counter row, the
organization's `passport:<YYMM>` NumberSequence) and its operator, the device_passports
feature on. `--concurrency` keep-alive clients (16) in a process of their own send
`POST /api/v1/passports` back to back for `--seconds` (20), each request a new device (its own
serial number) with its own Idempotency-Key, as a careful client sends them, through the uvicorn
server the other HTTP scenarios start (config.settings.bench, one worker). `codes_per_s` is the
201 answers over the measured seconds; `issue_p50_ms` / `issue_p95_ms` are their latencies. Then
from the database, over every passport the run issued (warm-up and in-process ones included):
`duplicates` (a code answered to two requests, or stored twice, or a month's sequence number
stored twice) and `gaps` (numbers missing between 1 and the month's highest, plus any the
counter handed out beyond it). Both must be 0. `lost_codes` (answered 201 but not stored) and
`invalid_codes` (failing codes.code_check) must be 0 too.

Public scan. `--scan-passports` (200) of the issued devices get four more public steps
(qc_passed, shipped, installed, serviced: the page lists the last five); then `--scan-concurrency`
anonymous clients (8, the latency concurrency of DESIGN.md §9) GET `/p/<code>` (HTML), cycling over
those codes, and as many GET the bare view `/bench/bare` on the same server, in alternating rounds
of `--scan-seconds` after a warm-up of each: `scan_rps`, `bare_rps`, `scan_ratio` = scan_rps /
bare_rps (goal >= 0.5), `scan_p95_ms`. Every page view also counts a scan (a PassportScan row,
written by the same database call that reads the page): `scans_not_counted` must be 0. The rate
limits are config.settings.bench's (every scope, `passport_scan_ip` included, at 1,000,000/min:
counted in Redis as in production, never refused).

Run as `python -m bench.passports --client issue|scan ...`, this module is that load generator:
bench.loadgen's loop, with a new body (issue) or the next code's path (scan) per request, and the
answered codes kept. It imports no Django there (bench/__init__.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_passports"
ISSUE_PATH = "/api/v1/passports"
BARE_PATH = "/bench/bare"
ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# What every registered device has in common; the client adds a serial number of its own.
DEVICE = {
    "device_name": "Servo motor 7.5 kW",
    "manufacturer": "Acme Drives",
    "model": "SM-750",
    "product_type": "MO",
    "origin_country": "DE",
    "current_location": "Plant 2, line 4",
    "warranty_until": "2029-12-31",
}
SCAN_STEPS = ("qc_passed", "shipped", "installed", "serviced")


def add_arguments(parser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="clients issuing codes (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured issuing time (default 20)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="untimed issuing first (default 3)")
    parser.add_argument("--in-process-requests", type=int, default=30, help="serial requests in process (default 30)")
    parser.add_argument("--scan-concurrency", type=int, default=8, help="clients scanning (default 8)")
    parser.add_argument("--scan-seconds", type=float, default=15.0, help="one measured scan round (default 15)")
    parser.add_argument("--scan-warmup-seconds", type=float, default=3.0, help="untimed load per URL (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per URL, alternating (default 2)")
    parser.add_argument("--scan-passports", type=int, default=200, help="devices the scans cycle over (default 200)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="request budget of one round")


# --- Set-up (in the benchmark's process) ---------------------------------------------------------


def _seed():
    """The manufacturer (device_passports on) and its operator; returns (organization, operator)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.tenancy.models import Membership, Organization, OrganizationFeature
    from apps.tenancy.roles import Role

    user_model = get_user_model()
    organization = Organization(name="Acme Drives GmbH", slug="bench-acme-drives", country="DE", city="Hamburg")
    operator = user_model(
        email="operator@acme.bench", first_name="Olga", last_name="Operator", password=make_password(None)
    )
    # The owner's connection in the bypass scope, as the other scenarios seed.
    with system_scope(reason="bench passports seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([organization])
        user_model.objects.using("owner").bulk_create([operator])
        Membership.objects.using("owner").create(
            organization=organization, user=operator, role=Role.OPERATOR, joined_at=timezone.now()
        )
        OrganizationFeature.objects.using("owner").create(
            organization=organization, name="device_passports", is_entitled=True, is_enabled=True
        )
    progress("seeded one organization with its operator, device_passports on")
    return organization, operator


def _issue_in_process(token: str, requests: int) -> tuple[int, float, list[str]]:
    """(SQL statements of one registration, median ms of serial registrations, codes issued):
    POST /api/v1/passports through Django's handler in this process, no server, no contention."""
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(serial: str):
        body = json.dumps({**DEVICE, "serial_number": serial})
        response = client.post(ISSUE_PATH, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
        if response.status_code != 201:
            raise RuntimeError(f"POST {ISSUE_PATH} answered {response.status_code}: {response.content[:500]!r}")
        return response.json()["code"]

    issued = [post(f"INPROC-WARM-{n:04d}") for n in range(5)]
    with CaptureQueriesContext(connections["default"]) as captured:
        issued.append(post("INPROC-COUNT"))
    queries = len(captured)
    samples = []
    for n in range(requests):
        started = time.perf_counter()
        issued.append(post(f"INPROC-{n:04d}"))
        samples.append((time.perf_counter() - started) * 1000)
    return queries, median(samples), issued


def _code_audit(organization_id, answered: list[str]) -> dict:
    """What the database holds of the organization's codes, against what the clients were told."""
    from django.db.models import Count, Max

    from apps.core.context import system_scope
    from apps.core.models import NumberSequence
    from apps.passports import codes
    from apps.passports.models import DevicePassport

    with system_scope(reason="bench passports: check the issued codes", using="owner", audit=False):
        stored = DevicePassport.objects.using("owner").filter(issuer_organization_id=organization_id)
        months = list(
            stored.values("year_month").annotate(
                rows=Count("id"),
                sequences=Count("sequence", distinct=True),
                codes=Count("code", distinct=True),
                highest=Max("sequence"),
            )
        )
        stored_codes = set(stored.values_list("code", flat=True))
        counters = {
            counter.name.removeprefix("passport:"): counter.last_value
            for counter in NumberSequence.objects.using("owner").filter(
                organization_id=organization_id, name__startswith="passport:"
            )
        }
    answered_twice = len(answered) - len(set(answered))
    stored_twice = sum((m["rows"] - m["sequences"]) + (m["rows"] - m["codes"]) for m in months)
    missing_numbers = sum(m["highest"] - m["sequences"] for m in months)
    beyond_highest = sum(max(0, counters.get(m["year_month"], 0) - m["highest"]) for m in months)
    return {
        "stored": sum(m["rows"] for m in months),
        "months": len(months),
        "duplicates": answered_twice + stored_twice,
        "gaps": missing_numbers + beyond_highest,
        "lost": len(set(answered) - stored_codes),
        "invalid": sum(1 for code in stored_codes if not codes.code_check(code).valid),
    }


def _scan_set(organization_id, count: int) -> list[str]:
    """The first `count` issued devices, each taken through four more public steps: their codes."""
    from apps.core.actors import Actor
    from apps.core.context import tenant_scope
    from apps.passports import services
    from apps.passports.models import DevicePassport

    actor = Actor.system(organization_id=organization_id)
    with tenant_scope(organization_id):
        passports = list(
            DevicePassport.objects.filter(issuer_organization_id=organization_id)
            .order_by("year_month", "sequence")
            .values_list("id", "code")[:count]
        )
    started = time.perf_counter()
    for passport_id, _ in passports:
        for kind in SCAN_STEPS:
            with tenant_scope(organization_id):
                services.passport_event_record(
                    actor=actor,
                    passport_id=passport_id,
                    data=services.LifecycleInput(kind=kind, location="Plant 2, line 4"),
                )
    progress(
        f"{len(passports)} devices taken through {len(SCAN_STEPS)} more steps in {time.perf_counter() - started:.1f}s"
    )
    return [code for _, code in passports]


def _scans_stored(organization_id) -> int:
    from apps.core.context import system_scope
    from apps.passports.models import PassportScan

    with system_scope(reason="bench passports: count the scans", using="owner", audit=False):
        return PassportScan.objects.using("owner").filter(organization_id=organization_id).count()


def _load(mode: str, url: str, args, seconds: float, scratch: str, **options) -> dict:
    """This module's load generator in a process of its own; its summary with every answer."""
    import subprocess

    answers_path = f"{scratch}/answers-{uuid.uuid4().hex}.json"
    command = [PYTHON, "-m", "bench.passports", "--client", mode, url, "--answers", answers_path]
    command += ["--seconds", str(seconds), "--requests", str(args.max_requests)]
    for name, value in options.items():
        if isinstance(value, list):
            for item in value:
                command += [f"--{name.replace('_', '-')}", str(item)]
        else:
            command += [f"--{name.replace('_', '-')}", str(value)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300)
    if finished.returncode != 0:
        raise RuntimeError(f"the load generator failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout)
    result["answers"] = json.loads(Path(answers_path).read_text())
    return result


def run(args) -> tuple[list[Metric], list[str]]:
    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start
    from bench.api_overhead import _free_port, _get, _in_process, _start_server, _stop_server, _wait_until_up

    organization, operator = _seed()
    # A real sign-in session, opened on the application's connection (the seeded instance
    # belongs to the owner's, and Django refuses to relate rows across connections).
    operator = get_user_model().objects.get(pk=operator.pk)
    token = session_start(user=operator).access
    issue_queries, issue_in_process_ms, answered = _issue_in_process(token, args.in_process_requests)
    progress(f"in process: a registration takes {issue_in_process_ms:.1f} ms, {issue_queries} queries")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    issue_headers = [f"Authorization: Bearer {token}"]
    issued: list[tuple[float, int, str | None]] = []  # the measured rounds' answers
    issue_seconds = 0.0
    issue_statuses: Counter[str] = Counter()
    scans_sent = 0
    answers: dict[str, list] = {"scan": [], "bare": []}
    totals = {name: {"ok": 0, "seconds": 0.0} for name in answers}
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        device_path = f"{scratch}/device.json"
        Path(device_path).write_text(json.dumps(DEVICE))
        log_path = f"{scratch}/uvicorn.log"
        with open(log_path, "w") as log:
            server = _start_server(port, 1, log)
            try:
                _wait_until_up(base, server, log_path)
                progress(f"uvicorn on {base} (1 worker); issuing for {args.warmup_seconds}s untimed")
                warm = _load(
                    "issue", f"{base}{ISSUE_PATH}", args, args.warmup_seconds, scratch,
                    concurrency=args.concurrency, header=issue_headers, device=device_path, serial_prefix="W",
                )  # fmt: skip
                answered += [code for _, status, code in warm["answers"] if status == 201]
                progress(f"warm-up: {warm['rps']} codes/s, {warm['statuses']}")
                measured = _load(
                    "issue", f"{base}{ISSUE_PATH}", args, args.seconds, scratch,
                    concurrency=args.concurrency, header=issue_headers, device=device_path, serial_prefix="M",
                )  # fmt: skip
                issued = measured["answers"]
                issue_seconds = measured["seconds"]
                issue_statuses.update(measured["statuses"])
                answered += [code for _, status, code in issued if status == 201]
                progress(
                    f"{args.concurrency} clients issued {measured['ok']} codes in {measured['seconds']}s: "
                    f"{measured['rps']} codes/s, p95 {measured['p95_ms']} ms, {measured['statuses']}"
                )
                audit = _code_audit(organization.id, answered)
                progress(f"codes in the database: {audit}")

                scan_codes = _scan_set(organization.id, args.scan_passports)
                paths_file = f"{scratch}/paths.json"
                Path(paths_file).write_text(json.dumps([f"/p/{code}" for code in scan_codes]))
                bare_file = f"{scratch}/bare.json"
                Path(bare_file).write_text(json.dumps([BARE_PATH]))
                status, page = _get(f"{base}/p/{scan_codes[0]}")
                scans_sent += 1
                if status != 200 or scan_codes[0].encode() not in page:
                    raise RuntimeError(f"/p/{scan_codes[0]} answered {status}: {page[:300]!r}")
                if _get(f"{base}{BARE_PATH}")[0] != 200:
                    raise RuntimeError("the bare view is not mounted (BENCHMARK_BARE_VIEW)")
                files = {"scan": paths_file, "bare": bare_file}
                progress(f"scanning {len(scan_codes)} codes at {args.scan_concurrency} clients, against the bare view")
                for name in ("scan", "bare"):
                    warm = _load(
                        "scan", base, args, args.scan_warmup_seconds, scratch,
                        concurrency=args.scan_concurrency, paths=files[name],
                    )  # fmt: skip
                    scans_sent += warm["ok"] if name == "scan" else 0
                for round_number in range(args.rounds):
                    for name in ("scan", "bare"):
                        result = _load(
                            "scan", base, args, args.scan_seconds, scratch,
                            concurrency=args.scan_concurrency, paths=files[name],
                        )  # fmt: skip
                        if result["errors"]:
                            raise RuntimeError(f"{name}: {result['errors']} failed requests ({result['statuses']})")
                        answers[name] += [latency for latency, _, _ in result["answers"]]
                        totals[name]["ok"] += result["ok"]
                        totals[name]["seconds"] += result["seconds"]
                        scans_sent += result["ok"] if name == "scan" else 0
                        progress(
                            f"round {round_number + 1}/{args.rounds} {name}: {result['rps']} req/s, "
                            f"p95 {result['p95_ms']} ms"
                        )
            finally:
                _stop_server(server)

    scan_queries, scan_in_process_ms = _in_process(f"/p/{scan_codes[0]}", {}, requests=args.in_process_requests)
    scans_sent += 21 + args.in_process_requests  # _in_process: 20 to warm up, one counted, then the timed ones
    bare_queries, bare_in_process_ms = _in_process(BARE_PATH, {}, requests=args.in_process_requests)
    scans_not_counted = scans_sent - _scans_stored(organization.id)

    served = [latency for latency, status, _ in issued if status == 201]
    if not served:
        raise RuntimeError(f"no code was issued: {dict(issue_statuses)}")
    rps = {name: totals[name]["ok"] / totals[name]["seconds"] for name in totals}

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("passports", name, round(value, 3), unit)

    metrics = [
        metric("codes_per_s", len(served) / issue_seconds, "codes/s"),
        metric("duplicates", audit["duplicates"], "codes"),
        metric("gaps", audit["gaps"], "numbers"),
        metric("issue_p50_ms", percentile(served, 0.50), "ms"),
        metric("issue_p95_ms", percentile(served, 0.95), "ms"),
        metric("scan_rps", rps["scan"], "req/s"),
        metric("bare_rps", rps["bare"], "req/s"),
        metric("scan_ratio", rps["scan"] / rps["bare"], "scan_rps/bare_rps"),
        metric("scan_p95_ms", percentile(answers["scan"], 0.95), "ms"),
        metric("scan_p50_ms", percentile(answers["scan"], 0.50), "ms"),
        metric("bare_p95_ms", percentile(answers["bare"], 0.95), "ms"),
        metric("codes_issued", len(served), "codes"),
        metric("issue_errors", sum(issue_statuses.values()) - len(served), "requests"),
        metric("codes_stored", audit["stored"], "codes"),
        metric("lost_codes", audit["lost"], "codes"),
        metric("invalid_codes", audit["invalid"], "codes"),
        metric("scans_not_counted", scans_not_counted, "scans"),
        metric("issue_concurrency", args.concurrency, "clients"),
        metric("scan_concurrency", args.scan_concurrency, "clients"),
        metric("scan_passports", len(scan_codes), "passports"),
        metric("issue_in_process_median_ms", issue_in_process_ms, "ms"),
        metric("issue_queries", issue_queries, "queries/request"),
        metric("scan_in_process_median_ms", scan_in_process_ms, "ms"),
        metric("scan_queries", scan_queries, "queries/request"),
        metric("bare_in_process_median_ms", bare_in_process_ms, "ms"),
        metric("bare_queries", bare_queries, "queries/request"),
    ]
    notes = [
        f"POST {ISSUE_PATH} as the operator of one organization, {args.concurrency} clients for {args.seconds}s "
        f"after {args.warmup_seconds}s untimed, a new device and Idempotency-Key per request; uvicorn with 1 "
        f"worker, settings {os.environ['DJANGO_SETTINGS_MODULE']}. Answers: {dict(issue_statuses)}.",
        f"duplicates / gaps / lost / invalid over all {audit['stored']} codes of the run ({audit['months']} "
        "month(s)), read back from the database (warm-up and in-process registrations included).",
        f"GET /p/<code> (anonymous, HTML, cycling over {len(scan_codes)} devices with {len(SCAN_STEPS) + 1} public "
        f"steps) vs GET {BARE_PATH}, {args.scan_concurrency} clients, {args.rounds} alternating rounds of "
        f"{args.scan_seconds}s per URL; scan_ratio = scan_rps / bare_rps (goal >= 0.5).",
        "*_in_process_median_ms / *_queries: one request at a time through Django's handler in this process, no "
        "server: what the request costs the application itself (queries include BEGIN/COMMIT and savepoints).",
    ]
    return metrics, notes


# --- The load generator: `python -m bench.passports --client issue|scan URL [options]` -----------


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """One HTTP/1.1 response: (status, keep-alive, body). bench.loadgen's reader, keeping the body."""
    from bench.loadgen import ResponseError

    status_line = await reader.readline()
    if not status_line:
        raise ResponseError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep_alive = None, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            keep_alive = False
    if chunked:
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            chunks.append((await reader.readexactly(size + 2))[:-2])
            if size == 0:
                break
        return status, keep_alive, b"".join(chunks)
    if length is not None:
        return status, keep_alive, await reader.readexactly(length)
    return status, False, await reader.read()


def _request(host: str, port: int, method: str, target: str, headers: list[str], body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines + headers) + "\r\n\r\n").encode("latin-1") + body


async def _client(host, port, next_request, keep_code, deadline, budget, answers) -> None:
    from bench.loadgen import ResponseError

    reader = writer = None
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        request = next_request()
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        started = time.perf_counter()
        try:
            writer.write(request)
            status, keep_alive, body = await _read_answer(reader)
        except (ResponseError, ConnectionError, asyncio.IncompleteReadError):
            answers.append((None, "connection error", None))
            writer.close()
            reader = writer = None
            continue
        latency = (time.perf_counter() - started) * 1000
        code = json.loads(body).get("code") if keep_code and status == 201 else None
        answers.append((latency, status, code))
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _issuing(host, port, target, headers, device: dict, prefix: str, index: int):
    """Each call: the next POST of client `index`, a device of its own and a fresh Idempotency-Key."""
    counter = iter(range(1, 10**9))

    def next_request() -> bytes:
        body = json.dumps({**device, "serial_number": f"{prefix}-{index:02d}-{next(counter):07d}"}).encode()
        return _request(host, port, "POST", target, [*headers, f"Idempotency-Key: {uuid.uuid4().hex}"], body)

    return next_request


def _scanning(host, port, paths: list[str], index: int, clients: int):
    """Each call: the next GET of client `index`, cycling over the paths from its own offset."""
    requests = [_request(host, port, "GET", path, ["Accept: text/html"]) for path in paths]
    position = iter(range(index * len(paths) // clients, 10**9))

    def next_request() -> bytes:
        return requests[next(position) % len(requests)]

    return next_request


async def _generate(args) -> dict:
    from urllib.parse import urlsplit

    from bench.loadgen import LOOPBACK, _percentile

    parts = urlsplit(args.url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"only http://127.0.0.1 (loopback) targets are allowed, not {args.url!r}")
    host, port = parts.hostname, parts.port or 80
    if args.client == "issue":
        device = json.loads(Path(args.device).read_text())
        makers = [
            _issuing(host, port, parts.path, args.header, device, args.serial_prefix, index)
            for index in range(args.concurrency)
        ]
        ok_status = 201
    else:
        paths = json.loads(Path(args.paths).read_text())
        makers = [_scanning(host, port, paths, index, args.concurrency) for index in range(args.concurrency)]
        ok_status = 200
    answers: list[tuple] = []
    budget = [args.requests]
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(
        *(_client(host, port, maker, args.client == "issue", deadline, budget, answers) for maker in makers)
    )
    elapsed = time.perf_counter() - started
    statuses = Counter(str(status) for _, status, _ in answers)
    ok = statuses.get(str(ok_status), 0)
    ordered = sorted(latency for latency, status, _ in answers if status == ok_status)
    Path(args.answers).write_text(json.dumps(answers))
    return {
        "url": args.url,
        "concurrency": args.concurrency,
        "requests": len(answers),
        "ok": ok,
        "errors": len(answers) - ok,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(_percentile(ordered, 0.50), 3),
        "p95_ms": round(_percentile(ordered, 0.95), 3),
    }


def _client_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.passports", description="the passports load generator")
    parser.add_argument("--client", choices=["issue", "scan"], required=True)
    parser.add_argument("url", help="issue: the POST URL; scan: the server's base URL")
    parser.add_argument("--answers", required=True, help="write [latency ms, status, code] of every answer here")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    parser.add_argument("--device", help="issue: a JSON file with the device's fields but its serial number")
    parser.add_argument("--serial-prefix", default="S", help="issue: serial numbers are PREFIX-CLIENT-N")
    parser.add_argument("--paths", help="scan: a JSON file with the paths to cycle over")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    print(json.dumps(runner(_generate(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_client_main(sys.argv[1:]))
