"""The benchmarks' load phases run for real, briefly: the scenario's own uvicorn server
(config.settings.bench) on this test's committed rows, loaded by the scenario's own `_load`
through bench.loadgen in a process of its own, with POSTs (quote) and GETs (api-overhead,
whose `_load` auth-overhead and orders-list share). A change to bench.loadgen that one of them
no longer fits stops the scenario only after minutes of seeding; here it fails in seconds."""

import json
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.accounts.services import session_start
from apps.core.context import tenant_scope
from bench import api_overhead
from bench import quote as bench_quote
from bench.environment import _with_database

SECONDS = 1.0
LOAD = SimpleNamespace(concurrency=2, max_requests=10_000)


@pytest.fixture
def server_environment(committed, django_db_setup, monkeypatch):
    """What bench.environment.configure does for a run, aimed at this test's database instead:
    the scenarios' servers inherit the environment, so they read the committed seed."""
    monkeypatch.setenv("DATABASE_URL", _with_database(settings.OWNER_DATABASE_URL, django_db_setup))
    monkeypatch.setenv("APP_DATABASE_URL", _with_database(settings.APP_DATABASE_URL, django_db_setup))
    # The test worker's Redis database, which `committed` flushes afterwards: not the
    # benchmarks' own (15), where a concurrent run's cached quote rankings live.
    monkeypatch.setenv("REDIS_DB", str(settings.REDIS_DB))


@contextmanager
def served(tmp_path, start):
    """`start(port, log)` a scenario's server; yields its base URL once /health answers, then stops it."""
    port = api_overhead._free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "uvicorn.log"
    with open(log_path, "w") as log:
        server = start(port, log)
        try:
            api_overhead._wait_until_up(base, server, str(log_path))
            yield base
        finally:
            api_overhead._stop_server(server)


def _assert_all_answered_200(result: dict, latencies: list) -> None:
    assert result["requests"] > 0
    assert result["statuses"] == {"200": result["requests"]}
    assert result["ok"] == result["requests"] == len(latencies)
    assert result["errors"] == 0
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]


def test_the_quote_scenario_posts_quotes_through_its_server_and_every_answer_is_counted(server_environment, tmp_path):
    seeded = bench_quote._seed(offerings=220, tariffs=5, carriers=5)
    user = get_user_model().objects.get(pk=seeded.user.pk)  # on the application's connection, as run() does
    token = session_start(user=user).access

    def scope():
        return tenant_scope(seeded.shipper.id, user_id=user.id)

    expected = bench_quote._quote_shipment(scope, repeat=1)["expected"]  # what run() checks the served answer by
    body_path = tmp_path / "body.json"
    body_path.write_text(json.dumps(bench_quote.BODY))

    with served(tmp_path, lambda port, log: bench_quote._start(port, log, pool_max=4)) as base:
        url = f"{base}{bench_quote.PATH}"
        status, answer = bench_quote._post(url, {"Authorization": f"Bearer {token}"})
        checked = bench_quote._check_answer(answer, status, expected=expected)
        result = bench_quote._load(url, [f"Authorization: Bearer {token}"], LOAD, SECONDS, str(body_path), tmp_path)

    assert expected.total > bench_quote.LIMIT  # a full page, so its order and ids are checked
    assert len(checked["data"]) == bench_quote.LIMIT
    # A GET of this path answers 405: the 200s are the scenario's POSTs.
    _assert_all_answered_200(result, result["answers"])
    assert {status for _, status in result["answers"]} == {200}


@pytest.mark.parametrize("view", ["members", "bare"])
def test_the_api_overhead_scenario_loads_its_urls_through_its_server_and_every_answer_is_counted(
    server_environment, tmp_path, view
):
    organization, admin = api_overhead._seed(tenants=2, members=5)
    token = session_start(user=get_user_model().objects.get(pk=admin.pk)).access
    path = f"/api/v1/organizations/{organization.id}/members" if view == "members" else "/bench/bare"
    headers = [f"Authorization: Bearer {token}"] if view == "members" else []
    latencies_path = tmp_path / "latencies.json"

    with served(tmp_path, lambda port, log: api_overhead._start_server(port, 1, log)) as base:
        status, answer = api_overhead._get(f"{base}{path}", dict(header.split(": ", 1) for header in headers))
        result = api_overhead._load(f"{base}{path}", headers, LOAD, SECONDS, str(latencies_path))

    assert status == 200
    assert len(json.loads(answer)["data"]) == (5 if view == "members" else 0)
    _assert_all_answered_200(result, json.loads(latencies_path.read_text()))
