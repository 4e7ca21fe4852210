"""A small closed-loop HTTP/1.1 load generator: `python -m bench.loadgen URL [options]`.

N clients, each on its own keep-alive connection, send GETs (or POSTs with a JSON body:
`--method POST --body '{...}'`) back to back (a new
request as soon as the previous answer is read) until the request budget or the
time budget runs out. Prints one JSON object: requests, errors, statuses, seconds,
rps, p50_ms, p95_ms, p99_ms, max_ms.

It runs in a process of its own so that it never shares an event loop or a GIL
with the server, and it speaks HTTP/1.1 over asyncio streams directly rather than
through httpx: on a two-core machine the generator competes with the server for
CPU, and httpx's per-request cost (several times that of this loop) would cap the
bare view's figure and flatter the endpoint/bare ratio. Only loopback targets are
accepted: this is a benchmark tool, not a traffic generator.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ResponseError(Exception):
    pass


def _request_bytes(url: str, headers: list[str], method: str = "GET", body: bytes = b"") -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SystemExit(f"only http://127.0.0.1 (loopback) targets are allowed, not {url!r}")
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.hostname}:{port}", "Accept: application/json"]
    if method != "GET" or body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    lines += headers
    return parts.hostname, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, keep_alive)."""
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
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()  # body until close
        keep_alive = False
    return status, keep_alive


async def _client(host, port, request, deadline, budget, latencies, statuses) -> None:
    reader = writer = None
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        started = time.perf_counter()
        try:
            writer.write(request)
            status, keep_alive = await _read_response(reader)
        except (ResponseError, ConnectionError, asyncio.IncompleteReadError):
            statuses["connection error"] += 1
            writer.close()
            reader = writer = None
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[str(status)] += 1
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


async def run(
    url: str,
    *,
    headers: list[str],
    concurrency: int,
    requests: int,
    seconds: float,
    latencies: list[float],
    method: str = "GET",
    body: bytes = b"",
    ok_status: str = "200",
) -> dict:
    """Load `url`; fills `latencies` (ms, one per answered request) and returns the summary."""
    host, port, request = _request_bytes(url, headers, method, body)
    statuses: Counter[str] = Counter()
    budget = [requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, deadline, budget, latencies, statuses) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    ok = statuses.get(ok_status, 0)
    return {
        "url": url,
        "method": method,
        "concurrency": concurrency,
        "requests": sum(statuses.values()),
        "ok": ok,
        "errors": sum(statuses.values()) - ok,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(_percentile(ordered, 0.50), 3),
        "p95_ms": round(_percentile(ordered, 0.95), 3),
        "p99_ms": round(_percentile(ordered, 0.99), 3),
        "max_ms": round(ordered[-1], 3) if ordered else None,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help='"Name: value", repeatable')
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=100_000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=20.0, help="stop after this many seconds")
    parser.add_argument("--latencies", help="also write every latency (ms) to this file, as a JSON array")
    parser.add_argument("--method", default="GET", choices=["GET", "POST"], help="GET (default) or POST")
    parser.add_argument("--body", default="", help="the JSON body of every POST (sent as is)")
    parser.add_argument("--ok-status", default="200", help="the status that counts as served (default 200)")
    args = parser.parse_args(argv)
    try:
        import uvloop  # installed with uvicorn[standard]; a cheaper event loop leaves more CPU to the server
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    latencies: list[float] = []
    result = runner(
        run(
            args.url,
            headers=args.header,
            concurrency=args.concurrency,
            requests=args.requests,
            seconds=args.seconds,
            latencies=latencies,
            method=args.method,
            body=args.body.encode(),
            ok_status=args.ok_status,
        )
    )
    if args.latencies:
        Path(args.latencies).write_text(json.dumps([round(value, 4) for value in latencies]))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
