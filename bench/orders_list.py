# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Scenario `orders-list`: GET /api/v1/orders at 32 concurrent clients on 100,000 orders per tenant.

The data: `--tenants` organizations (2 by default) with `--orders` orders each (100,000),
1-3 items per order, against a handful of partner organizations: in 60 % of a tenant's
orders it is the client (a partner supplies), in 40 % the supplier (a partner is the
client). So every tenant's list mixes both sides, and row-level security has the other
tenants' orders (and the partners' view of them) to hide. The rows are written with
set-based SQL on the owner's connection (INSERT ... SELECT over generate_series, in the
bypass scope), every column the model has filled from an expression or its default, so
the seed keeps up with new nullable or defaulted columns and refuses an unknown
required one. Numbers follow the service's PREFIX-YYYY-NNNNNN, unique per client
organization and year, and the number sequences are left where they end.

What is measured: the organization admin of the first tenant asks for the default first
page (no query string: page 1, 20 rows, `meta.total` counted up to LIST_COUNT_LIMIT) through
one uvicorn server (config.settings.bench), with 32 keep-alive clients from bench.loadgen in
a process of its own, as api-overhead does; after a warm-up, `--rounds` rounds of `--seconds`.
Before timing, the served answer is checked: 200, 20 rows, page 1, the tenant's total (capped),
both sides of the tenant present on the page. `queries` is counted once in this
process (CaptureQueriesContext); `in_process_median_ms` is a serial request in this
process (no server); `server_*_ms` are PostgreSQL's own times for the page and the
count (EXPLAIN ANALYZE as the application role, in the tenant's scope).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from bench.api_overhead import _free_port, _get, _in_process, _load, _start_server, _stop_server, _wait_until_up
from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_orders"
PATH = "/api/v1/orders"
PAGE_SIZE = 20  # apps.core.pagination.PagePagination.page_size: the default page
PARTNERS = 8

# The statuses each kind's orders end up in, weighted by repetition (most are done).
COMMON_STATUSES = [
    "pending",
    "confirmed",
    "in_transit",
    "in_transit",
    "delivered",
    "completed",
    "completed",
    "cancelled",
]
ASSISTED_STATUSES = ["requested", "quoted", "paid", "purchased", "received_at_warehouse", "in_transit", "completed"]
PAYMENT_STATUSES = ["unpaid", "pending", "paid", "paid", "paid", "refunded"]
ITEM_NAMES = [
    "Подшипник роликовый 6204-2RS",
    "Helical gearbox 5.5 kW",
    "Кабель ВВГнг 3x2,5",
    "Hydraulic hose 1/2in",
    "Фильтр масляный W 712/75",
    "LED panel 600x600",
    "Насос центробежный КМ 80-50",
]


def add_arguments(parser) -> None:
    parser.add_argument("--orders", type=int, default=100_000, help="orders per tenant (default 100000)")
    parser.add_argument("--tenants", type=int, default=2, help="tenant organizations measured against (default 2)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of one measured round (default 15)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="untimed load first (default 5)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="request budget of one round")
    parser.add_argument("--in-process-requests", type=int, default=50, help="serial requests in process (default 50)")


def _insert_select(model, expressions: dict[str, str], source: str, connection) -> tuple[str, list]:
    """INSERT INTO <model's table> (every concrete column) SELECT <expression or default> <source>.

    Columns named in `expressions` take that SQL; the others their field's default, NULL
    when nullable, '' when blank text; an auto id is left to the database. A required
    column nobody described stops the seed rather than being guessed.
    """
    columns, selects, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.column in expressions:
            columns.append(field.column)
            selects.append(expressions[field.column])
        elif field.primary_key and field.get_internal_type() in {"AutoField", "BigAutoField"}:
            continue
        elif field.has_default():
            columns.append(field.column)
            selects.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
        elif field.null:
            continue
        elif field.blank and field.empty_strings_allowed:
            columns.append(field.column)
            selects.append("''")
        else:
            raise RuntimeError(f"the seed does not know how to fill {model._meta.db_table}.{field.column}")
    quoted = ", ".join(f'"{column}"' for column in columns)
    return f"INSERT INTO {model._meta.db_table} ({quoted}) SELECT {', '.join(selects)} {source}", params


def _seed(*, tenants: int, orders: int):
    """Tenants with an admin each, partner organizations, the orders; returns the tenants and their admins."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.core.models import NumberSequence
    from apps.orders.models import Order, OrderItem
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    started = time.perf_counter()
    user_model = get_user_model()
    now = timezone.now()
    tenant_rows = [
        Organization(name=f"Bench tenant {n:02d}", slug=f"bench-tenant-{n:02d}", country="DE", city="Hamburg")
        for n in range(tenants)
    ]
    partner_names = ["ООО «Волга Карго»", "Müller Maschinenbau GmbH", "ТрансЛайн ООО", "Baltic Shippers SIA"]
    partner_rows = [
        Organization(
            name=f"{partner_names[n % len(partner_names)]} {n:02d}", slug=f"bench-partner-{n:02d}", country="DE"
        )
        for n in range(PARTNERS)
    ]
    admins = [
        user_model(
            email=f"admin@tenant{n:02d}.bench",
            first_name="Admin",
            last_name=f"Tenant{n:02d}",
            password=make_password(None),
        )
        for n in range(tenants)
    ]
    memberships = [
        Membership(organization=organization, user=admin, role=Role.ORG_ADMIN, joined_at=now)
        for organization, admin in zip(tenant_rows, admins, strict=True)
    ]
    connection = connections["owner"]
    # The owner's connection in the bypass scope: an external owner that is not a superuser
    # is subject to the forced policies too.
    with system_scope(reason="bench orders seed", using="owner", audit=False), connection.cursor() as cursor:
        Organization.objects.using("owner").bulk_create([*tenant_rows, *partner_rows])
        user_model.objects.using("owner").bulk_create(admins)
        Membership.objects.using("owner").bulk_create(memberships)

        # One row per order to be: who the parties are, when, what kind, how many items.
        # The tenant is the client when g % 5 < 3, else the supplier; the partner turns with g.
        cursor.execute(
            """CREATE TEMP TABLE bench_order_seed ON COMMIT DROP AS
            WITH tenants AS (SELECT * FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS t(id, name, idx)),
                 partners AS (SELECT * FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS p(id, name, idx)),
                 base AS (
                    SELECT g, t.idx AS tenant_idx, gen_random_uuid() AS id,
                           CASE WHEN g %% 5 < 3 THEN t.id ELSE p.id END AS client_id,
                           CASE WHEN g %% 5 < 3 THEN t.name ELSE p.name END AS client_name,
                           CASE WHEN g %% 5 < 3 THEN p.id ELSE t.id END AS supplier_id,
                           CASE WHEN g %% 5 < 3 THEN p.name ELSE t.name END AS supplier_name,
                           (ARRAY['freight', 'freight', 'freight', 'freight', 'freight', 'assisted_purchase',
                                  'assisted_purchase', 'self_purchase', 'self_purchase', 'platform'])[1 + (g * 7) %% 10]
                               AS kind,
                           -- About one order every five minutes, back from now.
                           now() - make_interval(secs => g * 300 + t.idx * 7 + (g * 13) %% 97) AS created_at,
                           1 + (g * 11) %% 3 AS item_count
                    FROM tenants t
                    CROSS JOIN generate_series(1, %s) AS g
                    JOIN partners p ON p.idx = 1 + (g + t.idx) %% %s
                 )
            SELECT base.*,
                   extract(year FROM created_at)::int AS year,
                   row_number() OVER (PARTITION BY client_id, extract(year FROM created_at) ORDER BY created_at, id)
                       AS sequence
            FROM base""",
            [
                [o.id for o in tenant_rows],
                [o.name for o in tenant_rows],
                [o.id for o in partner_rows],
                [o.name for o in partner_rows],
                orders,
                PARTNERS,
            ],
        )
        # Item k of order g: quantity and price from (g, k), so the order's total is their sum.
        quantity = "(1 + (s.g + k) %% 5)"
        price = "round(((s.g * 37 + k * 101) %% 49900) / 100.0 + 5, 2)"
        statuses = "ARRAY[" + ", ".join(f"'{s}'" for s in COMMON_STATUSES) + "]"
        assisted = "ARRAY[" + ", ".join(f"'{s}'" for s in ASSISTED_STATUSES) + "]"
        payments = "ARRAY[" + ", ".join(f"'{s}'" for s in PAYMENT_STATUSES) + "]"
        status = (
            f"CASE WHEN s.kind = 'assisted_purchase' THEN ({assisted})[1 + s.g %% {len(ASSISTED_STATUSES)}]"
            f" ELSE ({statuses})[1 + s.g %% {len(COMMON_STATUSES)}] END"
        )
        prefix = (
            "CASE s.kind WHEN 'freight' THEN 'FR' WHEN 'assisted_purchase' THEN 'AP'"
            " WHEN 'self_purchase' THEN 'SP' ELSE 'PL' END"
        )
        sql, params = _insert_select(
            Order,
            {
                "id": "s.id",
                "number": f"{prefix} || '-' || s.year || '-' || lpad(s.sequence::text, 6, '0')",
                "kind": "s.kind",
                "status": status,
                "payment_status": f"({payments})[1 + s.g %% {len(PAYMENT_STATUSES)}]",
                "client_organization_id": "s.client_id",
                "supplier_organization_id": "s.supplier_id",
                "client_organization_name": "s.client_name",
                "supplier_organization_name": "s.supplier_name",
                "shipping_address": (
                    "jsonb_build_object('name', s.client_name, 'line1', 'ул. Промышленная, д. ' || (s.g %% 90 + 1),"
                    " 'city', 'Самара', 'postal_code', '443000', 'country', 'RU')"
                ),
                "currency": "'EUR'",
                "total_amount": f"(SELECT sum({quantity} * {price}) FROM generate_series(1, s.item_count) AS k)",
                "status_changed_at": "s.created_at + interval '1 day'",
                "created_at": "s.created_at",
                "updated_at": "s.created_at + interval '1 day'",
            },
            "FROM bench_order_seed s",
            connection,
        )
        cursor.execute(sql, params)
        names = "ARRAY[" + ", ".join("'" + name.replace("'", "''") + "'" for name in ITEM_NAMES) + "]"
        sql, params = _insert_select(
            OrderItem,
            {
                "order_id": "s.id",
                "client_organization_id": "s.client_id",
                "supplier_organization_id": "s.supplier_id",
                "sku": "'SKU-' || lpad(((s.g * 31 + k) %% 10000)::text, 5, '0')",
                "name": f"({names})[1 + (s.g + k) %% {len(ITEM_NAMES)}]",
                "quantity": quantity,
                "unit_price": price,
                "currency": "'EUR'",
            },
            "FROM bench_order_seed s CROSS JOIN generate_series(1, s.item_count) AS k ORDER BY s.id, k",
            connection,
        )
        cursor.execute(sql, params)
        # The sequences the service numbers from, left where the seed stopped.
        sql, params = _insert_select(
            NumberSequence,
            {"organization_id": "client_id", "name": "'order'", "year": "year", "last_value": "max(sequence)"},
            "FROM bench_order_seed GROUP BY client_id, year",
            connection,
        )
        cursor.execute(sql, params)
        cursor.execute("SELECT count(*) FROM orders_order")
        order_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM orders_orderitem")
        item_count = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        for model in (Order, OrderItem):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")  # outside any transaction, as VACUUM must be
    progress(
        f"seeded {order_count} orders ({item_count} items) over {tenants} tenants and {PARTNERS} partners "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return tenant_rows, admins


def _check_page(body: bytes, status: int, *, tenant_id, orders: int) -> None:
    """The default first page: 200, 20 rows, page 1, the tenant's own total, both sides of the tenant."""
    if status != 200:
        raise RuntimeError(f"{PATH} answered {status}: {body[:300]!r}")
    page = json.loads(body)
    rows, meta = page["data"], page["meta"]
    if len(rows) != PAGE_SIZE or meta["page"] != 1 or meta["limit"] != PAGE_SIZE:
        raise RuntimeError(f"not the default first page of {PAGE_SIZE}: {len(rows)} rows, meta {meta}")
    # meta.total counts up to LIST_COUNT_LIMIT (docs/decisions/0005-list-counts.md).
    from django.conf import settings

    counted = min(orders, settings.LIST_COUNT_LIMIT)
    if (meta["total"], meta["totalIsExact"]) != (counted, orders <= settings.LIST_COUNT_LIMIT):
        raise RuntimeError(f"the tenant sees {meta['total']} orders, not its {orders}: row-level security?")
    sides = {
        "client" if row["client_organization"]["id"] == str(tenant_id) else "supplier"
        for row in rows
        if str(tenant_id) in (row["client_organization"]["id"], row["supplier_organization"]["id"])
    }
    if len(sides) != 2:
        raise RuntimeError(f"the page should show the tenant on both sides, it shows {sides}")


def _server_ms(tenant_id, user_id) -> dict[str, float]:
    """PostgreSQL's planning + execution time of the page and of the count, as the application role."""
    from django.db import connections

    from apps.core.context import tenant_scope
    from apps.core.pagination import capped_count_queryset, list_count_limit
    from apps.core.visibility import party_page
    from apps.orders import selectors

    queryset = selectors.order_list(organization_id=tenant_id)
    # The statement the list runs: its two-party page (a UNION ALL of the sides) when it has one.
    page = party_page(queryset[:PAGE_SIZE])
    page = queryset[:PAGE_SIZE] if page is None else page
    page_sql, page_params = page.query.get_compiler(using="default").as_sql()
    # The count the list runs (apps.core.pagination.capped_count), and the exact count it replaced.
    capped = capped_count_queryset(queryset, list_count_limit())
    inner_sql, count_params = capped.query.sql_with_params()
    count_sql = f"SELECT COUNT(*) FROM ({inner_sql}) subquery"
    exact_sql = "SELECT COUNT(*) FROM orders_order WHERE (client_organization_id = %s OR supplier_organization_id = %s)"
    timings: dict[str, list[float]] = {"page": [], "count": [], "exact_count": []}
    for _ in range(5):
        for name, sql, params in (
            ("page", page_sql, page_params),
            ("count", count_sql, count_params),
            ("exact_count", exact_sql, [tenant_id, tenant_id]),
        ):
            with tenant_scope(tenant_id, user_id=user_id), connections["default"].cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            timings[name].append(float(plan[0]["Planning Time"]) + float(plan[0]["Execution Time"]))
    return {name: median(values) for name, values in timings.items()}


def run(args) -> tuple[list[Metric], list[str]]:
    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start

    tenants, admins = _seed(tenants=args.tenants, orders=args.orders)
    tenant = tenants[0]
    # A real sign-in session, opened on the application's connection (the seeded instance
    # belongs to the owner's, and Django refuses to relate rows across connections).
    admin = get_user_model().objects.get(pk=admins[0].pk)
    token = session_start(user=admin).access
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    from django.test import Client

    response = Client(HTTP_HOST="127.0.0.1").get(PATH, **headers)
    _check_page(response.content, response.status_code, tenant_id=tenant.id, orders=args.orders)
    queries, in_process_ms = _in_process(PATH, headers, requests=args.in_process_requests)
    server = _server_ms(tenant.id, admin.id)
    progress(
        f"in process: {queries} queries, median {in_process_ms:.1f} ms; "
        f"PostgreSQL: page {server['page']:.1f} ms, count {server['count']:.1f} ms "
        f"(an exact count: {server['exact_count']:.1f} ms)"
    )

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}{PATH}"
    load_headers = [f"Authorization: Bearer {token}"]
    latencies: list[float] = []
    ok, seconds = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        log_path = f"{scratch}/uvicorn.log"
        with open(log_path, "w") as log:
            server_process = _start_server(port, 1, log)
            try:
                _wait_until_up(base, server_process, log_path)
                status, body = _get(url, {"Authorization": f"Bearer {token}"})
                _check_page(body, status, tenant_id=tenant.id, orders=args.orders)
                progress(f"server on {base} (1 worker); warming up {args.warmup_seconds}s")
                _load(url, load_headers, args, args.warmup_seconds)
                for round_number in range(args.rounds):
                    latencies_path = f"{scratch}/orders-{round_number}.json"
                    result = _load(url, load_headers, args, args.seconds, latencies_path)
                    latencies += json.loads(Path(latencies_path).read_text())
                    ok += result["ok"]
                    seconds += result["seconds"]
                    progress(
                        f"round {round_number + 1}/{args.rounds}: {result['rps']} req/s, p95 {result['p95_ms']} ms"
                    )
            finally:
                _stop_server(server_process)

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("orders-list", name, round(value, 3), unit)

    metrics = [
        metric("p95_ms", percentile(latencies, 0.95), "ms"),
        metric("rps", ok / seconds, "req/s"),
        metric("queries", queries, "queries/request"),
        metric("p50_ms", percentile(latencies, 0.50), "ms"),
        metric("in_process_median_ms", in_process_ms, "ms"),
        metric("server_page_ms", server["page"], "ms"),
        metric("server_count_ms", server["count"], "ms"),
        metric("server_exact_count_ms", server["exact_count"], "ms"),
        metric("page_size", PAGE_SIZE, "rows"),
        metric("page", 1, "page"),
        metric("orders_per_tenant", args.orders, "orders"),
        metric("tenants", args.tenants, "organizations"),
        metric("concurrency", args.concurrency, "clients"),
    ]
    notes = [
        f"GET {PATH} (no query string: the default first page, {PAGE_SIZE} rows, meta.total counted) as the first "
        f"tenant's admin; {args.orders} orders per tenant over {args.tenants} tenants, 1-3 items each; "
        f"{args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds}s; uvicorn with 1 worker, "
        f"settings {os.environ['DJANGO_SETTINGS_MODULE']}.",
        "queries: SQL statements of one request (CaptureQueriesContext, in process); server_*_ms: PostgreSQL's "
        "planning + execution of the page query and of the count the list runs (capped at LIST_COUNT_LIMIT; "
        "server_exact_count_ms: the exact count it replaced) (EXPLAIN ANALYZE, median of 5).",
    ]
    return metrics, notes
