"""Scenario `matching`: experts scored per second and the latency of matching one service order
against 50,000 published experts (issue 22: `p95_ms` goal < 100, with a spatial prefilter
served by an index).

Seed (the fast path of this benchmark only; real rows, as the services would write them):
`--experts` (50,000) expert passports of as many users, each a member (expert role) of one of
`--organizations` (500) expert organizations, with codes composed by apps/service/codes.py (one
month's sequence, its counter set), spread uniformly over a country-sized region (latitude
44-56, longitude 2-26: about 1,300 by 1,700 km), a main skill drawn from the vocabulary plus up
to two more, service radii from 20 to 250 km (their area boxes as the services compute them;
the trigger of migration 0002 fills `service_expertarea`), work statuses (40 % AVAILABLE, 20 %
IDLE, 12 % RUSHING, 10 % BOOKED, 5 % IN_SERVICE, 13 % OFF_DUTY), memberships (every rushing
expert and a fifth of the others paid), ratings (0-80 of them, 3.0-5.0 on average), 95 %
published. One customer organization with `--orders` (200) PENDING service orders at random
sites of the region, random skills, urgencies and (a third) scheduled windows. Then ANALYZE.

Measure: each order matched once through `service_order_match`, in the customer's tenant scope
as the `service_order.created` subscriber runs it (the system acting), one transaction per order
timed whole: the prefilter (GiST on the area boxes, the passports joined by primary key under
row-level security), the calendar look-up, scoring, storing the best 20 results and, for URGENT
and HIGH orders, the first offer round to RUSHING experts with its event; commit included.
`--warmup-orders` (20) are matched first, untimed. Reported:
- `p50_ms` / `p95_ms` / `max_ms`: the time to match one order;
- `candidates_per_order`: experts the prefilter returned and the scorer read, on average
  (published, not OFF_DUTY, with the skill's industry, whose area box contains the site);
- `experts_per_s`: candidates scored per second of matching, i.e. the candidates of every timed
  order over the sum of their matching times (the whole transaction, not the scorer alone);
- `matched_per_order`: candidates left after the scorer's exclusions (outside the radius);
- `experts`: the published experts the prefilter chose from.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from bench.environment import progress
from bench.stats import Metric, median, percentile

DATABASE = "bench_matching"
SCENARIO = "matching"
REGION = {"latitude": (44.0, 56.0), "longitude": (2.0, 26.0)}
RADII = (20, 30, 50, 80, 100, 150, 250)
STATUSES = (
    ("AVAILABLE", 40),
    ("IDLE", 20),
    ("RUSHING", 12),
    ("BOOKED", 10),
    ("IN_SERVICE", 5),
    ("OFF_DUTY", 13),
)
PAID = ("SILVER", "GOLD", "DIAMOND")
URGENCIES = ("LOW", "MEDIUM", "HIGH", "URGENT")
NATIONALITIES = ("DE", "PL", "FR", "CZ", "AT", "NL", "DK")


def add_arguments(parser) -> None:
    parser.add_argument("--experts", type=int, default=50_000, help="published and unpublished experts (50,000)")
    parser.add_argument("--organizations", type=int, default=500, help="expert organizations (500)")
    parser.add_argument("--orders", type=int, default=200, help="service orders matched and timed (200)")
    parser.add_argument("--warmup-orders", type=int, default=20, help="orders matched first, untimed (20)")
    parser.add_argument("--seed", type=int, default=22, help="random seed of the data (22)")


@dataclass
class Seeded:
    customer_id: uuid.UUID
    order_ids: list[uuid.UUID]
    experts: int
    published: int
    seconds: float


@dataclass
class Measured:
    samples_ms: list[float] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    offered: int = 0


def _weighted(rng: random.Random, choices) -> str:
    return rng.choices([name for name, _ in choices], weights=[weight for _, weight in choices])[0]


def _point(rng: random.Random) -> tuple[Decimal, Decimal]:
    latitude = Decimal(str(round(rng.uniform(*REGION["latitude"]), 6)))
    longitude = Decimal(str(round(rng.uniform(*REGION["longitude"]), 6)))
    return latitude, longitude


def _expert_rows(n: int, rng: random.Random, *, organization, user, year_month: str, now):
    from apps.service import codes, vocabulary
    from apps.service.models import ExpertPassport
    from apps.service.services.experts import area_box

    main = rng.choice(vocabulary.SKILL_KEYS)
    industry, _, skill = main.partition(vocabulary.SEPARATOR)
    extra = rng.sample(vocabulary.SKILL_KEYS, rng.randint(0, 2))
    status = _weighted(rng, STATUSES)
    paid = status == "RUSHING" or rng.random() < 0.2
    latitude, longitude = _point(rng)
    radius = rng.choice(RADII)
    ratings = rng.randint(0, 80)
    expert_type = rng.choice("TBA")
    nationality = rng.choice(NATIONALITIES)
    code = codes.compose(
        expert_type=expert_type,
        industry=industry,
        skill=skill,
        year_month=year_month,
        nationality=nationality,
        sequence=n,
    )
    return ExpertPassport(
        organization_id=organization.id,
        user_id=user.id,
        display_name=user.first_name + " " + user.last_name,
        code=code,
        expert_type=expert_type,
        industry_code=industry,
        skill_code=skill,
        year_month=year_month,
        nationality=nationality,
        sequence=n,
        checksum=code[-2:],
        professional_field=vocabulary.skill_label(main),
        years_experience=rng.randint(0, 35),
        skills=[main, *[key for key in extra if key != main]],
        languages=["en"],
        base_location=f"Bench town {n}",
        latitude=latitude,
        longitude=longitude,
        service_radius_km=radius,
        work_status=status,
        work_status_changed_at=now,
        membership_level=rng.choice(PAID) if paid else "FREE",
        membership_expires_at=now + timedelta(days=rng.randint(5, 365)) if paid else None,
        rating_average=Decimal(str(round(rng.uniform(3.0, 5.0), 2))) if ratings else Decimal(0),
        rating_count=ratings,
        completed_orders=ratings,
        is_published=rng.random() < 0.95,
        **area_box(latitude, longitude, radius),
    )


def _seed(*, experts: int, organizations: int, orders: int, seed: int = 22) -> Seeded:
    """The experts, their organizations and users, a customer organization and its orders."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.service import vocabulary
    from apps.service.models import ExpertCodeCounter, ExpertPassport, ServiceOrder
    from apps.tenancy.models import Membership, Organization, OrganizationFeature
    from apps.tenancy.roles import Role

    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    year_month = now.strftime("%y%m")
    user_model = get_user_model()
    password = make_password(None)
    expert_organizations = [
        Organization(name=f"Field service {n:03d}", slug=f"bench-experts-{n:03d}", country="DE")
        for n in range(organizations)
    ]
    customer = Organization(name="Bench plant", slug="bench-plant", country="DE", city="Kassel")
    dispatcher = user_model(email="dispatcher@plant.bench", first_name="Dora", last_name="Dispatch", password=password)
    users = [
        user_model(email=f"expert{n:06d}@experts.bench", first_name="Expert", last_name=f"{n:06d}", password=password)
        for n in range(1, experts + 1)
    ]
    batch = 5000
    # The owner's connection in the bypass scope: an external owner that is not a superuser is
    # subject to the forced policies too.
    with system_scope(reason="bench matching seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([*expert_organizations, customer])
        user_model.objects.using("owner").bulk_create([dispatcher, *users], batch_size=batch)
        Membership.objects.using("owner").bulk_create(
            [Membership(organization=customer, user=dispatcher, role=Role.OPERATOR, joined_at=now)]
            + [
                Membership(
                    organization=expert_organizations[n % organizations], user=user, role=Role.EXPERT, joined_at=now
                )
                for n, user in enumerate(users)
            ],
            batch_size=batch,
        )
        OrganizationFeature.objects.using("owner").bulk_create(
            [
                OrganizationFeature(
                    organization=organization, name="expert_services", is_entitled=True, is_enabled=True
                )
                for organization in [customer, *expert_organizations]
            ]
        )
        rows = [
            _expert_rows(
                n,
                rng,
                organization=expert_organizations[(n - 1) % organizations],
                user=user,
                year_month=year_month,
                now=now,
            )
            for n, user in enumerate(users, start=1)
        ]
        ExpertPassport.objects.using("owner").bulk_create(rows, batch_size=batch)
        ExpertCodeCounter.objects.using("owner").update_or_create(
            year_month=year_month, defaults={"last_value": experts}
        )
        order_rows = []
        for n in range(1, orders + 1):
            latitude, longitude = _point(rng)
            scheduled = rng.random() < 1 / 3
            start = (now + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 9))).replace(
                minute=0, second=0, microsecond=0
            )
            order_rows.append(
                ServiceOrder(
                    organization_id=customer.id,
                    number=f"SVO-{now.year}-{n:06d}",
                    title=f"Bench order {n}",
                    urgency=rng.choice(URGENCIES),
                    status="PENDING",
                    status_changed_at=now,
                    required_skill=rng.choice(vocabulary.SKILL_KEYS),
                    customer_id=dispatcher.id,
                    created_by_id=dispatcher.id,
                    address=f"Hall {n}",
                    latitude=latitude,
                    longitude=longitude,
                    scheduled_start=start if scheduled else None,
                    scheduled_end=start + timedelta(hours=rng.randint(1, 6)) if scheduled else None,
                )
            )
        ServiceOrder.objects.using("owner").bulk_create(order_rows)
    published = sum(1 for row in rows if row.is_published)
    seconds = time.perf_counter() - started
    progress(
        f"seeded {experts} experts ({published} published) in {organizations} organizations "
        f"and {orders} orders in {seconds:.1f}s"
    )
    return Seeded(
        customer_id=customer.id,
        order_ids=[row.id for row in order_rows],
        experts=experts,
        published=published,
        seconds=seconds,
    )


def _analyze() -> None:
    from django.db import connections

    from apps.service.models import ExpertArea, ExpertPassport, MatchingResult, ServiceOrder

    with connections["owner"].cursor() as cursor:
        for model in (ExpertPassport, ExpertArea, ServiceOrder, MatchingResult):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")  # outside a transaction, as VACUUM must be


class _MatchLog(logging.Handler):
    """Keeps what `service.order_matched` says of each order (its candidates, its matches)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "service.order_matched":
            self.records.append({"candidates": record.candidates, "matched": record.matched, "offered": record.offered})


def _measure(seeded: Seeded, *, warmup: int) -> Measured:
    """Match every order once (the first `warmup` untimed), each in its own transaction."""
    from apps.core.actors import Actor
    from apps.core.context import tenant_scope
    from apps.service.services import service_order_match

    actor = Actor.system(organization_id=seeded.customer_id)
    log = _MatchLog()
    logger = logging.getLogger("apps.service.services.matching")
    previous = logger.level, logger.propagate
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # one log line per order would bury the progress lines
    measured = Measured()
    try:
        for index, order_id in enumerate(seeded.order_ids):
            started = time.perf_counter()
            with tenant_scope(seeded.customer_id):
                service_order_match(actor=actor, service_order_id=order_id)
            elapsed_ms = (time.perf_counter() - started) * 1000
            if index < warmup:
                continue
            measured.samples_ms.append(elapsed_ms)
            record = log.records[-1]
            measured.candidates.append(record["candidates"])
            measured.matched.append(record["matched"])
            measured.offered += record["offered"]
    finally:
        logger.removeHandler(log)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
    return measured


def metrics(seeded: Seeded, measured: Measured) -> list[Metric]:
    samples, candidates = measured.samples_ms, measured.candidates
    orders = len(samples)
    seconds = sum(samples) / 1000
    return [
        Metric(SCENARIO, "experts_per_s", round(sum(candidates) / seconds, 1), "candidates scored/s"),
        Metric(SCENARIO, "p95_ms", round(percentile(samples, 0.95), 2), "ms"),
        Metric(SCENARIO, "p50_ms", round(median(samples), 2), "ms"),
        Metric(SCENARIO, "max_ms", round(max(samples), 2), "ms"),
        Metric(SCENARIO, "candidates_per_order", round(sum(candidates) / orders, 1), "experts"),
        Metric(SCENARIO, "matched_per_order", round(sum(measured.matched) / orders, 1), "experts"),
        Metric(SCENARIO, "orders", orders, "orders"),
        Metric(SCENARIO, "offers", measured.offered, "experts offered"),
        Metric(SCENARIO, "experts", seeded.published, "published experts"),
    ]


def _plan(seeded: Seeded) -> str:
    """EXPLAIN ANALYZE of the prefilter of the first order, as the application role runs it."""
    from django.db import connection

    from apps.core.context import tenant_scope
    from apps.service.models import ServiceOrder
    from apps.service.services.matching import candidates_queryset

    with tenant_scope(seeded.customer_id):
        order = ServiceOrder.objects.get(id=seeded.order_ids[0])
        sql, params = candidates_queryset(order).values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())


def _purge() -> int:
    """The tasks the run's commits enqueued with no worker to run them (outbox relays, offer
    rounds' ends), in the benchmark's Redis database."""
    from config.celery import app

    return app.control.purge() or 0


def run(args) -> tuple[list[Metric], list[str]]:
    seeded = _seed(
        experts=args.experts, organizations=args.organizations, orders=args.orders + args.warmup_orders, seed=args.seed
    )
    _analyze()
    measured = _measure(seeded, warmup=args.warmup_orders)
    _purge()
    results = metrics(seeded, measured)
    progress(", ".join(f"{metric.metric} {metric.value}" for metric in results))
    return results, [f"Prefilter plan of one order (application role, row-level security on):\n{_plan(seeded)}"]
