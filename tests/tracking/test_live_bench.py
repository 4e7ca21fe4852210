"""The `tracking-live` scenario (bench/tracking_live.py) runs end to end on small numbers: its
sockets on two real ASGI processes hear every pushed position, and it reports the latency."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from bench import tracking_live
from tests.support import web_processes


def test_a_small_run_delivers_every_position_to_every_subscriber(committed, django_db_setup):
    # given three shipments and six sockets over two servers
    seeded = tracking_live._seed(shipments=3)
    database_url = urlunsplit(urlsplit(settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    with web_processes(2, APP_DATABASE_URL=database_url, DB_POOL="false") as bases:
        servers = [urlsplit(base).netloc for base in bases]

        # when two rounds of positions are pushed
        metrics = {m.metric: m for m in tracking_live.measure(servers, seeded, subscribers=6, rounds=2)}

    # then each socket heard both, and the latencies are reported
    assert metrics["delivered"].value == 1.0
    assert 0 < metrics["p50_ms"].value <= metrics["p95_ms"].value <= metrics["max_ms"].value
    assert {m.scenario for m in metrics.values()} == {"tracking-live"}
