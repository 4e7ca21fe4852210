"""`python -m bench <scenario> [--json]`: run one benchmark of DESIGN.md §9.

Scenarios:
  rls           a tenant-scoped list query with and without row-level security
  api-overhead  an authenticated list endpoint against a bare view on the same ASGI server
  auth-overhead the same tenant-scoped list endpoint with JWT authentication and without
  orders-list   GET /api/v1/orders at 32 concurrent clients on 100,000 orders per tenant
  documents     CMR PDFs rendered per second in one process (render_document)
  quote         POST /api/v1/pricing/quote at 32 concurrent clients over 10,000 offerings, and pricing alone
  escrow        fund/release/refund at 16 concurrent clients (services, no HTTP) vs a bare UPDATE loop
  tracking-read GET /tracking/orders/{id}/route and /eta of a shipment with 100,000 pings, in process
  tracking-ingest device pings per second through POST /tracking/events (1,000-row batches) vs a raw COPY
  tracking-live a shipment's position from location_push to 500 WebSocket subscribers on two ASGI processes
  chat          a message from POST to 200 sockets on two ASGI processes; history of 100k messages; thread list
  webhooks      events from the outbox to a local receiver through a real worker: deliveries/s, commit-to-delivery p95
  notifications 10,000 outbox events to 50 members each: in-app notifications and e-mails per second, no duplicates
  passports     codes issued per second at 16 clients (no duplicate, no gap); the public scan page vs the bare view
  points        points awarded per second at 16 clients to 8 people, every running balance exact afterwards
  matching      service orders matched against 50,000 experts: experts scored per second, p95 of one order
  platform-sync 100,000 orders synced from the four platform sandboxes: orders/s; a full re-sync changes nothing

Each scenario starts what it needs (embedded PostgreSQL and Redis unless DATABASE_URL /
REDIS_URL are set), creates a database of its own, seeds it, measures, and removes the
processes and the database it made. With --json, stdout carries one JSON object per
line: {"scenario", "metric", "value", "unit"}; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from bench import environment

SCENARIOS = {
    "rls": ("bench.rls", "RLS cost on a tenant-scoped list query"),
    "api-overhead": ("bench.api_overhead", "authenticated list endpoint vs the bare view"),
    "auth-overhead": ("bench.auth_overhead", "the same list endpoint with JWT auth vs a pre-resolved user"),
    "orders-list": ("bench.orders_list", "the order list at 32 clients on 100k orders per tenant"),
    "documents": ("bench.documents", "CMR PDFs rendered per second in one process"),
    "quote": ("bench.quote", "instant quotes at 32 clients over 10k offerings, and offerings priced per second"),
    "escrow": ("bench.escrow", "fund/release/refund at 16 clients against a bare UPDATE loop, ledger checked"),
    "tracking-read": ("bench.tracking_read", "the route and ETA of a shipment with 100k pings, in process"),
    "tracking-ingest": ("bench.tracking_ingest", "device pings per second through the batch endpoint vs a raw COPY"),
    "tracking-live": ("bench.tracking_live", "p95 from a pushed position to 500 subscribers on two ASGI processes"),
    "chat": ("bench.chat", "p95 from a POSTed message to 200 sockets; a 100k-message history and 1,000 threads"),
    "webhooks": (
        "bench.webhooks",
        "deliveries per second to a local receiver and the p95 from event commit to delivery",
    ),
    "notifications": ("bench.notifications", "events/s from the outbox to in-app notifications and caught e-mails"),
    "passports": (
        "bench.passports",
        "codes issued per second at 16 clients with no duplicate and no gap; the public scan page vs the bare view",
    ),
    "points": ("bench.points", "points awarded per second at 16 clients to 8 people, every running balance exact"),
    "matching": ("bench.matching", "service orders matched against 50,000 experts: experts scored/s, p95 of one order"),
    "platform-sync": (
        "bench.platform_sync",
        "orders/s synced from the platform sandboxes (100k orders); a full re-sync adds and changes nothing",
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    scenarios = parser.add_subparsers(dest="scenario", required=True, metavar="scenario")
    for name, (module_name, summary) in SCENARIOS.items():
        sub = scenarios.add_parser(name, help=summary, description=summary)
        sub.add_argument("--json", action="store_true", help="print one JSON object per metric on stdout")
        sub.add_argument("--keep-database", action="store_true", help="leave the benchmark database behind")
        importlib.import_module(module_name).add_arguments(sub)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    module_name, _ = SCENARIOS[args.scenario]
    scenario = importlib.import_module(module_name)

    environment.configure(scenario.DATABASE)
    environment.create_database()
    try:
        metrics, notes = scenario.run(args)
    finally:
        if args.keep_database:
            environment.close_connections()
        else:
            environment.drop_database()

    if args.json:
        for metric in metrics:
            print(metric.json_line(), flush=True)
    else:
        print(f"\n{args.scenario}")
        for metric in metrics:
            print(f"  {metric.metric:<28} {metric.value:>12} {metric.unit}")
        for note in notes:
            print(f"\n{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
