"""Who the current code acts for, in Python and in PostgreSQL.

The scope (user, organization, bypass) lives in a context variable for the
application and in transaction-local settings (`set_config(..., true)`) for
PostgreSQL's row-level security policies. Every scope opens or joins a
transaction, so the settings die with it: a pooled or persistent connection
never carries one tenant into the next request, task or message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction
from django.utils.module_loading import import_string

from apps.core.rls import all_tenants_role

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    user_id: UUID | None = None
    organization_id: UUID | None = None
    bypass_reason: str | None = None

    @property
    def bypass(self) -> bool:
        return self.bypass_reason is not None


EMPTY_SCOPE = Scope()
_scope: ContextVar[Scope] = ContextVar("manifest_scope", default=EMPTY_SCOPE)
request_id_var: ContextVar[str | None] = ContextVar("manifest_request_id", default=None)


@dataclass(frozen=True)
class Client:
    """Where the current request comes from, for the audit log."""

    ip_address: str | None = None
    user_agent: str = ""


client_var: ContextVar[Client] = ContextVar("manifest_client", default=Client())  # noqa: B039 - frozen


def current_scope() -> Scope:
    return _scope.get()


def current_organization_id() -> UUID | None:
    return _scope.get().organization_id


def current_user_id() -> UUID | None:
    return _scope.get().user_id


def _role(scope: Scope, using: str) -> str:
    """The role the transaction runs as: the all-tenants role in the bypass scope of an
    application-role connection (docs/decisions/0006-rls-bypass-role.md), else the login
    role ('none' resets SET ROLE). The owner's connection keeps its own role: the policies'
    `all_tenants` arm names the owner too."""
    if scope.bypass and connections[using].settings_dict.get("USER") == settings.APP_DB_USER:
        return all_tenants_role()
    return "none"


def _apply(scope: Scope, using: str) -> None:
    # `role` is set like the others, transaction-locally (= SET LOCAL ROLE): COMMIT, ROLLBACK
    # and a rolled-back savepoint end it, so a pooled connection never keeps it. This is the
    # only place in apps/ that sets the role (tests/tenancy/test_rls_bypass_role.py).
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.current_user', %s, true),"
            " set_config('app.current_tenant', %s, true),"
            " set_config('app.rls_bypass', %s, true),"
            " set_config('role', %s, true)",
            [
                str(scope.user_id) if scope.user_id else "",
                str(scope.organization_id) if scope.organization_id else "",
                "on" if scope.bypass else "",
                _role(scope, using),
            ],
        )


@contextmanager
def activate(scope: Scope, *, using: str = "default") -> Iterator[Scope]:
    """Run the block in a transaction whose row-level security settings are `scope`.

    Nested inside another transaction the block becomes a savepoint; settings made by
    `set_config(..., true)` outlive a released savepoint, so the enclosing scope's
    settings are put back when the block ends normally (a rolled-back savepoint
    restores them by itself).
    """
    connection = connections[using]
    enclosing = _scope.get() if connection.in_atomic_block else None
    with transaction.atomic(using=using):
        _apply(scope, using)
        token = _scope.set(scope)
        try:
            yield scope
        finally:
            _scope.reset(token)
    if enclosing is not None and not connection.needs_rollback:
        _apply(enclosing, using)


def switch(scope: Scope, *, using: str = "default") -> None:
    """Change the scope inside a block opened by `activate` (once the tenant is known).

    The enclosing `activate` restores the previous scope when it ends.
    """
    if not connections[using].in_atomic_block:
        raise RuntimeError("switch() must run inside activate(): the settings are transaction-local")
    _apply(scope, using)
    _scope.set(scope)


@contextmanager
def tenant_scope(organization_id: UUID | None, *, user_id: UUID | None = None, using: str = "default"):
    """Act for one organization (and optionally one user): the normal scope of every request."""
    with activate(Scope(user_id=user_id, organization_id=organization_id), using=using) as scope:
        yield scope


@contextmanager
def user_scope(user_id: UUID, *, using: str = "default"):
    """Act for a user before any organization is chosen: only the user's own rows are visible."""
    with activate(Scope(user_id=user_id), using=using) as scope:
        yield scope


@contextmanager
def system_scope(*, reason: str, actor_id: UUID | None = None, audit: bool = True, using: str = "default"):
    """See every tenant's rows: platform staff and cross-tenant jobs only.

    On the application's connection the transaction runs as the all-tenants role
    (SET LOCAL ROLE) until the block ends; tenant policies have no bypass arm.

    Each entry is logged. With `audit` (the default; only read-only discovery queries
    turn it off) it is also recorded by settings.RLS_BYPASS_AUDITOR in the audit log,
    so that bypassing isolation is never silent.
    """
    if not reason:
        raise ValueError("system_scope needs a reason")
    scope = Scope(user_id=actor_id, bypass_reason=reason)
    with activate(scope, using=using):
        logger.info("rls.bypass", extra={"reason": reason, "actor_id": str(actor_id) if actor_id else None})
        auditor = getattr(settings, "RLS_BYPASS_AUDITOR", None)
        if audit and auditor:
            import_string(auditor)(reason=reason, actor_id=actor_id)
        yield scope
