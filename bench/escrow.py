"""Scenario `escrow`: fund, release and refund at 16 concurrent clients, against a bare UPDATE loop.

The data: `--pairs` client/supplier organization pairs (4), both sides KYC-verified (an
OrganizationVerification row with status verified, as tests/marketplace/factories.py's
VerificationFactory makes), the supplier on the standard plan (3 % commission, 1.00 EUR
minimum); one member each (shipper, carrier). Between each pair, confirmed freight orders
of 500-2,000 EUR written with set-based SQL as orders-list does (one item each, numbers
FR-YYYY-NNNNNN, the sequence left at the last one), and an escrow on each order opened
with `services.escrow_create` (one thread per client organization, a transaction each,
as a request would). None of this is timed.

What is measured: `--concurrency` clients (16), threads with a database connection each
(the application role, row-level security forced), calling the services directly in the
tenant scope of the acting organization, as TenantMiddleware opens it: the money path and
the database, not HTTP. Client i works for pair i mod `--pairs` and owns a share of that
pair's escrows. Its loop:
- *fund* when it holds no funded escrow: `escrow_fund` as the client, then the provider's
  confirmation as production receives it: a `charge.succeeded` webhook signed with the
  provider's secret, `webhook_receive` (verify, record once) and `webhook_apply` in the
  scope of the event's organization. One op, several transactions (the profile counts
  them). For `--duplicates` (10 %) of the fundings the provider delivers the webhook twice
  and it is applied twice, as a retrying provider and a second worker would: the second
  must find it recorded and applied, or the run stops;
- else a *release* by the client (60 %) or a *refund* by the supplier (40 %) of 15-35 % of
  the escrow's amount (what is left when less is held), until it is empty: about five
  moves per escrow, so roughly one op in six is a fund;
- with probability `--shared` (0.1) the move goes to the escrow another client of the
  same pair is working on (four clients share a pair at the defaults): they wait on the
  escrow's row lock, and one of them may find it emptied. INSUFFICIENT_FUNDS and
  INVALID_STATE_TRANSITION are expected there; they are counted as `rejected_*`, not as
  ops (the owner learns what is held from the error's details, as a client would). Any
  other error stops the run.
After a `--warmup-seconds` warm-up, the ops finished within `--seconds` are counted:
`ops_per_s`. With `--processes N` the clients are spread over N processes, whole pairs
each (a diagnostic: does one interpreter's GIL bound it?).

The broker: side effects go where production sends them, on commit (the outbox relay
task, the provider submission of a fund or refund, the webhook's apply task), published to
the benchmark's Redis database (config.settings.bench: REDIS_DB 15 of devstack's embedded
Redis or REDIS_URL), which is up: `.delay()` costs one publish and never waits on a dead
broker. No worker consumes them, so nothing calls the provider; the queues are purged
before and after the run.

After the run: `ledger_balanced` is 1 when `apps.escrow.selectors.ledger_problems()`, in
the all-tenants scope, finds nothing (every entry and the ledger sum to zero per currency,
every escrow's cached amounts equal its postings), else 0; `tallies_match` is 1 when the
escrows' released + refunded amounts and funded count equal what the clients were told
they did (no lost or doubled update).

The limit: `baseline_ops_per_s`, a bare `UPDATE bench_counter SET value = value + 1 WHERE
id = %s RETURNING value` loop on the same database and connection settings (application
role, autocommit: one transaction each) at the same concurrency, each client on its own
row (no row contention). `ratio` = ops_per_s / baseline_ops_per_s.

The profile (after the run, serially, on escrows of the first pair set apart for it):
`--profile-ops` ops of each kind (three of them warm-up), every statement timed client side
(an execute wrapper) and the commits and on-commit publishes timed apart (the deferred
balance trigger runs in the commit): queries per op (CaptureQueriesContext), statements by
table and their time, what is left (Python), on stderr. With a superuser owner (devstack's),
PostgreSQL also times the balance trigger itself over the run (track_functions = pl).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import resource
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal

from bench.environment import progress
from bench.orders_list import _insert_select
from bench.stats import Metric, median, percentile

DATABASE = "bench_escrow"
CURRENCY = "EUR"
PROVIDER = "sandbox"
CENT = Decimal("0.01")
RELEASE_SHARE = 0.6  # of the moves; the rest are refunds
PIECE = (0.15, 0.35)  # a move takes this share of the escrow's amount
TRIGGER = "escrow_entry_must_balance"
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def add_arguments(parser) -> None:
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the measured run (default 15)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="untimed load first (default 3)")
    parser.add_argument("--baseline-seconds", type=float, default=5.0, help="the UPDATE loop's run (default 5)")
    parser.add_argument("--pairs", type=int, default=4, help="client/supplier organization pairs (default 4)")
    parser.add_argument(
        "--escrows-per-client", type=int, default=50, help="escrows each client thread owns (default 50)"
    )
    parser.add_argument(
        "--shared", type=float, default=0.1, help="share of moves on another client's escrow (default 0.1)"
    )
    parser.add_argument(
        "--duplicates", type=float, default=0.1, help="share of fundings whose webhook comes twice (default 0.1)"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="spread the clients over this many processes (default 1)"
    )
    parser.add_argument("--profile-ops", type=int, default=20, help="serial ops of each kind profiled (default 20)")
    parser.add_argument("--seed", type=int, default=20261, help="random seed of the clients")


# --- the data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    client_id: uuid.UUID
    supplier_id: uuid.UUID
    client_user_id: uuid.UUID
    supplier_user_id: uuid.UUID

    def client(self):
        from apps.tenancy.roles import Actor, Role

        return Actor(user_id=self.client_user_id, organization_id=self.client_id, role=Role.SHIPPER)

    def supplier(self):
        from apps.tenancy.roles import Actor, Role

        return Actor(user_id=self.supplier_user_id, organization_id=self.supplier_id, role=Role.CARRIER)


@dataclass(frozen=True)
class Seeded:
    pairs: list[Pair]
    escrows: dict[int, list[tuple[uuid.UUID, Decimal]]]  # pair index -> (escrow id, amount), for the clients
    spare: list[tuple[uuid.UUID, Decimal]]  # pair 0's escrows set apart for the profile


def _seed_parties(pairs: int) -> list[Pair]:
    """Client and supplier organizations, a member each, all KYC-verified."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from apps.core.context import system_scope
    from apps.kyc.models import OrganizationVerification, VerificationStatus
    from apps.tenancy.models import Membership, Organization
    from apps.tenancy.roles import Role

    user_model = get_user_model()
    now = timezone.now()
    organizations, users, memberships, verifications, result = [], [], [], [], []
    for n in range(pairs):
        client = Organization(name=f"Bench shipper {n:02d}", slug=f"bench-shipper-{n:02d}", country="DE")
        supplier = Organization(
            name=f"Bench carrier {n:02d}", slug=f"bench-carrier-{n:02d}", country="PL", subscription_plan="standard"
        )
        client_user = user_model(email=f"shipper{n:02d}@escrow.bench", password=make_password(None))
        supplier_user = user_model(email=f"carrier{n:02d}@escrow.bench", password=make_password(None))
        organizations += [client, supplier]
        users += [client_user, supplier_user]
        memberships += [
            Membership(organization=client, user=client_user, role=Role.SHIPPER, joined_at=now),
            Membership(organization=supplier, user=supplier_user, role=Role.CARRIER, joined_at=now),
        ]
        verifications += [
            OrganizationVerification(
                organization=organization, status=VerificationStatus.VERIFIED, verified_level="basic", decided_at=now
            )
            for organization in (client, supplier)
        ]
        result.append(Pair(client.id, supplier.id, client_user.id, supplier_user.id))
    # The owner's connection in the bypass scope: an external owner that is not a superuser
    # is subject to the forced policies too.
    with system_scope(reason="bench escrow seed", using="owner", audit=False):
        Organization.objects.using("owner").bulk_create(organizations)
        user_model.objects.using("owner").bulk_create(users)
        Membership.objects.using("owner").bulk_create(memberships)
        OrganizationVerification.objects.using("owner").bulk_create(verifications)
    return result


def _seed_orders(pairs: list[Pair], per_pair: int) -> dict[int, list[uuid.UUID]]:
    """`per_pair` confirmed freight orders between each pair, one item each; their ids by pair."""
    from django.db import connections

    from apps.core.context import system_scope
    from apps.core.models import NumberSequence
    from apps.orders.models import Order, OrderItem

    connection = connections["owner"]
    with system_scope(reason="bench escrow seed", using="owner", audit=False), connection.cursor() as cursor:
        cursor.execute(
            """CREATE TEMP TABLE bench_escrow_order_seed ON COMMIT DROP AS
            SELECT p.idx - 1 AS pair, g, gen_random_uuid() AS id, p.client_id, p.supplier_id,
                   c.name AS client_name, s.name AS supplier_name,
                   -- 500.00 to 1,999.99 EUR, cents included
                   (500 + (g * 37 + p.idx * 11) %% 1500 + ((g * 13) %% 100) / 100.0)::numeric(20, 2) AS total,
                   now() - make_interval(mins => g) AS created_at,
                   extract(year FROM now())::int AS year
            FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS p(client_id, supplier_id, idx)
            JOIN tenancy_organization c ON c.id = p.client_id
            JOIN tenancy_organization s ON s.id = p.supplier_id
            CROSS JOIN generate_series(1, %s) AS g""",
            [[pair.client_id for pair in pairs], [pair.supplier_id for pair in pairs], per_pair],
        )
        sql, params = _insert_select(
            Order,
            {
                "id": "s.id",
                "number": "'FR-' || s.year || '-' || lpad(s.g::text, 6, '0')",
                "kind": "'freight'",
                "status": "'confirmed'",
                "payment_status": "'unpaid'",
                "client_organization_id": "s.client_id",
                "supplier_organization_id": "s.supplier_id",
                "client_organization_name": "s.client_name",
                "supplier_organization_name": "s.supplier_name",
                "shipping_address": (
                    "jsonb_build_object('name', s.client_name, 'line1', 'Am Sandtorkai ' || (s.g %% 90 + 1),"
                    " 'city', 'Hamburg', 'postal_code', '20457', 'country', 'DE')"
                ),
                "currency": f"'{CURRENCY}'",
                "total_amount": "s.total",
                "status_changed_at": "s.created_at",
                "created_at": "s.created_at",
                "updated_at": "s.created_at",
            },
            "FROM bench_escrow_order_seed s",
            connection,
        )
        cursor.execute(sql, params)
        sql, params = _insert_select(
            OrderItem,
            {
                "order_id": "s.id",
                "client_organization_id": "s.client_id",
                "supplier_organization_id": "s.supplier_id",
                "sku": "'FRT-' || lpad(s.g::text, 6, '0')",
                "name": "'Freight Hamburg - Warsaw, 4 pallets'",
                "quantity": "1",
                "unit_price": "s.total",
                "currency": f"'{CURRENCY}'",
            },
            "FROM bench_escrow_order_seed s",
            connection,
        )
        cursor.execute(sql, params)
        sql, params = _insert_select(
            NumberSequence,
            {"organization_id": "client_id", "name": "'order'", "year": "year", "last_value": "max(g)"},
            "FROM bench_escrow_order_seed GROUP BY client_id, year",
            connection,
        )
        cursor.execute(sql, params)
        cursor.execute("SELECT pair, id FROM bench_escrow_order_seed ORDER BY pair, g")
        orders: dict[int, list[uuid.UUID]] = defaultdict(list)
        for pair, order_id in cursor.fetchall():
            orders[pair].append(order_id)
    return orders


def _seed_escrows(pairs: list[Pair], orders: dict[int, list[uuid.UUID]]) -> dict[int, list[tuple]]:
    """An escrow on every order, opened by its client through escrow_create: one thread per
    client organization (its escrow numbers come from one locked counter)."""
    from django.db import connections

    from apps.core.context import tenant_scope
    from apps.escrow import services

    escrows: dict[int, list[tuple]] = {}
    failures: list[BaseException] = []

    def create(index: int) -> None:
        pair, made = pairs[index], []
        try:
            for order_id in orders[index]:
                with tenant_scope(pair.client_id, user_id=pair.client_user_id):
                    escrow = services.escrow_create(actor=pair.client(), order_id=order_id)
                made.append((escrow.id, escrow.amount))
            escrows[index] = made
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(len(pairs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return escrows


def _seed(*, pairs: int, threads: int, escrows_per_client: int, profile_ops: int) -> Seeded:
    started = time.monotonic()
    parties = _seed_parties(pairs)
    threads_per_pair = [len(range(index, threads, pairs)) for index in range(pairs)]
    per_pair = [count * escrows_per_client for count in threads_per_pair]
    per_pair[0] += profile_ops
    orders = _seed_orders(parties, max(per_pair))
    orders = {index: ids[: per_pair[index]] for index, ids in orders.items()}
    seeded_orders = time.monotonic()
    escrows = _seed_escrows(parties, orders)
    spare, escrows[0] = escrows[0][:profile_ops], escrows[0][profile_ops:]
    _analyze()
    total = sum(len(made) for made in escrows.values()) + len(spare)
    progress(
        f"seeded {pairs} organization pairs, {total} orders in {seeded_orders - started:.1f}s and their escrows "
        f"(escrow_create) in {time.monotonic() - seeded_orders:.1f}s"
    )
    return Seeded(pairs=parties, escrows=escrows, spare=spare)


def _analyze() -> None:
    from django.db import connections

    with connections["owner"].cursor() as cursor:
        for table in ("orders_order", "orders_orderitem", "escrow_escrow", "escrow_escrowstatuschange"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")  # outside any transaction, as VACUUM must be


# --- one op of each kind --------------------------------------------------------------------------


def _signed_charge_succeeded(funding) -> tuple[bytes, dict]:
    """The provider's charge.succeeded webhook for `funding`, signed as the sandbox signs it."""
    from django.conf import settings

    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "charge.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"ch_{uuid.uuid4().hex[:16]}",
                "reference": str(funding.id),
                "amount": str(funding.amount),
                "currency": funding.currency,
                "status": "succeeded",
                "metadata": {
                    "organization_id": str(funding.client_organization_id),
                    "escrow_id": str(funding.escrow_id),
                },
                "failure_reason": "",
            }
        },
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    timestamp = event["created"]
    secret = settings.PAYMENT_GATEWAYS[PROVIDER]["SECRET"]
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Sandbox-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def fund(pair: Pair, escrow_id: uuid.UUID, *, delivered_twice: bool = False) -> None:
    """The client asks the provider to take the money; the provider's signed webhook confirms it.

    `delivered_twice`: the provider delivers the webhook again (it did not see our answer), and a
    second worker applies it again: recorded once, applied once, or the run stops."""
    from apps.core.context import tenant_scope
    from apps.escrow import services

    with tenant_scope(pair.client_id, user_id=pair.client_user_id):
        funding = services.escrow_fund(actor=pair.client(), escrow_id=escrow_id)
    body, headers = _signed_charge_succeeded(funding)
    for delivery in range(2 if delivered_twice else 1):
        event, created = services.webhook_receive(provider=PROVIDER, body=body, headers=headers)
        if created != (delivery == 0):
            raise RuntimeError(f"webhook {event.event_id}, delivery {delivery + 1}: recorded {created}")
        with tenant_scope(event.organization_id):
            applied = services.webhook_apply(webhook_event_id=event.pk)
        if applied.applied_at is None or applied.last_error or applied.attempts != 1:
            raise RuntimeError(f"webhook {event.event_id} applied {applied.attempts} times: {applied.last_error}")


def release(pair: Pair, escrow_id: uuid.UUID, amount: Decimal) -> None:
    from apps.core.context import tenant_scope
    from apps.escrow import services

    with tenant_scope(pair.client_id, user_id=pair.client_user_id):
        services.escrow_release(actor=pair.client(), escrow_id=escrow_id, amount=str(amount))


def refund(pair: Pair, escrow_id: uuid.UUID, amount: Decimal) -> None:
    from apps.core.context import tenant_scope
    from apps.escrow import services

    with tenant_scope(pair.supplier_id, user_id=pair.supplier_user_id):
        services.escrow_refund(actor=pair.supplier(), escrow_id=escrow_id, amount=str(amount))


def _piece(amount: Decimal, randomness: random.Random) -> Decimal:
    share = Decimal(str(round(randomness.uniform(*PIECE), 4)))
    return max(CENT, (amount * share).quantize(CENT))


# --- the concurrent clients -----------------------------------------------------------------------


@dataclass
class Working:
    """The escrow a client is emptying, as far as it knows."""

    escrow_id: uuid.UUID
    amount: Decimal
    held: Decimal


@dataclass
class Tally:
    ops: list[tuple[float, str, float, bool]] = field(default_factory=list)  # (done at, kind, ms, shared)
    rejected: list[tuple[float, str]] = field(default_factory=list)  # (done at, error code)
    moved: Decimal = Decimal(0)  # released + refunded, all of the run
    funded: int = 0
    delivered_twice: int = 0  # fundings whose webhook came twice
    left_unused: int = 0


class Clients:
    """`concurrency` clients (threads) working through their escrows, and now and then another's."""

    def __init__(self, seeded: Seeded, *, concurrency: int, shared: float, seed: int, duplicates: float = 0.0):
        pairs = len(seeded.pairs)
        self.seeded = seeded
        self.concurrency = concurrency
        self.shared = shared
        self.duplicates = duplicates
        self.seed = seed
        self.pair_of = [index % pairs for index in range(concurrency)]
        # The pair's escrows dealt out to its clients in turn.
        self.queues: list[deque] = []
        for index in range(concurrency):
            pair = self.pair_of[index]
            mates = [other for other in range(concurrency) if self.pair_of[other] == pair]
            self.queues.append(deque(seeded.escrows[pair][mates.index(index) :: len(mates)]))
        self.working: list[Working | None] = [None] * concurrency  # read by the other clients of the pair
        self.tallies = [Tally() for _ in range(concurrency)]
        self.failure: BaseException | None = None
        self.stop = threading.Event()

    def start(self, *, at: float, warmup: float, seconds: float) -> tuple[float, float]:
        """Start the clients, to begin together at `at` (time.monotonic(), the same clock in every
        process); returns the measured window."""
        from django.db import connections

        connections.close_all()  # this thread's connection back to the pool: one per client
        measured_from = at + warmup
        until = measured_from + seconds
        self.threads = [
            threading.Thread(target=self._client, args=(index, at, until)) for index in range(self.concurrency)
        ]
        for thread in self.threads:
            thread.start()
        return measured_from, until

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.failure is not None:
            raise self.failure

    def _client(self, index: int, at: float, until: float) -> None:
        from django.db import connections

        try:
            _sleep_until(at)
            self._loop(index, until)
        except BaseException as error:
            self.failure = self.failure or error
            self.stop.set()
        finally:
            self.tallies[index].left_unused = len(self.queues[index])
            connections.close_all()

    def _loop(self, index: int, until: float) -> None:
        from apps.core.errors import DomainError, ErrorCode

        randomness = random.Random(self.seed * 1000 + index)
        pair = self.seeded.pairs[self.pair_of[index]]
        mates = [
            other for other in range(self.concurrency) if other != index and self.pair_of[other] == self.pair_of[index]
        ]
        tally = self.tallies[index]
        expected = (ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.INVALID_STATE_TRANSITION)  # on an emptied escrow
        while not self.stop.is_set() and (started := time.monotonic()) < until:
            mine = self.working[index]
            target = None
            if mates and randomness.random() < self.shared:
                target = self.working[randomness.choice(mates)]
            if target is not None:
                kind, working, amount = self._move_kind(randomness), target, _piece(target.amount, randomness)
            elif mine is None:
                if not self.queues[index]:
                    raise RuntimeError(f"client {index} used all its escrows: raise --escrows-per-client")
                escrow_id, amount = self.queues[index].popleft()
                kind, working = "fund", Working(escrow_id, amount, Decimal(0))
                twice = randomness.random() < self.duplicates
            else:
                kind, working = self._move_kind(randomness), mine
                amount = min(_piece(mine.amount, randomness), mine.held)
            try:
                if kind == "fund":
                    fund(pair, working.escrow_id, delivered_twice=twice)
                elif kind == "release":
                    release(pair, working.escrow_id, amount)
                else:
                    refund(pair, working.escrow_id, amount)
            except DomainError as error:
                if kind == "fund" or error.code not in expected:
                    raise
                tally.rejected.append((time.monotonic(), str(error.code)))
                if target is None:  # another client moved some of mine: what is held now, from the error
                    held = Decimal(error.details.get("held_amount", "0"))
                    mine.held = held
                    if held == 0:
                        self.working[index] = None
                continue
            done = time.monotonic()
            tally.ops.append((done, kind, (done - started) * 1000, target is not None))
            if kind == "fund":
                tally.funded += 1
                tally.delivered_twice += twice
                working.held = working.amount
                self.working[index] = working
                continue
            tally.moved += amount
            if target is None:
                mine.held -= amount
                if mine.held == 0:
                    self.working[index] = None

    @staticmethod
    def _move_kind(randomness: random.Random) -> str:
        return "release" if randomness.random() < RELEASE_SHARE else "refund"


@dataclass(frozen=True)
class Ran:
    measured_from: float
    until: float
    tallies: list[Tally]
    process_cpu_s: float  # the clients' processes, over the measured window
    postgres_cpu_s: float  # the benchmark database's backends, over the window
    machine_busy: float  # share of all cores busy over the window, whoever used them


def _run_clients(seeded: Seeded, args) -> Ran:
    """The clients in this process (threads), or spread over `--processes` processes with whole
    pairs each (a pair's clients share escrows, so they stay together)."""
    if args.processes == 1:
        clients = Clients(
            seeded, concurrency=args.concurrency, shared=args.shared, seed=args.seed, duplicates=args.duplicates
        )
        measured_from, until = clients.start(
            at=time.monotonic() + 0.5, warmup=args.warmup_seconds, seconds=args.seconds
        )
        _sleep_until(measured_from)
        before = _cpu_sample()
        _sleep_until(until)
        after = _cpu_sample()
        clients.join()
        return Ran(
            measured_from,
            until,
            clients.tallies,
            after.process_s - before.process_s,
            after.postgres_s - before.postgres_s,
            _busy(before, after),
        )

    import multiprocessing

    if args.pairs % args.processes or args.concurrency % args.processes:
        raise SystemExit("--pairs and --concurrency must be multiples of --processes")
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no connection pool or thread forked
    ready, go, at, results = context.Barrier(args.processes + 1), context.Event(), context.Value("d"), context.Queue()
    workers = []
    for number in range(args.processes):
        pairs = list(range(number, args.pairs, args.processes))
        part = Seeded(
            pairs=[seeded.pairs[pair] for pair in pairs],
            escrows={index: seeded.escrows[pair] for index, pair in enumerate(pairs)},
            spare=[],
        )
        options = (args.concurrency // args.processes, args.shared, args.seed + 100 * number, args.duplicates)
        worker = context.Process(
            target=_clients_process, args=(part, options, args.warmup_seconds, args.seconds, ready, go, at, results)
        )
        worker.start()
        workers.append(worker)
    ready.wait(timeout=120)  # every process has set up Django
    at.value = time.monotonic() + 0.5
    go.set()
    measured_from = at.value + args.warmup_seconds
    _sleep_until(measured_from)
    before = _cpu_sample()
    _sleep_until(measured_from + args.seconds)
    after = _cpu_sample()
    answers = [results.get(timeout=args.seconds + 300) for _ in workers]
    for worker in workers:
        worker.join()
    failures = [failure for _, _, failure in answers if failure]
    if failures:
        raise RuntimeError(f"a client process failed:\n{failures[0]}")
    tallies = [tally for part_tallies, _, _ in answers for tally in part_tallies]
    process_cpu = sum(cpu for _, cpu, _ in answers)
    return Ran(
        measured_from,
        measured_from + args.seconds,
        tallies,
        process_cpu,
        after.postgres_s - before.postgres_s,
        _busy(before, after),
    )


def _clients_process(part: Seeded, options, warmup, seconds, ready, go, at, results) -> None:
    """One client process (spawned: the environment, database settings included, is inherited)."""
    import traceback

    import django

    django.setup()
    concurrency, shared, seed, duplicates = options
    clients = Clients(part, concurrency=concurrency, shared=shared, seed=seed, duplicates=duplicates)
    ready.wait()
    go.wait()
    try:
        measured_from, until = clients.start(at=at.value, warmup=warmup, seconds=seconds)
        _sleep_until(measured_from)
        before = _cpu_sample()
        _sleep_until(until)
        after = _cpu_sample()
        clients.join()
        results.put((clients.tallies, after.process_s - before.process_s, None))
    except BaseException:
        results.put(([], 0.0, traceback.format_exc()))


def _busy(before: CpuSample, after: CpuSample) -> float:
    return (after.busy - before.busy) / max(1, after.total - before.total)


@dataclass(frozen=True)
class CpuSample:
    process_s: float  # this process, all its threads
    postgres_s: float  # the PostgreSQL backends connected to the benchmark's database
    busy: int  # the machine's busy jiffies, whoever used them
    total: int


def _cpu_sample() -> CpuSample:
    from django.conf import settings

    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return CpuSample(
        usage.ru_utime + usage.ru_stime,
        _backends_cpu_s(settings.DATABASES["default"]["NAME"]),
        sum(fields) - idle,
        sum(fields),
    )


def _backends_cpu_s(database: str) -> float:
    """CPU seconds of the backends whose process title names `database` ("postgres: role db ...")."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                title = cmdline.read().split(b"\0")[0].decode(errors="replace").split()
            if title[:1] != ["postgres:"] or database not in title[2:3]:
                continue
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):  # gone meanwhile, or not readable
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _sleep_until(moment: float) -> None:
    while (left := moment - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


# --- the limit: a bare single-row UPDATE loop -----------------------------------------------------

BASELINE_TABLE = "bench_counter"
BASELINE_SQL = f"UPDATE {BASELINE_TABLE} SET value = value + 1 WHERE id = %s RETURNING value"


def _baseline(*, concurrency: int, warmup: float, seconds: float) -> float:
    """UPDATEs per second at `concurrency` threads, each on its own row, one transaction each."""
    from django.conf import settings
    from django.db import connections

    with connections["owner"].cursor() as cursor:
        cursor.execute(f"CREATE TABLE {BASELINE_TABLE} (id integer PRIMARY KEY, value bigint NOT NULL DEFAULT 0)")
        cursor.execute(f"INSERT INTO {BASELINE_TABLE} (id) SELECT generate_series(1, %s)", [concurrency])
        cursor.execute(f"GRANT SELECT, UPDATE ON {BASELINE_TABLE} TO {settings.APP_DB_USER}")
    connections.close_all()
    go = threading.Event()
    window: dict[str, float] = {}
    done: list[list[float]] = [[] for _ in range(concurrency)]
    failures: list[BaseException] = []

    def client(index: int) -> None:
        connection = connections["default"]
        try:
            go.wait()
            with connection.cursor() as cursor:  # autocommit: each UPDATE commits
                while (now := time.monotonic()) < window["until"]:
                    cursor.execute(BASELINE_SQL, [index + 1])
                    cursor.fetchone()
                    done[index].append(now)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    window["from"] = time.monotonic() + warmup
    window["until"] = window["from"] + seconds
    go.set()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    with connections["owner"].cursor() as cursor:
        cursor.execute(f"SELECT sum(value) FROM {BASELINE_TABLE}")
        total = cursor.fetchone()[0]
    if total != sum(len(times) for times in done):
        raise RuntimeError(f"the counters say {total} updates, the clients made {sum(len(t) for t in done)}")
    measured = sum(1 for times in done for started in times if started >= window["from"])
    return measured / seconds


# --- the profile: one op at a time, every statement timed -----------------------------------------


def _what(sql: str) -> str:
    """A statement's kind and table: "SELECT escrow_escrow FOR UPDATE", "INSERT tenancy_auditlog"."""
    words = sql.split(None, 1)
    verb = words[0].upper() if words else ""
    if verb in TRANSACTION_CONTROL:
        return "SAVEPOINT / RELEASE" if verb in {"SAVEPOINT", "RELEASE"} else verb
    if "set_config(" in sql:
        return "set_config (the scope)"
    table = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
    name = table.group(1) if table else "?"
    return f"{verb} {name}" + (" FOR UPDATE" if re.search(r"\bFOR (?:NO KEY )?UPDATE\b", sql) else "")


@dataclass
class Profiled:
    wall_ms: float
    queries: int  # CaptureQueriesContext, BEGIN and COMMIT included
    commits: int
    publishes: int  # Celery tasks published
    statements: list[tuple[str, float]]  # (what, ms) from the execute wrapper
    commit_ms: float
    hooks_ms: float  # on-commit callbacks: Celery publishes (webhook_receive enqueues outside a transaction: not here)


def _profiled(call) -> Profiled:
    from celery.signals import before_task_publish
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    connection = connections["default"]
    statements: list[tuple[str, float]] = []
    timings = {"commit": 0.0, "hooks": 0.0}
    published = [0]

    def timed_statement(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((_what(sql), (time.monotonic() - started) * 1000))

    def timed(name, method):
        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return method(*args, **kwargs)
            finally:
                timings[name] += (time.monotonic() - started) * 1000

        return wrapper

    connection.ensure_connection()
    connection.queries_log.clear()  # CaptureQueriesContext counts by position in a bounded log
    connection._commit = timed("commit", type(connection)._commit.__get__(connection))
    connection.run_and_clear_commit_hooks = timed(
        "hooks", type(connection).run_and_clear_commit_hooks.__get__(connection)
    )

    def count(**kwargs):
        published[0] += 1

    before_task_publish.connect(count, weak=False)
    try:
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed_statement):
            started = time.monotonic()
            call()
            wall = (time.monotonic() - started) * 1000
    finally:
        before_task_publish.disconnect(count)
        del connection._commit, connection.run_and_clear_commit_hooks
    commits = sum(query["sql"] == "COMMIT" for query in captured)
    return Profiled(wall, len(captured), commits, published[0], statements, timings["commit"], timings["hooks"])


def _profile(seeded: Seeded, *, seed: int) -> dict[str, list[Profiled]]:
    """Each spare escrow funded, then part released, then part refunded, one op at a time."""
    randomness = random.Random(seed)
    pair = seeded.pairs[0]
    for escrow_id, _ in seeded.spare[:3]:  # warm: the connection's prepared statements, the accounts
        fund(pair, escrow_id)
    profiled: dict[str, list[Profiled]] = {"fund": [], "release": [], "refund": []}
    measured = seeded.spare[3:]
    for escrow_id, _ in measured:
        profiled["fund"].append(_profiled(lambda escrow_id=escrow_id: fund(pair, escrow_id)))
    for escrow_id, amount in measured:
        piece = _piece(amount, randomness)
        profiled["release"].append(_profiled(lambda e=escrow_id, p=piece: release(pair, e, p)))
    for escrow_id, amount in measured:
        piece = _piece(amount, randomness)
        profiled["refund"].append(_profiled(lambda e=escrow_id, p=piece: refund(pair, e, p)))
    return profiled


def _breakdown(runs: list[Profiled]) -> list[tuple[str, float, float]]:
    """(what, statements per op, ms per op), most time first."""
    counts: Counter = Counter()
    times: Counter = Counter()
    for run in runs:
        for what, ms in run.statements:
            counts[what] += 1
            times[what] += ms
    return sorted(
        ((what, counts[what] / len(runs), times[what] / len(runs)) for what in counts), key=lambda row: -row[2]
    )


def _profile_note(kind: str, runs: list[Profiled]) -> str:
    first = runs[0]
    wall = statistics.mean(run.wall_ms for run in runs)
    sql = statistics.mean(sum(ms for _, ms in run.statements) for run in runs)
    commit = statistics.mean(run.commit_ms for run in runs)
    hooks = statistics.mean(run.hooks_ms for run in runs)
    lines = [
        f"{kind}: {first.queries} queries (CaptureQueriesContext: {len(first.statements)} statements, "
        f"{first.commits} transactions' BEGIN and COMMIT), {first.publishes} Celery publishes; serial median "
        f"{median([run.wall_ms for run in runs]):.2f} ms, mean {wall:.2f} ms = statements {sql:.2f} + commits "
        f"{commit:.2f} + on-commit publishes {hooks:.2f} + the rest (Python) {wall - sql - commit - hooks:.2f}"
    ]
    lines += [f"    {count:4.1f} x {what:<48} {ms:6.3f} ms" for what, count, ms in _breakdown(runs)]
    return "\n".join(lines)


# --- the ledger after the run ---------------------------------------------------------------------


def _ledger_problems() -> list:
    from apps.core.context import system_scope
    from apps.escrow.selectors import ledger_problems

    with system_scope(reason="bench escrow ledger check", audit=False):
        return ledger_problems()


def _escrow_totals() -> tuple[Decimal, int]:
    """(released + refunded over every escrow, escrows funded), read as the owner."""
    from django.db import connections

    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(released_amount + refunded_amount), 0), count(funded_at) FROM escrow_escrow"
        )
        moved, funded = cursor.fetchone()
    return moved, funded


def _track_functions() -> bool:
    """Ask PostgreSQL to time PL/pgSQL functions (the balance trigger) in this database; superuser only."""
    from django.conf import settings
    from django.db import DatabaseError, connections

    try:
        with connections["owner"].cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {settings.DATABASES['owner']['NAME']} SET track_functions = 'pl'")
    except DatabaseError as error:
        progress(f"no trigger timing (track_functions needs a superuser owner): {error}")
        return False
    return True


def _trigger_stats() -> tuple[int, float]:
    """(calls, total ms) of the balance trigger so far, flushed by closing the connections first."""
    from django.db import connections

    from bench.environment import close_connections

    close_connections()
    time.sleep(1.0)  # backends flush their statistics as they exit
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT calls, total_time FROM pg_stat_user_functions WHERE funcname = %s", [TRIGGER])
        row = cursor.fetchone()
    return (row[0], float(row[1])) if row else (0, 0.0)


def _publish_ms(*, repeat: int = 100) -> float:
    """Median time of one Celery publish as the services make them (an outbox relay with no event)."""
    from apps.core.tasks import outbox_relay

    samples = []
    for _ in range(repeat):
        started = time.monotonic()
        outbox_relay.delay(organization_id=None, event_ids=[])
        samples.append((time.monotonic() - started) * 1000)
    return median(samples)


def _purge() -> int:
    from config.celery import app

    return app.control.purge() or 0


# --- the scenario ---------------------------------------------------------------------------------


def run(args) -> tuple[list[Metric], list[str]]:
    if args.profile_ops < 4:
        raise SystemExit("--profile-ops must be at least 4 (three of them warm the connection)")
    timing_trigger = _track_functions()
    _purge()  # what a stopped run left in the benchmark's Redis database
    seeded = _seed(
        pairs=args.pairs,
        threads=args.concurrency,
        escrows_per_client=args.escrows_per_client,
        profile_ops=args.profile_ops,
    )
    progress(
        f"{args.concurrency} clients over {args.pairs} pairs in {args.processes} process(es): "
        f"warming up {args.warmup_seconds}s, then {args.seconds}s measured"
    )
    ran = _run_clients(seeded, args)
    measured_from, measured_until, tallies = ran.measured_from, ran.until, ran.tallies
    calls, trigger_ms = _trigger_stats() if timing_trigger else (0, 0.0)
    seconds = measured_until - measured_from

    ops = [op for tally in tallies for op in tally.ops]
    measured = [op for op in ops if measured_from <= op[0] < measured_until]
    rejected = Counter(
        code for tally in tallies for done, code in tally.rejected if measured_from <= done < measured_until
    )
    by_kind: dict[str, list[float]] = defaultdict(list)
    for _, kind, ms, _ in measured:
        by_kind[kind].append(ms)
    moved = sum((tally.moved for tally in tallies), Decimal(0))
    funded = sum(tally.funded for tally in tallies)
    escrows_moved, escrows_funded = _escrow_totals()
    tallies_match = int(escrows_moved == moved and escrows_funded == funded)
    progress(
        f"{len(measured)} ops in {seconds:.1f}s ({len(measured) / seconds:.1f}/s: "
        + ", ".join(f"{kind} {len(values)}" for kind, values in sorted(by_kind.items()))
        + f"), rejected {dict(rejected)}; moved {moved} EUR, the escrows say {escrows_moved}; "
        f"funded {funded}, the escrows say {escrows_funded}"
    )

    progress(f"baseline: {BASELINE_SQL!r} at {args.concurrency} clients for {args.baseline_seconds}s")
    baseline = _baseline(concurrency=args.concurrency, warmup=1.0, seconds=args.baseline_seconds)
    progress(f"baseline: {baseline:.0f} UPDATEs/s")

    profiled = _profile(seeded, seed=args.seed)
    for kind, runs in profiled.items():
        progress(_profile_note(kind, runs))
    publish_ms = _publish_ms()
    problems = _ledger_problems()
    if problems:
        progress(f"the ledger check found {len(problems)} problems, the first: {problems[:5]}")
    purged = _purge()

    ops_per_s = len(measured) / seconds
    all_ops = len(ops)  # the warm-up's too: what the trigger counts cover
    process_cpu, postgres_cpu, machine_busy = ran.process_cpu_s, ran.postgres_cpu_s, ran.machine_busy

    def metric(name: str, value: float, unit: str) -> Metric:
        return Metric("escrow", name, round(value, 4), unit)

    metrics = [
        metric("ops_per_s", ops_per_s, "ops/s"),
        metric("ledger_balanced", int(not problems), "1 = ledger_problems() == []"),
        metric("ratio", ops_per_s / baseline, "ops_per_s/baseline_ops_per_s"),
        metric("baseline_ops_per_s", baseline, "UPDATEs/s"),
        metric("tallies_match", tallies_match, "1 = escrows moved what the clients moved"),
    ]
    for kind in ("fund", "release", "refund"):
        values = by_kind.get(kind, [])
        metrics += [
            metric(f"{kind}_per_s", len(values) / seconds, "ops/s"),
            metric(f"{kind}_p50_ms", percentile(values, 0.5) if values else 0, "ms"),
            metric(f"{kind}_p95_ms", percentile(values, 0.95) if values else 0, "ms"),
        ]
    shared_ops = [op for op in measured if op[3]]
    metrics += [
        metric("shared_share", len(shared_ops) / max(1, len(measured)), "of ops"),
        metric("rejected_insufficient_funds", rejected.get("INSUFFICIENT_FUNDS", 0), "attempts"),
        metric("rejected_invalid_state", rejected.get("INVALID_STATE_TRANSITION", 0), "attempts"),
    ]
    for kind, runs in profiled.items():
        metrics += [
            metric(f"queries_{kind}", runs[0].queries, "queries/op (BEGIN, COMMIT included)"),
            metric(f"transactions_{kind}", runs[0].commits, "transactions/op"),
            metric(f"publishes_{kind}", runs[0].publishes, "Celery tasks/op"),
            metric(f"serial_{kind}_median_ms", median([run.wall_ms for run in runs]), "ms"),
            metric(f"serial_{kind}_commit_ms", statistics.mean(run.commit_ms for run in runs), "ms"),
        ]
    # What the database is asked per second, for comparison with the baseline's one statement
    # and one commit per UPDATE: the profile's queries per op (BEGIN and COMMIT included).
    statements = sum(len(by_kind.get(kind, [])) * runs[0].queries for kind, runs in profiled.items()) / seconds
    commits = sum(len(by_kind.get(kind, [])) * runs[0].commits for kind, runs in profiled.items())
    metrics += [
        metric("publish_median_ms", publish_ms, "ms"),
        metric("statements_per_s", statements, "statements/s"),
        metric("commits_per_s", commits / seconds, "transactions/s"),
        metric("process_cpu_ms_per_op", process_cpu * 1000 / max(1, len(measured)), "ms CPU/op"),
        metric("process_cpu_cores", process_cpu / seconds, "cores"),
        metric("postgres_cpu_ms_per_op", postgres_cpu * 1000 / max(1, len(measured)), "ms CPU/op"),
        metric("postgres_cpu_cores", postgres_cpu / seconds, "cores"),
        metric("machine_cpu_busy", machine_busy, "of all cores"),
    ]
    if calls:
        metrics += [
            metric("trigger_ms_per_posting", trigger_ms / calls, "ms"),
            metric("trigger_ms_per_op", trigger_ms / max(1, all_ops), "ms"),
        ]
    left = min(tally.left_unused for tally in tallies)
    metrics += [
        metric("webhooks_delivered_twice", sum(tally.delivered_twice for tally in tallies), "fundings"),
        metric("concurrency", args.concurrency, "clients"),
        metric("processes", args.processes, "processes"),
        metric("pairs", args.pairs, "organization pairs"),
        metric("escrows", sum(len(e) for e in seeded.escrows.values()), "escrows"),
        metric("escrows_left_min", left, "escrows"),
        metric("tasks_enqueued", purged, "messages purged"),
    ]
    notes = [
        f"{args.concurrency} clients (threads, a connection each) over {args.pairs} client/supplier pairs, "
        f"{args.warmup_seconds}s warm-up then {args.seconds}s; moves: {int(RELEASE_SHARE * 100)} % releases by the "
        f"client, the rest refunds by the supplier, {int(PIECE[0] * 100)}-{int(PIECE[1] * 100)} % of the amount "
        f"each; {args.shared:.0%} of the moves on another client's escrow of the same pair. fund = escrow_fund + "
        f"a signed charge.succeeded webhook received and applied ({args.duplicates:.0%} of them delivered and "
        f"applied twice); {args.processes} client process(es).",
        f"baseline: {BASELINE_SQL} in autocommit, each client on its own row, {args.baseline_seconds}s.",
        "The profile of each kind (statements by table, their time, commits, publishes) is on stderr.",
    ]
    if calls:
        notes.append(
            f"balance trigger ({TRIGGER}, deferred, per posting, at commit): {calls} calls over the run "
            f"(warm-up included), {trigger_ms:.0f} ms, {trigger_ms / calls:.3f} ms each."
        )
    return metrics, notes
