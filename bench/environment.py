"""The benchmark's own database: created afresh, migrated by the owner, queried by the application role.

A scenario never touches the `make run` database or the test databases: it points
DATABASE_URL at a database of its own before Django reads the settings, so the
owner connection (set-up, seeding) and the application role's connection (what is
measured, row-level security on) both land there. Subprocesses it starts (the ASGI
server) inherit that environment.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

SETTINGS_MODULE = "config.settings.bench"


def progress(message: str) -> None:
    """Progress goes to stderr, so that stdout carries only the results (JSON lines with --json)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def configure(database_name: str) -> None:
    """Start the embedded services when needed, point Django at `database_name` and set it up."""
    from devstack.services import ensure_environment

    started = ensure_environment()
    progress(f"services: PostgreSQL {started['postgres']}, Redis {started['redis']}")
    os.environ["DATABASE_URL"] = _with_database(os.environ["DATABASE_URL"], database_name)
    if os.environ.get("APP_DATABASE_URL"):
        os.environ["APP_DATABASE_URL"] = _with_database(os.environ["APP_DATABASE_URL"], database_name)
    # Forced, not defaulted: a DJANGO_SETTINGS_MODULE left in the shell (dev: DEBUG on)
    # would silently change what is measured.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE

    import django

    django.setup()


def create_database() -> None:
    """Create the configured database afresh, let the application role in, migrate as the owner."""
    from django.conf import settings
    from django.core.management import call_command

    from apps.core.provisioning import ensure_application_role, ensure_database

    owner = settings.DATABASES["owner"]
    progress(f"creating database {owner['NAME']} and migrating it")
    ensure_database(owner, owner["NAME"], recreate=True)
    ensure_application_role(owner, owner["NAME"])
    call_command("migrate", database="owner", verbosity=0)


def close_connections() -> None:
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()


def drop_database() -> None:
    from django.conf import settings

    from apps.core.provisioning import drop_database as drop

    close_connections()
    owner = settings.DATABASES["owner"]
    drop(owner, owner["NAME"])
    progress(f"dropped database {owner['NAME']}")
