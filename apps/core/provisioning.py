"""Database set-up done with the owner's connection: the database, the application role, grants.

The application role (settings.APP_DB_USER) can log in and read and write rows,
and nothing else: not superuser, not BYPASSRLS, owns no table, so the forced
row-level security policies apply to every statement it runs. The same code
serves the embedded PostgreSQL, an external one, and the test databases.
"""

from __future__ import annotations

import logging

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

logger = logging.getLogger(__name__)

# Tables whose rows must never change once written: the application may only append.
APPEND_ONLY_TABLES = ("tenancy_auditlog",)


def _connect(settings_dict: dict, dbname: str) -> psycopg.Connection:
    options = {k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k in {"host", "sslmode"}}
    return psycopg.connect(
        dbname=dbname,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or options.get("host") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=True,
    )


def ensure_database(owner_settings: dict, name: str, *, recreate: bool = False) -> None:
    with _connect(owner_settings, "postgres") as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and recreate:
            connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(owner_settings: dict, name: str) -> None:
    with _connect(owner_settings, "postgres") as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Roles are cluster-wide: concurrent ALTER ROLE from two set-ups (parallel test workers)
# fails with "tuple concurrently updated", so role changes take this advisory lock.
_ROLE_LOCK = 7_245_311


def ensure_application_role(owner_settings: dict, name: str) -> None:
    """Create (or correct) the application role and let it into database `name`."""
    role, password = settings.APP_DB_USER, settings.APP_DB_PASSWORD
    with _connect(owner_settings, "postgres") as connection, connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", [_ROLE_LOCK])
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        statement = sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT").format(
            sql.SQL(verb), sql.Identifier(role)
        )
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        connection.execute(statement)
    grant_database_access(owner_settings, name)
    logger.info("database.role_ready", extra={"role": role, "database": name})


def grant_database_access(owner_settings: dict, name: str) -> None:
    """Let the (existing) application role connect to database `name` and use its schema."""
    role = sql.Identifier(settings.APP_DB_USER)
    with _connect(owner_settings, name) as connection:
        connection.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(name), role))
        connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))


def grant_application_role(using: str = "owner", **kwargs) -> None:
    """After every migrate: the application role may read and write rows of every table.

    Connected to post_migrate. Append-only tables lose UPDATE and DELETE here too;
    their triggers refuse them even for the owner.
    """
    if using not in connections.databases or using == "default":
        return
    role = sql.Identifier(settings.APP_DB_USER)
    statements = [
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {}").format(role),
    ]
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            [list(APPEND_ONLY_TABLES)],
        )
        for (table,) in cursor.fetchall():
            statements.append(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), role)
            )
        for statement in statements:
            cursor.execute(statement.as_string(cursor.cursor))
