"""Reviews written at the same moment, with real commits and one database connection per thread:
two customers reviewing one expert both count (no lost update of the aggregate); one party
reviewing twice at once is stored once.

To make the two reviews overlap every time (not only when the threads happen to), the test
holds the expert passport's row while they run: the first review to reach the aggregate waits
there, inside its transaction, until the other is waiting too; then the row is let go."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from apps.accounts.services import session_start
from apps.core.context import system_scope
from apps.reviews.models import Review, ReviewSummary
from apps.service.models import ExpertPassport
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.reviews.conftest import URL, completed_service_order, expert_rating, review_body

SERVICE = "SERVICE_ORDER"


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
    return client


def _race(*calls, meanwhile=None):
    """Run the calls at the same moment, each in its own thread and connection, and `meanwhile`
    in this one while they run; their responses."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    if meanwhile is not None:
        meanwhile()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@contextmanager
def _expert_passport_held(expert):
    """The expert passport's row locked by another connection until the block lets it go
    (`release.set()`) or ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with system_scope(reason="test: hold the expert's passport", audit=False):
                ExpertPassport.objects.select_for_update().get(pk=expert.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join(30)


def _let_go_once_both_wait(release, *, waiting: int = 2, timeout: float = 20.0) -> None:
    """Both reviews are inside their transactions, each waiting on a lock: let the passport go."""
    deadline = time.monotonic() + timeout
    while _waiting_on_locks() < waiting and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()


def _order_of_another_customer(field):
    """A completed order of the expert for a new customer organization; (its customer, order)."""
    organization = OrganizationFactory()
    customer = member(organization, Role.CUSTOMER)
    order = completed_service_order(field, customer=customer)
    with system_scope(reason="test: the order's customer organization", audit=False):
        order.organization = organization
        order.save(update_fields=["organization"])
    return customer, order


@pytest.mark.usefixtures("committed")
@pytest.mark.parametrize("first_review", [False, True], ids=["no summary yet", "summary exists"])
def test_two_reviews_of_one_expert_at_once_both_count(field, first_review):
    if first_review:  # the summary row exists already: both wait on its lock
        response = _client(field.customer).post(URL, review_body(SERVICE, field.order.id, rating=3), format="json")
        assert response.status_code == 201, response.json()
    (one, one_order), (other, other_order) = _order_of_another_customer(field), _order_of_another_customer(field)
    first, second = _client(one), _client(other)

    with _expert_passport_held(field.expert) as release:
        responses = _race(
            lambda: first.post(URL, review_body(SERVICE, one_order.id, rating=5), format="json"),
            lambda: second.post(URL, review_body(SERVICE, other_order.id, rating=4), format="json"),
            meanwhile=lambda: _let_go_once_both_wait(release),
        )

    assert [response.status_code for response in responses] == [201, 201]
    ratings = [3, 5, 4] if first_review else [5, 4]
    expected = (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"))
    assert expert_rating(field.expert) == (expected, len(ratings))
    with system_scope(reason="test: the summary", audit=False):
        summary = ReviewSummary.objects.get(reviewee_type="EXPERT", reviewee_id=field.expert.id)
    assert (summary.rating_average, summary.review_count) == (expected, len(ratings))
    assert (summary.count_3, summary.count_4, summary.count_5) == (int(first_review), 1, 1)


@pytest.mark.usefixtures("committed")
def test_one_party_reviewing_twice_at_once_is_stored_once(field):
    by_customer, by_admin = _client(field.customer), _client(field.customer_admin)

    responses = _race(
        lambda: by_customer.post(URL, review_body(SERVICE, field.order.id, rating=5), format="json"),
        lambda: by_admin.post(URL, review_body(SERVICE, field.order.id, rating=1), format="json"),
    )

    assert sorted(response.status_code for response in responses) == [201, 422]
    loser = next(response for response in responses if response.status_code == 422)
    assert loser.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    winner = next(response for response in responses if response.status_code == 201).json()
    with system_scope(reason="test: the reviews", audit=False):
        assert Review.objects.count() == 1
    assert expert_rating(field.expert) == (Decimal(f"{winner['rating']}.00"), 1)
