"""The `points` scenario (bench/points.py) on small numbers: concurrent clients award, redeliver
and penalize through the subscriber's service path, and its ledger check finds every ledger exact
and every line accounted for; it counts a ledger that does not add up. The test times nothing."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope
from apps.points.models import PointAccount
from bench import points as bench_points

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def seeded():
    seeded = bench_points._seed(people=3)
    yield seeded
    bench_points._purge()  # the relay tasks the run published, left in the test worker's Redis database


def test_a_short_run_leaves_every_ledger_exact_and_every_line_accounted_for(seeded):
    clients = bench_points.Clients(seeded, concurrency=6, redeliveries=0.2, penalties=0.2, seed=1)

    clients.run(warmup=0, seconds=1.5)

    mismatches, stored = bench_points.ledger_check(seeded.people)
    tallies = clients.tallies
    assert mismatches == 0
    assert stored == sum(tally.lines for tally in tallies) > 0
    assert sum(tally.redelivered for tally in tallies) > 0  # redelivered events recorded nothing (checked in the run)
    assert all(tally.awards for tally in tallies)


def test_the_check_counts_a_balance_that_is_not_the_sum_of_its_lines(seeded):
    person = seeded.people[0]
    bench_points.award(bench_points.completed_event(seeded.organization_id, person))
    with system_scope(reason="test: a corrupted balance", using="owner", audit=False):
        PointAccount.objects.using("owner").filter(user_id=person).update(balance=1)

    mismatches, stored = bench_points.ledger_check(seeded.people)

    assert (mismatches, stored) == (1, 1)
