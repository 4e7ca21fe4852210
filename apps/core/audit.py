"""Audit rows, recorded by the kernel: every context appends to the one audit log through here.

The log is append-only (apps.core.models.AuditLog); who acts, from where and in which request
come from the current scope unless given.
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q

from apps.core.actors import Actor
from apps.core.context import Client, client_var, current_organization_id, current_user_id, request_id_var
from apps.core.models import AuditLog
from apps.core.network import client_ip


def _jsonable(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {
        key: value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
        for key, value in values.items()
    }


def audit_record(
    *,
    action: str,
    resource_type: str = "",
    resource_id: str | UUID = "",
    old_values: dict | None = None,
    new_values: dict | None = None,
    organization_id: UUID | None = None,
    actor_id: UUID | None = None,
    client: Client | None = None,
    actor: Actor | None = None,
) -> AuditLog:
    """Append one audit row; who, where from and which request come from the current scope.

    Who acts: `actor.user_id` when an actor is given, else `actor_id`; none means the scope's user.
    """
    client = client or client_var.get()
    if actor is not None:
        actor_id = actor.user_id
    return AuditLog.objects.create(
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        old_values=_jsonable(old_values),
        new_values=_jsonable(new_values),
        organization_id=organization_id or current_organization_id(),
        actor_id=actor_id or current_user_id(),
        ip_address=client.ip_address,
        user_agent=client.user_agent[:500],
        request_id=request_id_var.get() or "",
    )


def audit_record_many(
    *,
    action: str,
    resource_type: str,
    entries: list[tuple[str | UUID, dict]],
    organization_id: UUID | None = None,
    actor: Actor | None = None,
) -> None:
    """Append one audit row per (resource id, new values) in one statement: the same action on
    many resources at once (a page of imported orders)."""
    client = client_var.get()
    actor_id = (actor.user_id if actor is not None else None) or current_user_id()
    organization_id = organization_id or current_organization_id()
    request_id = request_id_var.get() or ""
    AuditLog.objects.bulk_create(
        AuditLog(
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id),
            new_values=_jsonable(values),
            organization_id=organization_id,
            actor_id=actor_id,
            ip_address=client.ip_address,
            user_agent=client.user_agent[:500],
            request_id=request_id,
        )
        for resource_id, values in entries
    )


def client_of(request) -> Client:
    """The client (address, user agent) of a request, or the current scope's without one."""
    if request is None:
        return client_var.get()
    return Client(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


@transaction.atomic
def audit_auth_event(*, action: str, user_id: UUID | None, request=None, details: dict | None = None) -> AuditLog:
    """Append a sign-in, sign-out or failed sign-in: the resource is the user."""
    return audit_record(
        action=action,
        resource_type="user",
        resource_id=user_id or "",
        new_values=details,
        actor_id=user_id,
        client=client_of(request),
    )


def audit_rls_bypass(*, reason: str, actor_id: UUID | None) -> AuditLog:
    """settings.RLS_BYPASS_AUDITOR: every audited entry into the all-tenants scope."""
    return audit_record(action="rls.bypass", resource_type="scope", new_values={"reason": reason}, actor_id=actor_id)


# --- A person's data (docs/accounts.md, "Personal data") ---------------------------------

AUDIT_EXPORT_FIELDS = (
    "id",
    "occurred_at",
    "action",
    "organization_id",
    "resource_type",
    "resource_id",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "request_id",
)


def audit_entries_of_person(*, user_id: UUID) -> list[dict]:
    """Audit entries the person acted in, and sign-in events about them, oldest first."""
    return list(
        AuditLog.objects.filter(Q(actor_id=user_id) | Q(resource_type="user", resource_id=str(user_id)))
        .order_by("occurred_at", "id")
        .values(*AUDIT_EXPORT_FIELDS)
    )


@transaction.atomic
def audit_erase_person(*, user_id: UUID, identifiers: list[str], replacement: str) -> int:
    """Rewrite the person's identifiers out of the audit log; returns the rows changed.

    The act stays: who (the actor id, now naming an anonymous user row), what, on which
    resource, when. The values lose every case-insensitive occurrence of `identifiers`
    (each at least 6 characters) in favour of `replacement`; the rows the person acted in
    or that are about them lose their address and user agent. The log is append-only:
    this is its one exception, the database function of migration
    tenancy/0005_audit_erasure_redaction (the application role cannot UPDATE the table).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tenancy_auditlog_erase_person(%s, %s::text[], %s)", [user_id, list(identifiers), replacement]
        )
        return cursor.fetchone()[0]
