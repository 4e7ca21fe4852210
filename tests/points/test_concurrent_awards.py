"""The running balance under concurrency (issue 22 "Tests"): real commits, one thread and one
database connection per client, all released together, awarding to the same few people. Every
person's balance is the sum of their lines, the lines are numbered 1..n with no gap and each
running balance follows from the one before; a source delivered by several clients at once is
recorded once; a penalty is applied only while the balance covers it."""

from __future__ import annotations

import random
import threading
import uuid

import pytest
from django.db import connections

from apps.core.context import system_scope
from apps.points import selectors, services
from apps.points.models import PointAccount, PointTransaction
from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("committed")

THREADS = 12
PER_THREAD = 25


def _run_concurrently(work) -> list[list[object]]:
    """`work(index)` returns a list of the steps a client takes; each client runs its steps in
    order on its own connection, every client starting at the same moment. Per client, per step:
    the service's answer or the error raised."""
    plans = [work(index) for index in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    results: list[list[object]] = [[] for _ in plans]

    def run(index: int) -> None:
        try:
            barrier.wait()
            for step in plans[index]:
                try:
                    with system_scope(reason="test: points awarded by a subscriber"):
                        results[index].append(services.point_transaction_record(**step))
                except Exception as error:  # kept, so that the test names it
                    results[index].append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    return results


def _stored(people) -> tuple[dict, dict]:
    with system_scope(reason="test: the ledgers as committed", audit=False):
        accounts = {a.user_id: a for a in PointAccount.objects.filter(user_id__in=[p.id for p in people])}
        lines = {}
        for line in PointTransaction.objects.filter(user_id__in=[p.id for p in people]).order_by("sequence"):
            lines.setdefault(line.user_id, []).append(line)
    return accounts, lines


def test_concurrent_awards_to_the_same_people_keep_every_balance_exact():
    # Given four people, and twelve clients each awarding 25 times to one of them at random
    people = [UserFactory() for _ in range(4)]

    def work(index):
        randomness = random.Random(index)
        return [
            {
                "user_id": randomness.choice(people).id,
                "transaction_type": "REWARD",
                "amount": randomness.randint(1, 50),
                "category": "SERVICE",
                "description": "Concurrent award",
                "source_key": f"event:{uuid.uuid4()}:rule",
            }
            for _ in range(PER_THREAD)
        ]

    # When they all award at the same moment
    results = _run_concurrently(work)

    # Then every award was recorded, and each ledger adds up line by line
    errors = [result for client in results for result in client if isinstance(result, Exception)]
    assert errors == []
    accounts, lines = _stored(people)
    assert sum(len(person_lines) for person_lines in lines.values()) == THREADS * PER_THREAD
    for person in people:
        person_lines = lines.get(person.id, [])
        assert accounts[person.id].balance == sum(line.amount for line in person_lines)
        assert [line.sequence for line in person_lines] == list(range(1, len(person_lines) + 1))
        running = 0
        for line in person_lines:
            running += line.amount
            assert line.balance == running
    with system_scope(reason="test: every ledger checked", audit=False):
        assert selectors.ledger_problems(user_ids=[person.id for person in people]) == []


def test_one_event_delivered_by_every_client_at_once_is_recorded_once():
    # Given one person and the same ten events, each delivered by all twelve clients at once
    person = UserFactory()
    keys = [f"event:{uuid.uuid4()}:service-order-completed" for _ in range(10)]

    def work(index):
        return [
            {
                "user_id": person.id,
                "transaction_type": "REWARD",
                "amount": 100,
                "category": "SERVICE",
                "description": "Service order completed",
                "source_key": key,
            }
            for key in keys
        ]

    # When they deliver
    results = _run_concurrently(work)

    # Then every delivery answered, and each event is one line: 1,000 points, not 12,000
    answers = [result for client in results for result in client]
    assert not [answer for answer in answers if isinstance(answer, Exception)]
    assert sum(answer.created for answer in answers) == len(keys)
    accounts, lines = _stored([person])
    assert accounts[person.id].balance == 1000
    assert sorted(line.source_key for line in lines[person.id]) == sorted(keys)


def test_concurrent_penalties_never_take_a_balance_below_zero():
    # Given a person with 500 points, and twelve clients each trying to take 50 ten times
    person = UserFactory()
    with system_scope(reason="test: a staff credit"):
        services.point_transaction_record(
            user_id=person.id,
            transaction_type="CREDIT",
            amount=500,
            category="",
            description="Start",
            source_key="manual:start",
        )

    def work(index):
        return [
            {
                "user_id": person.id,
                "transaction_type": "PENALTY",
                "amount": 50,
                "category": "SERVICE",
                "description": "No-show",
                "source_key": f"event:{uuid.uuid4()}:no-show",
            }
            for _ in range(10)
        ]

    # When they all penalize at the same moment
    results = _run_concurrently(work)

    # Then exactly ten penalties were applied (500 / 50), the rest refused, and the balance is 0
    answers = [result for client in results for result in client]
    refused = [answer for answer in answers if isinstance(answer, services.NotEnoughPoints)]
    applied = [answer for answer in answers if isinstance(answer, services.Recorded)]
    assert len(applied) == 10 and len(refused) == len(answers) - 10
    accounts, lines = _stored([person])
    assert accounts[person.id].balance == 0
    assert min(line.balance for line in lines[person.id]) == 0
