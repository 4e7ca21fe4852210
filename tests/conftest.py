"""Test set-up: one real PostgreSQL database per xdist worker, migrated by the owner,
queried by the application role with row-level security on; Redis per worker.

Two ways to touch the database:
- `db` (pytest-django): the test runs inside a transaction rolled back at the end;
- `committed`: real commits (for a Celery worker, a server thread, a WebSocket),
  every table emptied afterwards by the owner (the audit log is append-only and
  keeps its rows; tests never depend on its being empty).
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import uvicorn
from celery.contrib.testing.worker import start_worker
from channels.layers import channel_layers
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from apps.accounts.services import session_start
from apps.core.provisioning import drop_database, ensure_database, grant_database_access
from config.celery import app as celery_app
from config.server import uvicorn_config

# Tables the `committed` clean-up keeps: framework catalogues and the append-only audit log.
KEPT_TABLES = {"django_migrations", "django_content_type", "auth_permission", "tenancy_auditlog"}


def _set_database_name(name: str) -> None:
    for alias in ("default", "owner"):
        connection = connections[alias]
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
        connection.settings_dict["NAME"] = name


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker):
    owner = settings.DATABASES["owner"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # Two suites may run at once against one server (a developer's and a helper's):
    # each run gets its own databases.
    run = os.environ.get("TEST_RUN_ID", "run")
    name = f"test_{owner['NAME']}_{run}_{worker}"
    with django_db_blocker.unblock():
        ensure_database(owner, name, recreate=True)
        _set_database_name(name)
        grant_database_access(owner, name)  # the role itself was made by `setup_database`
        call_command("migrate", database="owner", verbosity=0)
    yield name
    with django_db_blocker.unblock():
        _set_database_name(name)
        for alias in ("default", "owner"):
            connections[alias].close()
            if hasattr(connections[alias], "close_pool"):
                connections[alias].close_pool()
        drop_database(owner, name)


def _empty_tables() -> None:
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall() if row[0] not in KEPT_TABLES]
        if tables:
            cursor.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " CASCADE")


@pytest.fixture
def committed(request, django_db_setup, django_db_blocker):
    """Real transactions: what the test writes is committed and visible to other connections."""
    if request.node.get_closest_marker("django_db"):
        raise pytest.UsageError("`committed` tests must not be marked django_db (that wraps them in a transaction)")
    with django_db_blocker.unblock():
        try:
            yield
        finally:
            for connection in connections.all(initialized_only=True):
                if connection.alias != "owner":
                    connection.close()
            _empty_tables()
            cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Each test starts with an empty cache (feature flags are cached per organization)."""
    uses_database = request.node.get_closest_marker("django_db") or {"db", "committed"} & set(request.fixturenames)
    if uses_database:
        cache.clear()  # also lockout and rate-limit counters: no test inherits another's


@pytest.fixture
def api():
    """api(user, organization=None) -> an APIClient that sends the user's bearer token."""

    def make(user=None, organization=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
        if organization is not None:
            client.defaults["HTTP_X_ORGANIZATION_ID"] = str(getattr(organization, "id", organization))
        return client

    return make


# --- Real parts: a Celery worker and an ASGI server, in this process, on committed data ---


@pytest.fixture
def celery_worker(committed):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


@pytest.fixture
def asgi_server(committed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A fresh channel layer for this server's event loop: channels-redis binds receiving to
    # one loop per layer instance, and a consumer of an earlier test's server (a loop now
    # gone) may never have finished its receive(), so the shared instance would refuse this
    # loop with "Two event loops are trying to receive()". In production a process has one loop.
    channel_layers.backends.clear()
    # The project's server options (pings, no proxy headers); logging stays pytest's.
    server = uvicorn.Server(uvicorn_config(host="127.0.0.1", port=port, log_level="warning", log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "ASGI server did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
