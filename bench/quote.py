"""Scenario `quote`: POST /api/v1/pricing/quote at 32 concurrent clients over 10,000 offerings.

The data: `--offerings` published service offerings (10,000 by default) of `--carriers`
carrier organizations (50), each with `--tariffs` tariffs (5): a base charge per pallet, a
distance rate with a distance band, a seasonal adjustment with a validity window, a fuel
surcharge, and a second base charge per kg with a weight band. Offerings follow ten
profiles (road FTL and LTL, rail, air, sea, courier, reefer, dangerous goods; pricing
models fixed, per_kg, per_km, per_cbm; their weight and volume limits, cargo types,
hazmat classes, temperature ranges) over eleven coverage patterns (anywhere, DE to PL,
Benelux to central Europe, Iberia, Scandinavia...), so that about two in five can carry
the benchmark's shipment and the rest are left out by the SQL narrowing of
`selectors.offerings_for_quote`; a few are limited to pickup cities and are left out by
the pricing in Python instead. Some tariffs do not apply to the shipment (a distance band
it is outside, a season not yet begun, a weight band), so pricing skips them with their
reasons, as it would in production. Rows are written with set-based SQL on the owner's
connection in the bypass scope (INSERT ... SELECT over generate_series, as orders-list).

The shipment: 1.2 t of palletized cargo (8 m³, 4 pallets) from Hamburg to Warsaw, with
coordinates (great-circle distance), no pickup date, default sort (price) and limit (20).

What is measured:
- `p95_ms`: the shipper's POST through one uvicorn server (config.settings.bench) with
  `--concurrency` keep-alive clients (bench.loadgen in a process of its own, here sending
  POSTs), after a warm-up, over `--rounds` rounds of `--seconds`: the requests answered
  200. Those answered 503 (a request that waited for a pooled connection past the pool's
  timeout) are counted apart (`shed_503`); any other status stops the run. The served
  answer is checked first: 200, 20 quotes sorted by price, `meta.total` and the 20
  offerings the same as `quotes.quote_shipment` finds in this process.
- `quotes_per_s`: offerings priced per second by `pricing.quote_offering` alone, in this
  process, over the candidates `selectors.offerings_for_quote` loaded once (in the
  shipper's tenant scope): best of `--pricing-rounds` passes over all of them.
- beside them, in this process: one whole `quotes.quote_shipment` (SQL, model instances,
  pricing, sort) and its query count, loading the candidates alone, one whole request
  through Django's handler, and PostgreSQL's own time for the statements quote_shipment
  sends (EXPLAIN ANALYZE as the application role, in the shipper's scope).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench.api_overhead import PYTHON, ROOT, _free_port, _start_server, _stop_server, _wait_until_up
from bench.environment import progress
from bench.orders_list import _insert_select
from bench.stats import Metric, median, percentile

DATABASE = "bench_quote"
PATH = "/api/v1/pricing/quote"
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
LIMIT = 20  # ShipmentQuoteInput's default limit: the body does not send one
BODY = {
    "origin": {"country": "DE", "city": "Hamburg", "latitude": 53.55, "longitude": 9.99},
    "destination": {"country": "PL", "city": "Warsaw", "latitude": 52.23, "longitude": 21.01},
    "weight_kg": "1200",
    "volume_cbm": "8",
    "cargo_type": "palletized",
    "pallet_count": 4,
}
CARRIER_NAMES = ["Spedition Nord", "TransBalt", "Rhein Logistik", "Vistula Cargo", "Alpen Express"]

# What carriers sell: (service_type, label, pricing_model, price range of base_price in EUR,
# max_weight_kg, max_volume_cbm, cargo_types, hazmat_classes, temperature range when
# controlled, transit days). The shipment (1.2 t, 8 m³, palletized) fits profiles 1-4, 6, 9
# and 10; rail and sea do not take palletized cargo here, the courier not 1.2 t.
PROFILES = [
    ("road_ftl", "FTL", "per_km", 1.10, 1.90, 24000, 90, "{general,palletized,bulk}", "{}", None, 2, 4),
    ("road_ftl", "FTL", "fixed", 900, 2400, 24000, 90, "{}", "{}", None, 2, 5),
    ("road_ltl", "Groupage", "per_kg", 0.08, 0.20, 5000, 30, "{general,palletized}", "{}", None, 3, 6),
    ("road_ltl", "Pallet network", "per_cbm", 30, 70, 3000, 20, "{palletized}", "{}", None, 2, 4),
    ("rail", "Rail", "per_kg", 0.04, 0.09, 60000, 120, "{container,bulk,general}", "{}", None, 5, 9),
    ("air", "Air", "per_kg", 1.80, 4.50, 2000, 15, "{general,palletized,dangerous}", "{3,8,9}", None, 1, 2),
    ("sea", "Sea", "per_cbm", 25, 60, None, None, "{container}", "{}", None, 14, 30),
    ("courier", "Courier", "per_kg", 1.50, 3.00, 70, 0.5, "{general}", "{}", None, 1, 2),
    ("road_ftl", "Reefer", "per_km", 1.60, 2.40, 22000, 80, "{refrigerated,palletized}", "{}", (-25, 25), 2, 4),
    ("road_ltl", "ADR", "fixed", 600, 1500, 10000, 40, "{dangerous,palletized,general}", "{2.1,3,8,9}", None, 3, 5),
]
# Where they go: (origin_countries, destination_countries, label); empty = anywhere.
# DE -> PL is covered by patterns 1, 2, 3, 4, 6 and 10.
COVERAGES = [
    ("{}", "{}", "Europe"),
    ("{DE}", "{PL}", "DE-PL"),
    ("{DE,NL,BE}", "{PL,CZ,SK}", "Benelux/DE-Central Europe"),
    ("{DE,PL,CZ,AT}", "{DE,PL,CZ,AT}", "Central Europe"),
    ("{FR,ES,PT}", "{FR,ES,PT}", "Iberia-France"),
    ("{DE,FR,NL,BE,PL}", "{DE,FR,NL,BE,PL}", "Western Europe"),
    ("{IT}", "{DE,AT,CH}", "IT-Alps"),
    ("{PL}", "{DE}", "PL-DE"),
    ("{NL,BE,LU}", "{}", "Benelux-Europe"),
    ("{DE}", "{}", "DE-Europe"),
    ("{SE,NO,DK,FI}", "{SE,NO,DK,FI}", "Nordics"),
]
CURRENCIES = ["EUR", "EUR", "EUR", "EUR", "EUR", "EUR", "PLN", "USD"]
RATES = {"EUR": 1, "PLN": 4.3, "USD": 1.08}


def add_arguments(parser) -> None:
    parser.add_argument("--offerings", type=int, default=10_000, help="published offerings (default 10000)")
    parser.add_argument("--tariffs", type=int, default=5, help="tariffs per offering (default 5; kinds repeat past 5)")
    parser.add_argument("--carriers", type=int, default=50, help="carrier organizations (default 50)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of one measured round (default 15)")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds (default 2)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="untimed load first (default 5)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="request budget of one round")
    parser.add_argument("--in-process-requests", type=int, default=10, help="serial requests in process (default 10)")
    parser.add_argument("--pricing-rounds", type=int, default=5, help="passes of quote_offering (default 5)")
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many requests in process (stderr)")
    parser.add_argument("--db-pool-max", type=int, help="DB_POOL_MAX of the server (default: the application's)")


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _values(rows) -> str:
    return ", ".join(
        "(" + ", ".join(_literal(value) for value in (number, *row)) + ")" for number, row in enumerate(rows, 1)
    )


@dataclass(frozen=True)
class Seeded:
    shipper: object  # the Organization asking for quotes
    user: object  # its member with the shipper role
    offerings: int
    tariffs: int
    carriers: int


@dataclass(frozen=True)
class Expected:
    total: int  # quotes quote_shipment finds in process
    first: list[str]  # the offering ids of the first LIMIT, in order


def _seed(*, offerings: int, tariffs: int, carriers: int) -> Seeded:
    """Carriers with their offerings and tariffs, and a shipper with one member."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connections
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.marketplace.models import ServiceOffering, Tariff
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    started = time.perf_counter()
    user_model = get_user_model()
    carrier_rows = [
        Organization(
            name=f"{CARRIER_NAMES[n % len(CARRIER_NAMES)]} {n:02d}",
            slug=f"bench-carrier-{n:02d}",
            country="DE" if n % 2 else "PL",
        )
        for n in range(carriers)
    ]
    shipper = Organization(name="Bench shipper", slug="bench-shipper", country="DE", city="Hamburg")
    user = user_model(email="shipper@shipper.bench", first_name="Ship", last_name="Per", password=make_password(None))
    membership = Membership(organization=shipper, user=user, role=Role.SHIPPER, joined_at=timezone.now())
    connection = connections["owner"]
    # The owner's connection in the bypass scope: an external owner that is not a superuser
    # is subject to the forced policies too.
    with system_scope(reason="bench quote seed", using="owner", audit=False), connection.cursor() as cursor:
        Organization.objects.using("owner").bulk_create([*carrier_rows, shipper])
        user_model.objects.using("owner").bulk_create([user])
        Membership.objects.using("owner").bulk_create([membership])

        # A profile's temperature range as a numrange literal ("[-25,25]"), or NULL.
        profiles = _values(
            (*profile[:9], None if profile[9] is None else "[{},{}]".format(*profile[9]), *profile[10:])
            for profile in PROFILES
        )
        coverages = _values(COVERAGES)
        # One row per offering to be: its carrier, profile, coverage, currency and a spread
        # in [0, 1] that places its prices inside the profile's range. Profile and coverage
        # come from g % 10 and (g / 10) % 11, so every 110 offerings hold each pair once.
        cursor.execute(
            f"""CREATE TEMP TABLE bench_offering_seed ON COMMIT DROP AS
            WITH carriers AS (SELECT * FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS c(id, name, idx)),
                 profiles(idx, service_type, label, pricing_model, price_low, price_high, max_weight_kg,
                          max_volume_cbm, cargo_types, hazmat_classes, temperature, transit_low, transit_high)
                     AS (VALUES {profiles}),
                 coverages(idx, origin_countries, destination_countries, route) AS (VALUES {coverages})
            SELECT g, gen_random_uuid() AS id, c.id AS organization_id, c.name AS organization_name,
                   p.service_type, p.label, p.pricing_model, p.price_low, p.price_high, p.max_weight_kg,
                   p.max_volume_cbm, p.cargo_types, p.hazmat_classes, p.temperature::numrange AS temperature,
                   p.transit_low, p.transit_high, v.origin_countries, v.destination_countries, v.route,
                   (%s::text[])[1 + (g * 3) %% %s] AS currency,
                   ((g * 37) %% 101) / 100.0 AS spread,
                   now() - make_interval(days => g %% 700, secs => g %% 86400) AS created_at
            FROM generate_series(1, %s) AS g
            JOIN carriers c ON c.idx = 1 + (g * 7) %% %s
            JOIN profiles p ON p.idx = 1 + g %% {len(PROFILES)}
            JOIN coverages v ON v.idx = 1 + (g / {len(PROFILES)}) %% {len(COVERAGES)}""",
            [
                [o.id for o in carrier_rows],
                [o.name for o in carrier_rows],
                CURRENCIES,
                len(CURRENCIES),
                offerings,
                carriers,
            ],
        )
        rate = "CASE s.currency " + " ".join(f"WHEN '{c}' THEN {r}" for c, r in RATES.items()) + " END"
        weekdays = "(s.g / 7) %% 5 = 0"  # one in five picks up on weekdays only
        sql, params = _insert_select(
            ServiceOffering,
            {
                "id": "s.id",
                "organization_id": "s.organization_id",
                "organization_name": "s.organization_name",
                "name": "s.label || ' ' || s.route || ' #' || s.g",
                "description": "'Door to door; tail-lift and pallet exchange on request.'",
                "service_type": "s.service_type",
                "origin_countries": "s.origin_countries::varchar[]",
                "destination_countries": "s.destination_countries::varchar[]",
                # One in twenty picks up in Hamburg or Bremen only, one in twenty in Munich or
                # Stuttgart only: SQL does not narrow cities, pricing leaves the latter out.
                "origin_cities": (
                    "CASE (s.g / 110) %% 20 WHEN 3 THEN ARRAY['Hamburg', 'Bremen']::varchar[]"
                    " WHEN 11 THEN ARRAY['Munich', 'Stuttgart']::varchar[] ELSE '{}'::varchar[] END"
                ),
                "destination_cities": "'{}'::varchar[]",
                "max_weight_kg": "s.max_weight_kg::numeric",
                "max_volume_cbm": "s.max_volume_cbm::numeric",
                "cargo_types": "s.cargo_types::varchar[]",
                "hazmat_classes": "s.hazmat_classes::varchar[]",
                "temperature_controlled": "s.temperature IS NOT NULL",
                "temperature_min_c": "lower(s.temperature)",
                "temperature_max_c": "upper(s.temperature)",
                "transit_days": "s.transit_low + s.g %% (s.transit_high - s.transit_low + 1)",
                "sla_guarantee": "s.g %% 3 = 0",
                "insurance_included": "s.g %% 4 = 0",
                "pricing_model": "s.pricing_model",
                "base_price": f"round((s.price_low + (s.price_high - s.price_low) * s.spread) * {rate}, 4)",
                "currency": "s.currency",
                "available_days": f"CASE WHEN {weekdays} THEN '{{1,2,3,4,5}}'::smallint[] ELSE '{{}}'::smallint[] END",
                "available_from": f"CASE WHEN {weekdays} THEN time '07:00' END",
                "available_until": f"CASE WHEN {weekdays} THEN time '18:00' END",
                "rating_average": "round(3 + ((s.g * 29) %% 200) / 100.0, 2)",
                "rating_count": "(s.g * 17) %% 400",
                "created_at": "s.created_at",
                "updated_at": "s.created_at + interval '1 day'",
            },
            "FROM bench_offering_seed s",
            connection,
        )
        cursor.execute(sql, params)

        # Tariff k of offering g is of kind 1 + (k - 1) % 5. Bands turn with g, so that
        # some tariffs do not apply to the shipment (about 750 km, 1,200 kg, today).
        kind = "(1 + (k - 1) %% 5)"

        def by_kind(handling, distance, seasonal, fuel, weight) -> str:
            kinds = (handling, distance, seasonal, fuel, weight)
            whens = " ".join(f"WHEN {n} THEN {sql}" for n, sql in enumerate(kinds, 1) if sql != "NULL")
            return f"CASE {kind} {whens} END"

        distance_band = "(s.g / 5) %% 4"  # [0, 1000] km, [1000, 5000], [300, 2500], any
        season = "(s.g / 2) %% 3"  # now, later (not valid yet), always
        weight_band = "(s.g / 3) %% 4"  # [1000, 10000] kg, [0, 999.999], [5000, ...), [500, 3000]
        sql, params = _insert_select(
            Tariff,
            {
                "id": "gen_random_uuid()",
                "offering_id": "s.id",
                "organization_id": "s.organization_id",
                "name": by_kind(
                    "'Loading and handling'",
                    f"(ARRAY['Regional rate', 'Long-haul rate', 'Cross-border rate', 'Distance rate'])"
                    f"[1 + {distance_band}]",
                    f"(ARRAY['Autumn peak', 'Winter peak', 'Year-round adjustment'])[1 + {season}]",
                    "'Fuel surcharge'",
                    f"(ARRAY['Heavy cargo supplement', 'Light cargo handling', 'Over 5 t supplement',"
                    f" 'Medium cargo supplement'])[1 + {weight_band}]",
                ),
                "tariff_type": by_kind("'base'", "'distance'", "'seasonal'", "'fuel_surcharge'", "'base'"),
                "price_per_unit": by_kind(
                    f"round((12 + 18 * s.spread) * {rate}, 4)",
                    f"round((0.05 + 0.20 * s.spread) * {rate}, 4)",
                    "NULL",
                    "NULL",
                    f"round((0.01 + 0.03 * s.spread) * {rate}, 4)",
                ),
                "unit": by_kind("'pallet'", "'km'", "'fixed'", "'fixed'", "'kg'"),
                "minimum_charge": by_kind(f"40 * {rate}", "NULL", "NULL", "NULL", f"25 * {rate}"),
                "maximum_charge": by_kind(
                    "NULL", "NULL", "NULL", f"CASE WHEN s.g %% 3 = 0 THEN 400 * {rate} END", "NULL"
                ),
                "min_weight_kg": by_kind(
                    "NULL", "NULL", "NULL", "NULL", f"(ARRAY[1000, 0, 5000, 500])[1 + {weight_band}]"
                ),
                "max_weight_kg": by_kind(
                    "NULL", "NULL", "NULL", "NULL", f"(ARRAY[10000, 999.999, NULL, 3000])[1 + {weight_band}]"
                ),
                "min_distance_km": by_kind(
                    "NULL", f"(ARRAY[0, 1000, 300, NULL])[1 + {distance_band}]", "NULL", "NULL", "NULL"
                ),
                "max_distance_km": by_kind(
                    "NULL", f"(ARRAY[1000, 5000, 2500, NULL])[1 + {distance_band}]", "NULL", "NULL", "NULL"
                ),
                "valid_from": by_kind(
                    "NULL",
                    "NULL",
                    f"CASE {season} WHEN 0 THEN now() - interval '30 days' WHEN 1 THEN now() + interval '90 days' END",
                    "NULL",
                    "NULL",
                ),
                "valid_until": by_kind(
                    "NULL",
                    "NULL",
                    f"CASE {season} WHEN 0 THEN now() + interval '60 days' WHEN 1 THEN now() + interval '180 days' END",
                    "NULL",
                    "NULL",
                ),
                "seasonal_multiplier": f"CASE WHEN {kind} = 3 THEN round(1.05 + 0.15 * s.spread, 3) ELSE 1 END",
                "fuel_multiplier": f"CASE WHEN {kind} = 4 THEN round(1.08 + 0.14 * s.spread, 3) ELSE 1 END",
                "created_at": "s.created_at",
                "updated_at": "s.created_at",
            },
            "FROM bench_offering_seed s CROSS JOIN generate_series(1, %s) AS k ORDER BY s.id, k",
            connection,
        )
        cursor.execute(sql, [*params, tariffs])
        cursor.execute("SELECT count(*) FROM marketplace_serviceoffering")
        offering_count = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM marketplace_tariff")
        tariff_count = cursor.fetchone()[0]
    progress(
        f"seeded {offering_count} offerings with {tariff_count} tariffs over {carriers} carriers "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return Seeded(shipper=shipper, user=user, offerings=offering_count, tariffs=tariff_count, carriers=carriers)


def _analyze() -> None:
    from django.db import connections

    from apps.marketplace.models import ServiceOffering, Tariff

    with connections["owner"].cursor() as cursor:
        for model in (ServiceOffering, Tariff):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")  # outside any transaction, as VACUUM must be


def shipment():
    """The body's shipment, as QuoteView builds it."""
    from apps.marketplace.pricing import Place, Shipment

    def place(data: dict) -> Place:
        return Place(
            country=data["country"],
            city=data["city"],
            latitude=Decimal(str(data["latitude"])),
            longitude=Decimal(str(data["longitude"])),
        )

    return Shipment(
        origin=place(BODY["origin"]),
        destination=place(BODY["destination"]),
        weight_kg=Decimal(BODY["weight_kg"]),
        volume_cbm=Decimal(BODY["volume_cbm"]),
        pallet_count=BODY["pallet_count"],
        cargo_type=BODY["cargo_type"],
    )


def _timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _pricing(scope, *, rounds: int) -> dict:
    """quote_offering alone over the candidates, loaded once: best pass of `rounds`."""
    from django.utils import timezone

    from apps.marketplace import selectors
    from apps.marketplace.pricing import Exclusion, quote_offering, shipment_distance

    cargo = shipment()
    distance = shipment_distance(cargo)
    now = timezone.now()
    with scope():
        candidates = list(selectors.offerings_for_quote(shipment=cargo))
        published = list(selectors.with_pricing_tariffs(selectors.offering_list_published()))

    def price_all(offerings) -> int:
        quoted = 0
        for offering in offerings:
            result = quote_offering(
                offering=offering, tariffs=offering.pricing_tariffs, shipment=cargo, distance=distance, now=now
            )
            quoted += not isinstance(result, Exclusion)
        return quoted

    quoted = price_all(candidates)
    best = min(_timed(lambda: price_all(candidates), rounds))
    best_published = min(_timed(lambda: price_all(published), rounds))
    return {
        "candidates": len(candidates),
        "quoted": quoted,
        "tariffs_loaded": sum(len(o.pricing_tariffs) for o in candidates),
        "published": len(published),
        "pricing_ms": best,
        "quotes_per_s": len(candidates) / (best / 1000),
        "judged_per_s_published": len(published) / (best_published / 1000),
    }


def _quote_shipment(scope, *, repeat: int) -> dict:
    """One whole quotes.quote_shipment (and the candidates' loading alone): median ms, queries."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.marketplace import quotes, selectors

    cargo = shipment()

    def quote():
        with scope():
            return quotes.quote_shipment(shipment=cargo, now=timezone.now())

    def load():
        with scope():
            return list(selectors.offerings_for_quote(shipment=cargo))

    def uncached():
        """The same quote with its cached ranking removed first: the ranking computed in SQL."""
        from django.core.cache import cache

        from apps.marketplace.pricing import shipment_distance

        with scope():
            version = selectors.catalogue_version()
            distance = shipment_distance(cargo)
            cache.delete(quotes.ranking_key(version=version, shipment=cargo, distance=distance, sort="price", limit=20))
            return quotes.quote_shipment(shipment=cargo, now=timezone.now())

    result = quote()  # warm
    # What the served answer is checked against; not the result itself, whose instances
    # would stay on the heap (and in the garbage collector's way) for the rest of the run.
    expected = Expected(total=result.total, first=[str(priced.offering_id) for _, priced in result.quotes[:LIMIT]])
    del result
    with CaptureQueriesContext(connections["default"]) as captured:
        quote()
    # The service's own statements: the scope's BEGIN, set_config and COMMIT aside.
    queries = sum(
        "set_config" not in query["sql"] and query["sql"].split()[0].upper() not in TRANSACTION_CONTROL
        for query in captured
    )
    return {
        "expected": expected,
        "queries": queries,
        "quote_shipment_ms": median(_timed(quote, repeat)),
        "uncached_ms": median(_timed(uncached, repeat)),
        "load_ms": median(_timed(load, repeat)),
    }


def _server_ms(scope) -> dict[str, float]:
    """PostgreSQL's planning + execution of the statements one quote_shipment sends, by table.

    The statements are taken as Django logged them (values inlined), whatever shape the
    selectors give them; each is explained as the application role in the tenant's scope.
    """
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.marketplace import quotes

    with CaptureQueriesContext(connections["default"]) as captured, scope():
        quotes.quote_shipment(shipment=shipment(), now=timezone.now())
    statements = [
        query["sql"]
        for query in captured
        if "set_config" not in query["sql"] and query["sql"].split()[0].upper() not in TRANSACTION_CONTROL
    ]
    timings: dict[str, list[float]] = {"offerings": [], "tariffs": []}
    for _ in range(5):
        totals = dict.fromkeys(timings, 0.0)
        for sql in statements:
            table = "tariffs" if 'FROM "marketplace_tariff"' in sql else "offerings"
            with scope(), connections["default"].cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            totals[table] += float(plan[0]["Planning Time"]) + float(plan[0]["Execution Time"])
        for table, total in totals.items():
            timings[table].append(total)
    return {name: median(values) for name, values in timings.items()}


def _check_answer(body: bytes, status: int, *, expected: Expected) -> dict:
    """200; the default limit of quotes, sorted by price within each currency; the total found in process."""
    if status != 200:
        raise RuntimeError(f"{PATH} answered {status}: {body[:300]!r}")
    answer = json.loads(body)
    rows, meta = answer["data"], answer["meta"]
    total = expected.total
    if meta["total"] != total or meta["limit"] != LIMIT or len(rows) != min(LIMIT, total):
        raise RuntimeError(f"expected {min(LIMIT, total)} of {total} quotes, got {len(rows)}, meta {meta}")
    keys = [(row["currency"], Decimal(row["total"])) for row in rows]
    if keys != sorted(keys):
        raise RuntimeError(f"quotes not sorted by price: {keys}")
    if [row["offering_id"] for row in rows] != expected.first:
        raise RuntimeError("the served quotes are not the ones quote_shipment finds in process")
    return answer


def _in_process(path: str, headers: dict, *, requests: int, profile: int) -> tuple[int, float, bytes]:
    """(SQL statements of one request, median ms of serial requests, a body) through Django's handler."""
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps(BODY)

    def post():
        return client.post(path, body, content_type="application/json", **headers)

    for _ in range(3):  # imports, the connection pool, caches
        post()
    with CaptureQueriesContext(connections["default"]) as captured:
        response = post()
    queries = len(captured)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    samples = _timed(post, requests)
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(profile):
            post()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        progress(f"cProfile of {profile} requests in process:\n{out.getvalue()}")
    return queries, median(samples), response.content


def _post(url: str, headers: dict) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    data = json.dumps(BODY).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback only, built here
        url, data=data, headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _load(url: str, headers: list[str], args, seconds: float, body_path: str, scratch: str) -> dict:
    """bench.loadgen sending POSTs of the body (see _loadgen_main), in a process of its own.

    Returns its summary with `answers`: (latency ms, status) of every answered request. A
    503 (the connection pool's wait timed out: the server sheds load) is counted, not fatal;
    any other failure stops the run.
    """
    import subprocess

    latencies_path, statuses_path = f"{scratch}/latencies.json", f"{scratch}/statuses.json"
    command = [PYTHON, "-m", "bench.quote", "--body-file", body_path, "--statuses", statuses_path, url]
    command += ["--concurrency", str(args.concurrency), "--seconds", str(seconds), "--requests", str(args.max_requests)]
    command += ["--latencies", latencies_path]
    for header in headers:
        command += ["--header", header]
    # Closed loop: the round ends when the last request sent before `seconds` is answered.
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300)
    if finished.returncode != 0:
        raise RuntimeError(f"the load generator failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout)
    unexpected = {status: n for status, n in result["statuses"].items() if status not in {"200", "503"}}
    if unexpected:
        raise RuntimeError(f"{url}: failed requests {result['statuses']}")
    latencies = json.loads(Path(latencies_path).read_text())
    statuses = json.loads(Path(statuses_path).read_text())
    if len(latencies) != len(statuses):
        raise RuntimeError(f"{len(latencies)} latencies for {len(statuses)} statuses")
    return {**result, "answers": list(zip(latencies, statuses, strict=True))}


def _start(port: int, log, *, pool_max: int | None):
    """api-overhead's uvicorn (one worker), with DB_POOL_MAX set for it alone when asked."""
    saved = os.environ.get("DB_POOL_MAX")
    if pool_max:
        os.environ["DB_POOL_MAX"] = str(pool_max)
    try:
        return _start_server(port, 1, log)
    finally:
        if saved is None:
            os.environ.pop("DB_POOL_MAX", None)
        else:
            os.environ["DB_POOL_MAX"] = saved


def run(args) -> tuple[list[Metric], list[str]]:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from apps.accounts.services import session_start
    from apps.core.context import tenant_scope

    seeded = _seed(offerings=args.offerings, tariffs=args.tariffs, carriers=args.carriers)
    _analyze()
    # A real sign-in session, opened on the application's connection (the seeded instance
    # belongs to the owner's, and Django refuses to relate rows across connections).
    user = get_user_model().objects.get(pk=seeded.user.pk)
    token = session_start(user=user).access

    def scope():
        return tenant_scope(seeded.shipper.id, user_id=user.id)

    pricing = _pricing(scope, rounds=args.pricing_rounds)
    progress(
        f"pricing: {pricing['candidates']} candidates of {pricing['published']} published "
        f"({pricing['quoted']} quoted, {pricing['tariffs_loaded']} tariffs), "
        f"{pricing['quotes_per_s']:.0f} offerings priced/s ({pricing['pricing_ms']:.1f} ms a pass)"
    )
    whole = _quote_shipment(scope, repeat=args.in_process_requests)
    expected = whole["expected"]
    if expected.total != pricing["quoted"]:
        raise RuntimeError(f"quote_shipment found {expected.total} quotes, pricing alone {pricing['quoted']}")
    server = _server_ms(scope)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    queries, in_process_ms, body = _in_process(PATH, headers, requests=args.in_process_requests, profile=args.profile)
    answer = _check_answer(body, 200, expected=expected)
    progress(
        f"in process: quote_shipment {whole['quote_shipment_ms']:.1f} ms ({whole['queries']} queries; "
        f"{whole['uncached_ms']:.1f} ms with its ranking computed afresh; loading "
        f"{whole['load_ms']:.1f} ms), request {in_process_ms:.1f} ms ({queries} queries, {len(body)} bytes); "
        f"PostgreSQL: offerings {server['offerings']:.1f} ms, tariffs {server['tariffs']:.1f} ms"
    )

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"{base}{PATH}"
    load_headers = [f"Authorization: Bearer {token}"]
    answers: list[tuple[float, int]] = []
    ok, seconds = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="manifest-bench-") as scratch:
        body_path = f"{scratch}/body.json"
        Path(body_path).write_text(json.dumps(BODY))
        log_path = f"{scratch}/uvicorn.log"
        with open(log_path, "w") as log:
            server_process = _start(port, log, pool_max=args.db_pool_max)
            try:
                _wait_until_up(base, server_process, log_path)
                status, served = _post(url, {"Authorization": f"Bearer {token}"})
                _check_answer(served, status, expected=expected)
                progress(f"server on {base} (1 worker); warming up {args.warmup_seconds}s")
                _load(url, load_headers, args, args.warmup_seconds, body_path, scratch)
                for round_number in range(args.rounds):
                    result = _load(url, load_headers, args, args.seconds, body_path, scratch)
                    answers += result["answers"]
                    ok += result["ok"]
                    seconds += result["seconds"]
                    progress(
                        f"round {round_number + 1}/{args.rounds}: {result['rps']} req/s, "
                        f"p95 {result['p95_ms']} ms (all answers), {result['statuses']} in {result['seconds']}s"
                    )
            finally:
                _stop_server(server_process)

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("quote", name, round(value, 3), unit)

    served = [latency for latency, status in answers if status == 200]
    shed = [latency for latency, status in answers if status == 503]
    if not served:
        raise RuntimeError(f"no request was served: {len(shed)} answered 503")
    pool_max = args.db_pool_max or settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    metrics = [
        metric("p95_ms", percentile(served, 0.95), "ms"),
        metric("quotes_per_s", pricing["quotes_per_s"], "offerings priced/s"),
        metric("rps", ok / seconds, "req/s"),
        metric("p50_ms", percentile(served, 0.50), "ms"),
        metric("requests_measured", len(served), "requests"),
        metric("shed_503", len(shed), "requests"),
        metric("shed_share", len(shed) / len(answers), "of answers"),
        metric("concurrency", args.concurrency, "clients"),
        metric("db_pool_max", pool_max, "connections"),
        metric("offerings", seeded.offerings, "offerings"),
        metric("tariffs", seeded.tariffs, "tariffs"),
        metric("tariffs_per_offering", args.tariffs, "tariffs"),
        metric("carriers", seeded.carriers, "organizations"),
        metric("candidates", pricing["candidates"], "offerings/request"),
        metric("quotes_total", answer["meta"]["total"], "quotes/request"),
        metric("quotes_returned", len(answer["data"]), "quotes/request"),
        metric("queries", queries, "queries/request"),
        metric("response_bytes", len(body), "bytes"),
        metric("in_process_median_ms", in_process_ms, "ms"),
        metric("quote_shipment_median_ms", whole["quote_shipment_ms"], "ms"),
        metric("quote_shipment_queries", whole["queries"], "queries"),
        metric("quote_shipment_uncached_median_ms", whole["uncached_ms"], "ms"),
        metric("candidates_load_median_ms", whole["load_ms"], "ms"),
        metric("pricing_ms", pricing["pricing_ms"], "ms"),
        metric("server_offerings_ms", server["offerings"], "ms"),
        metric("server_tariffs_ms", server["tariffs"], "ms"),
        metric("judged_per_s_published", pricing["judged_per_s_published"], "offerings judged/s"),
    ]
    notes = [
        f"POST {PATH} as the shipper's member (body {json.dumps(BODY)}; default sort price, limit {LIMIT}); "
        f"{seeded.offerings} published offerings of {seeded.carriers} carriers, {args.tariffs} tariffs each; "
        f"{pricing['candidates']} pass the SQL narrowing, {answer['meta']['total']} are quoted; "
        f"{args.concurrency} concurrent clients, {args.rounds} rounds of {args.seconds}s; uvicorn with 1 worker, "
        f"settings {os.environ['DJANGO_SETTINGS_MODULE']}, DB_POOL_MAX {pool_max}.",
        "p95_ms, p50_ms, requests_measured: the requests answered 200; shed_503: those answered 503 (a request "
        "thread waited for a pooled connection longer than the pool's timeout; the server sheds load).",
        "quotes_per_s: pricing.quote_offering alone over the candidates loaded once (best of "
        f"{args.pricing_rounds}); judged_per_s_published: the same over every published offering (explain). "
        "quote_shipment_*: the whole service call in process (SQL, instances, pricing, sort), its ranking "
        "served by the cache after the first call as a repeated quote is (in_process_median_ms likewise); "
        "quote_shipment_uncached_median_ms: the same with the cached ranking deleted first (ranked in SQL); "
        "candidates_load_*: the two queries and their model instances alone; server_*_ms: PostgreSQL's planning + "
        "execution of the statements quote_shipment sends, on offerings and on tariffs (EXPLAIN ANALYZE, median of "
        "5).",
    ]
    return metrics, notes


# --- The load generator's POST: `python -m bench.quote --body-file PATH URL [bench.loadgen options]` ---


def _post_request(get_request, body: bytes):
    """bench.loadgen's request builder, sending `body` as a JSON POST instead of a GET."""

    def build(url: str, headers: list[str], method: str = "GET", body_: bytes = b"") -> tuple[str, int, bytes]:
        # bench.loadgen passes its own method and body (GET, none): this builder's body wins.
        host, port, request = get_request(url, headers)  # refuses anything but loopback
        lines = request.decode("latin-1").removesuffix("\r\n\r\n").split("\r\n")
        lines[0] = "POST" + lines[0].removeprefix("GET")
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    return build


def _loadgen_main(argv: list[str]) -> int:
    from bench import loadgen

    parser = argparse.ArgumentParser(prog="python -m bench.quote", add_help=False)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--statuses", required=True, help="write each answer's status here, in latency order")
    known, rest = parser.parse_known_args(argv)
    # bench.loadgen only sends GETs and keeps no status per request; its client, response
    # reader and summary are reused as they are, with the request it writes (the same bytes
    # every time) made a POST, and each status noted as the reader returns it. The client
    # appends the latency right after, with no await in between: the two lists stay aligned.
    loadgen._request_bytes = _post_request(loadgen._request_bytes, Path(known.body_file).read_bytes())
    statuses: list[int] = []
    read_response = loadgen._read_response

    async def read_and_note(reader):
        status, keep_alive = await read_response(reader)
        statuses.append(status)
        return status, keep_alive

    loadgen._read_response = read_and_note
    code = loadgen.main(rest)
    Path(known.statuses).write_text(json.dumps(statuses))
    return code


if __name__ == "__main__":
    sys.exit(_loadgen_main(sys.argv[1:]))
