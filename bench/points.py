"""Scenario `points`: points awarded per second by concurrent clients to a few people, with every
running balance exact afterwards (issue 22).

The data: one organization with the `points` feature on (the default rules, migration
points/0002) and `--people` people (8), its experts. Nothing else is seeded: accounts are made by
the first award, as in production.

What is measured: `--concurrency` clients (16), threads with a database connection each (the
application role, row-level security forced), doing what the awarding subscriber does when the
relay delivers an event (apps.points.receivers.event_award): enter the audited all-tenants scope
and call `services.points_award_for_event` with a `service_order.completed` event naming one of
the people, chosen at random, as the expert (a new event id each time). The rule lookup, the
feature check, the account's row lock, the idempotency check, the line, the account update and
the point_transaction.recorded outbox row are all there, and the on-commit relay task is
published to the benchmark's Redis (no worker consumes it; the queue is purged before and after).
With so few people the clients queue on the same account rows: the contention the lock is for.
Mixed in, per op:
- `--redeliveries` (0.05): one of the client's earlier events delivered again; it must record
  nothing (the run stops otherwise);
- `--penalties` (0.1): a PENALTY of 150 points (a rule that does not allow a negative balance),
  refused with INSUFFICIENT_FUNDS while the balance is below 150 (counted as `penalties_refused`).
After `--warmup-seconds`, the awards finished within `--seconds` count: `awards_per_s` (new REWARD
lines), `ops_per_s` (every op), and the awards' latency percentiles.

After the run, from the database: `balance_mismatches`, the people whose account balance is not
the sum of their lines, whose line count is not the account's, or whose lines do not chain (numbered
1..n, each running balance the previous one plus its amount): must be 0 (apps.points.selectors.
ledger_problems). `lines_unaccounted`: lines stored minus lines the clients were told they
recorded (a lost or doubled write): must be 0. Then `queries_per_award`, one award's statements
(BEGIN and COMMIT included) run serially.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from bench.environment import progress
from bench.stats import Metric, percentile

DATABASE = "bench_points"
EVENT_TYPE = "service_order.completed"
PENALTY = 150


def add_arguments(parser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the measured run (default 10)")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="untimed load first (default 2)")
    parser.add_argument("--people", type=int, default=8, help="people the clients award to (default 8)")
    parser.add_argument("--redeliveries", type=float, default=0.05, help="share of ops redelivering (default 0.05)")
    parser.add_argument("--penalties", type=float, default=0.1, help="share of ops that penalize (default 0.1)")
    parser.add_argument("--seed", type=int, default=20262, help="random seed of the clients")


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    organization_id: uuid.UUID
    people: list[uuid.UUID]


def _seed(*, people: int) -> Seeded:
    """The organization (points on) and its experts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.tenancy.models import Membership, Organization, OrganizationFeature
    from apps.tenancy.roles import Role

    user_model = get_user_model()
    organization = Organization(name="Rhein Service GmbH", slug="bench-rhein-service", country="DE")
    users = [user_model(email=f"expert{n:02d}@points.bench", password=make_password(None)) for n in range(people)]
    with system_scope(reason="bench points seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create([organization])
        user_model.objects.using("owner").bulk_create(users)
        Membership.objects.using("owner").bulk_create(
            [
                Membership(organization=organization, user=user, role=Role.EXPERT, joined_at=timezone.now())
                for user in users
            ]
        )
        OrganizationFeature.objects.using("owner").create(
            organization=organization, name="points", is_entitled=True, is_enabled=True
        )
    progress(f"seeded one organization (points on) and {people} people")
    return Seeded(organization.id, [user.id for user in users])


@dataclass(frozen=True)
class Event:
    """What the relay hands a subscriber (an OutboxEvent row's fields)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict
    actor_id: uuid.UUID | None = None


def completed_event(organization_id: uuid.UUID, expert_user_id: uuid.UUID) -> Event:
    order_id = str(uuid.uuid4())
    return Event(
        id=uuid.uuid4(),
        organization_id=organization_id,
        event_type=EVENT_TYPE,
        aggregate_type="service_order",
        aggregate_id=order_id,
        payload={"service_order_id": order_id, "expert_user_id": str(expert_user_id), "number": "SVO-BENCH"},
    )


def award(event: Event) -> int:
    """The awarding subscriber's work for one event: how many lines it recorded anew."""
    from apps.core.context import system_scope
    from apps.points import services

    with system_scope(reason=f"points: award for {event.event_type} {event.id}"):
        return sum(recorded.created for recorded in services.points_award_for_event(event=event))


def penalize(person: uuid.UUID) -> bool:
    """A penalty of PENALTY points that may not go below zero: whether it was applied."""
    from apps.core.context import system_scope
    from apps.points import services

    try:
        with system_scope(reason="points: a penalty"):
            services.point_transaction_record(
                user_id=person,
                transaction_type="PENALTY",
                amount=PENALTY,
                category="SERVICE",
                description="No-show",
                source_key=f"event:{uuid.uuid4()}:no-show",
            )
    except services.NotEnoughPoints:
        return False
    return True


# --- the concurrent clients -----------------------------------------------------------------------


@dataclass
class Tally:
    awards: list[tuple[float, float]] = field(default_factory=list)  # (done at, ms)
    ops: list[float] = field(default_factory=list)  # done at, every op
    lines: int = 0  # lines the client was told it recorded
    redelivered: int = 0
    penalties_refused: int = 0


class Clients:
    def __init__(self, seeded: Seeded, *, concurrency: int, redeliveries: float, penalties: float, seed: int):
        self.seeded = seeded
        self.concurrency = concurrency
        self.redeliveries = redeliveries
        self.penalties = penalties
        self.seed = seed
        self.tallies = [Tally() for _ in range(concurrency)]
        self.failure: BaseException | None = None
        self.stop = threading.Event()

    def run(self, *, warmup: float, seconds: float) -> tuple[float, float]:
        from django.db import connections

        connections.close_all()
        at = time.monotonic() + 0.5
        measured_from, until = at + warmup, at + warmup + seconds
        threads = [threading.Thread(target=self._client, args=(index, at, until)) for index in range(self.concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.failure is not None:
            raise self.failure
        return measured_from, until

    def _client(self, index: int, at: float, until: float) -> None:
        from django.db import connections

        try:
            while time.monotonic() < at:
                time.sleep(0.01)
            self._loop(index, until)
        except BaseException as error:
            self.failure = self.failure or error
            self.stop.set()
        finally:
            connections.close_all()

    def _loop(self, index: int, until: float) -> None:
        randomness = random.Random(self.seed * 1000 + index)
        tally = self.tallies[index]
        delivered: list[Event] = []
        while not self.stop.is_set() and (started := time.monotonic()) < until:
            choice = randomness.random()
            person = randomness.choice(self.seeded.people)
            if choice < self.redeliveries and delivered:
                event = randomness.choice(delivered)
                if award(event) != 0:
                    raise RuntimeError(f"event {event.id} delivered again recorded a second line")
                tally.redelivered += 1
            elif choice < self.redeliveries + self.penalties:
                if penalize(person):
                    tally.lines += 1
                else:
                    tally.penalties_refused += 1
            else:
                event = completed_event(self.seeded.organization_id, person)
                recorded = award(event)
                if recorded != 1:
                    raise RuntimeError(f"event {event.id} recorded {recorded} lines, not 1")
                tally.lines += 1
                delivered.append(event)
                done = time.monotonic()
                tally.awards.append((done, (done - started) * 1000))
            tally.ops.append(time.monotonic())


# --- after the run --------------------------------------------------------------------------------


def ledger_check(people: list[uuid.UUID]) -> tuple[int, int]:
    """(people whose ledger does not add up, lines stored) in the all-tenants scope."""
    from apps.core.context import system_scope
    from apps.points import selectors
    from apps.points.models import PointTransaction

    with system_scope(reason="bench points: check every ledger", using="default", audit=False):
        problems = selectors.ledger_problems(user_ids=people)
        stored = PointTransaction.objects.filter(user_id__in=people).count()
    if problems:
        progress(f"the ledger check found {len(problems)} problems, the first: {problems[:5]}")
    return len({problem["user_id"] for problem in problems}), stored


def _queries_per_award(seeded: Seeded) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    award(completed_event(seeded.organization_id, seeded.people[0]))  # warm
    with CaptureQueriesContext(connections["default"]) as captured:
        award(completed_event(seeded.organization_id, seeded.people[0]))
    return len(captured)


def _purge() -> int:
    from config.celery import app

    return app.control.purge() or 0


def run(args) -> tuple[list[Metric], list[str]]:
    from apps.points import selectors

    _purge()
    selectors.rules_forget()  # the rules of an earlier run's database
    seeded = _seed(people=args.people)
    progress(
        f"{args.concurrency} clients, {args.people} people: warming up {args.warmup_seconds}s, then {args.seconds}s"
    )
    clients = Clients(
        seeded,
        concurrency=args.concurrency,
        redeliveries=args.redeliveries,
        penalties=args.penalties,
        seed=args.seed,
    )
    measured_from, until = clients.run(warmup=args.warmup_seconds, seconds=args.seconds)
    seconds = until - measured_from
    tallies = clients.tallies
    awards = [ms for tally in tallies for done, ms in tally.awards if measured_from <= done < until]
    ops = [done for tally in tallies for done in tally.ops if measured_from <= done < until]
    mismatches, stored = ledger_check(seeded.people)
    told = sum(tally.lines for tally in tallies)
    queries = _queries_per_award(seeded)
    purged = _purge()
    counts = Counter(
        {
            "redelivered": sum(tally.redelivered for tally in tallies),
            "penalties_refused": sum(tally.penalties_refused for tally in tallies),
        }
    )
    progress(
        f"{len(awards)} awards in {seconds:.1f}s ({len(awards) / seconds:.1f}/s), {len(ops)} ops; "
        f"{stored} lines stored, the clients recorded {told}; {dict(counts)}; purged {purged} relay tasks"
    )

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("points", name, round(value, 4), unit)

    metrics = [
        metric("awards_per_s", len(awards) / seconds, "awards/s"),
        metric("balance_mismatches", mismatches, "people whose ledger does not add up (must be 0)"),
        metric("lines_unaccounted", stored - told, "lines stored - lines recorded (must be 0)"),
        metric("ops_per_s", len(ops) / seconds, "ops/s (awards, redeliveries, penalties)"),
        metric("award_p50_ms", percentile(awards, 0.5) if awards else 0, "ms"),
        metric("award_p95_ms", percentile(awards, 0.95) if awards else 0, "ms"),
        metric("redeliveries", counts["redelivered"], "events delivered again, none recorded twice"),
        metric("penalties_refused", counts["penalties_refused"], "penalties below zero refused"),
        metric("queries_per_award", queries, "statements (BEGIN, COMMIT included)"),
    ]
    notes = [
        f"{args.concurrency} clients awarding to {args.people} people for {args.seconds:.0f}s "
        f"(after {args.warmup_seconds:.0f}s of warm-up), through the awarding subscriber's service path."
    ]
    return metrics, notes
