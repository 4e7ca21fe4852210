"""The `chat` scenario (bench/chat.py) runs end to end on small numbers: its seed makes the
member's threads and a big thread, the reads answer as seeded, and sockets on two real ASGI
processes hear every message POSTed. The test times nothing: it checks the shape of what the
scenario reports."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from apps.chat.models import Message, Thread, ThreadParticipant
from apps.core.context import system_scope
from bench import chat as bench_chat
from tests.support import web_processes

READ_METRICS = {
    "history_in_process_ms",
    "threads_in_process_ms",
    "history_deep_in_process_ms",
    "history_sql_custom_plan_ms",
    "history_sql_generic_plan_ms",
}
DELIVERY_METRICS = {"delivery_p95_ms", "delivery_p50_ms", "delivery_max_ms", "delivered", "post_p50_ms"}


@pytest.fixture
def seeded(committed):
    return bench_chat._seed(threads=6, messages=120, partners=2)


def test_the_seed_puts_the_member_in_every_thread_with_the_big_one_numbered_without_gaps(seeded):
    with system_scope(reason="test: count the seed", audit=False):
        threads = Thread.objects.count()
        member_rows = ThreadParticipant.objects.filter(user_id=seeded.member_id).count()
        big = list(Message.objects.filter(thread_id=seeded.history_thread_id).values_list("seq", flat=True))
        last_seq = Thread.objects.get(pk=seeded.history_thread_id).last_seq

    assert (threads, member_rows) == (6, 6)
    assert sorted(big) == list(range(1, 121)) and last_seq == 120
    assert len(set(seeded.unread.values())) > 1  # the list shows varied unread counts
    assert len(seeded.live_thread_ids) == 3  # every second thread is with the listening carrier


def test_the_read_measurements_report_both_medians_under_their_issue_names_and_the_pages_plans(seeded):
    measured, plans = bench_chat.measure_reads(seeded, requests=3)

    metrics = {metric.metric: metric for metric in measured}
    assert set(metrics) >= READ_METRICS
    assert all(metrics[name].value > 0 and metrics[name].unit == "ms" for name in READ_METRICS)
    # A deep page costs the statements of the first: the cursor walks the same index.
    assert metrics["history_queries"].value == metrics["history_deep_queries"].value
    assert (metrics["history_messages"].value, metrics["member_threads"].value) == (120, 6)
    assert {metric.scenario for metric in metrics.values()} == {"chat"}
    # The first page's statement, planned for its thread and for any (what a prepared statement may use).
    assert set(plans) == {"custom", "generic"}
    assert all(plan["rows_scanned"] >= bench_chat.HISTORY_PAGE and plan["plan"] for plan in plans.values())


def test_every_socket_on_two_servers_hears_every_message_posted(seeded, django_db_setup, monkeypatch):
    # given four sockets on three threads over two servers
    monkeypatch.setattr(bench_chat, "WARMUP_POSTS", 1)
    database_url = urlunsplit(urlsplit(settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    with web_processes(2, APP_DATABASE_URL=database_url, DB_POOL="false") as bases:
        servers = [urlsplit(base).netloc for base in bases]

        # when two messages a thread are POSTed
        metrics = {m.metric: m for m in bench_chat.measure_delivery(servers, seeded, sockets=4, rounds=2, rate=10)}

    # then each socket heard both messages of its thread, and the latencies are reported
    assert set(metrics) >= DELIVERY_METRICS
    assert metrics["delivered"].value == 1.0
    assert metrics["messages_posted"].value == 6
    assert 0 < metrics["delivery_p50_ms"].value <= metrics["delivery_p95_ms"].value <= metrics["delivery_max_ms"].value
