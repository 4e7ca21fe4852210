"""Database set-up done with the owner's connection: the database, the application role, grants.

The application role (settings.APP_DB_USER) can log in and read and write rows,
and nothing else: not superuser, not BYPASSRLS, owns no table, so the forced
row-level security policies apply to every statement it runs. The same code
serves the embedded PostgreSQL, an external one, and the test databases.

The all-tenants role (`<APP_DB_USER>_all_tenants`) cannot log in and is not BYPASSRLS
either: the tables' `all_tenants` policies name it. It is granted to the application role
WITH INHERIT FALSE, SET TRUE: the application role gets none of its rights by membership,
it can only `SET ROLE` to it, which `apps.core.context.system_scope` does, transaction-
locally (docs/decisions/0006-rls-bypass-role.md). It holds the same table rights.
"""

from __future__ import annotations

import logging

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from apps.core.rls import all_tenants_role

logger = logging.getLogger(__name__)

# Tables whose rows must never change once written: the application may only append.
APPEND_ONLY_TABLES = ("tenancy_auditlog", "tracking_trackingevent")


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
        _ensure_all_tenants_role(connection, role)
    grant_database_access(owner_settings, name)
    logger.info("database.role_ready", extra={"role": role, "database": name})


def _ensure_all_tenants_role(connection: psycopg.Connection, application_role: str) -> None:
    """The NOLOGIN all-tenants role, which the application role may only SET ROLE to."""
    role = all_tenants_role()
    exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    connection.execute(
        sql.SQL("{} ROLE {} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT").format(
            sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role)
        )
    )
    # No rights by membership (INHERIT FALSE): only an explicit SET ROLE reaches them.
    connection.execute(
        sql.SQL("GRANT {} TO {} WITH INHERIT FALSE, SET TRUE, ADMIN FALSE").format(
            sql.Identifier(role), sql.Identifier(application_role)
        )
    )


def _runtime_roles() -> list[str]:
    """The application role and the all-tenants role: both get the same rights on rows."""
    return [settings.APP_DB_USER, all_tenants_role()]


def grant_database_access(owner_settings: dict, name: str) -> None:
    """Let the (existing) application role connect to database `name` and use its schema."""
    role = sql.Identifier(settings.APP_DB_USER)
    with _connect(owner_settings, name) as connection:
        connection.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(name), role))
        for runtime_role in _existing(connection, _runtime_roles()):
            connection.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(runtime_role)))


def _existing(connection, roles: list[str]) -> list[str]:
    rows = connection.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [roles]).fetchall()
    found = {row[0] for row in rows}
    return [role for role in roles if role in found]


def grant_application_role(using: str = "owner", **kwargs) -> None:
    """After every migrate: the application role may read and write rows of every table.

    Connected to post_migrate. Append-only tables lose UPDATE and DELETE here too;
    their triggers refuse them even for the owner.
    """
    if using not in connections.databases or using == "default":
        return
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [_runtime_roles()])
        existing = {row[0] for row in cursor.fetchall()}
        roles = [sql.Identifier(name) for name in _runtime_roles() if name in existing]
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(%s)",
            [list(APPEND_ONLY_TABLES)],
        )
        append_only = [table for (table,) in cursor.fetchall()]
        # A partition is read and written through its partitioned parent, whose policies
        # apply; reached directly, the parent's policies would not (tracking events).
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relispartition AND c.relkind = 'r'"
            " AND c.relnamespace = 'public'::regnamespace"
        )
        partitions = [table for (table,) in cursor.fetchall()]
        statements = []
        for role in roles:
            statements += [
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(role),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
                sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {}").format(role),
            ]
            statements += [
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), role)
                for table in append_only
            ]
            statements += [
                sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), role) for table in partitions
            ]
        for statement in statements:
            cursor.execute(statement.as_string(cursor.cursor))
