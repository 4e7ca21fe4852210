"""The person's security events (sign-in from a new browser, password changed, two-factor
off), published through the outbox so the notifications context tells them on every channel."""

from __future__ import annotations

from uuid import UUID

from apps.accounts import events
from apps.accounts.models import AuthSession
from apps.core.context import client_var, system_scope, user_scope
from apps.core.services import outbox_publish


def _client_fields() -> dict:
    client = client_var.get()
    return {"ip_address": client.ip_address or "", "user_agent": client.user_agent[:300]}


def browser_is_known(*, user_id: UUID) -> bool:
    """Whether an earlier session of the person came from the calling browser."""
    user_agent = client_var.get().user_agent[:500]
    with user_scope(user_id):
        return AuthSession.objects.filter(user_id=user_id, user_agent=user_agent).exists()


def security_event_publish(event_class: type[events.SecurityEvent], *, user_id: UUID, **fields) -> None:
    """Publish in the caller's transaction. A person's event belongs to no organization, so
    its outbox row is written in the all-tenants scope (as the erasure events are)."""
    event = event_class(organization_id=None, user_id=user_id, **_client_fields(), **fields)
    with system_scope(reason=f"account: {event.event_type} event", actor_id=user_id):
        outbox_publish(event)
