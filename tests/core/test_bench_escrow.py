"""The escrow benchmark (bench/escrow.py) measures what docs/benchmarks.md says: escrows between
KYC-verified parties, funded, released and refunded by concurrent clients, and a ledger that
balances afterwards (its `ledger_balanced` metric is 1)."""

import time
from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.escrow.models import Escrow, EscrowStatus
from apps.kyc.gate import is_verified
from bench import escrow as bench_escrow

PAIRS, CLIENTS, PER_CLIENT, SPARE = 2, 4, 10, 4


@pytest.fixture
def seeded(committed):
    seeded = bench_escrow._seed(pairs=PAIRS, threads=CLIENTS, escrows_per_client=PER_CLIENT, profile_ops=SPARE)
    yield seeded
    bench_escrow._purge()  # the run's tasks, left in the test worker's Redis database


def test_the_seed_opens_an_escrow_on_every_order_between_verified_parties(seeded):
    with system_scope(reason="test: the seed", audit=False):
        escrows = list(Escrow.objects.values_list("status", "amount", "client_organization_id"))
        verified = all(
            is_verified(organization_id=organization_id)
            for pair in seeded.pairs
            for organization_id in (pair.client_id, pair.supplier_id)
        )

    assert len(escrows) == CLIENTS * PER_CLIENT + SPARE
    assert {status for status, _, _ in escrows} == {EscrowStatus.CREATED}
    assert all(Decimal("500") <= amount < Decimal("2000") for _, amount, _ in escrows)
    assert len({client for _, _, client in escrows}) == PAIRS
    assert verified


def test_a_short_run_funds_releases_refunds_and_leaves_the_ledger_balanced(seeded):
    # Half the fundings' webhooks come twice: fund() itself stops the run if one applied twice.
    clients = bench_escrow.Clients(seeded, concurrency=CLIENTS, shared=0.3, seed=1, duplicates=0.5)

    clients.start(at=time.monotonic(), warmup=0, seconds=1.0)
    clients.join()

    kinds = {kind for tally in clients.tallies for _, kind, _, _ in tally.ops}
    moved = sum((tally.moved for tally in clients.tallies), Decimal(0))
    funded = sum(tally.funded for tally in clients.tallies)
    assert kinds == {"fund", "release", "refund"}
    assert sum(tally.delivered_twice for tally in clients.tallies) > 0
    assert bench_escrow._escrow_totals() == (moved, funded)
    assert bench_escrow._ledger_problems() == []
