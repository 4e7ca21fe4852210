"""Who a notification type tells of an event: its rule (apps.notifications.catalogue) resolved to
people, each with the organization they are told as a member of (None: as themselves).

Runs inside the fan-out's read-only all-tenants scope: the recipients of one organization's
event are often another organization's members (the RFQ's shipper hears of a carrier's offer).
"""

from __future__ import annotations

from uuid import UUID

from apps.accounts.selectors import active_staff_ids
from apps.chat.selectors import thread_offline_participant_ids
from apps.notifications.catalogue import (
    COUNTERPARTIES,
    ORGANIZATION,
    PARTIES,
    ChatOffline,
    Members,
    NotificationType,
    PayloadAudience,
    PayloadUser,
    Rule,
    Staff,
)
from apps.tenancy.roles import Role
from apps.tenancy.selectors import members_with_roles

Recipient = tuple[UUID, UUID | None]  # (user id, organization id)


def _uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except (TypeError, ValueError):
        return None


def _uuids(values) -> list[UUID]:
    if not isinstance(values, list | tuple):
        return []
    return [parsed for parsed in map(_uuid, values) if parsed is not None]


def _organizations(where: str, event) -> list[UUID]:
    payload = event.payload
    parties = _uuids(payload.get("party_organization_ids", []))
    own = event.organization_id
    if where == ORGANIZATION:
        return [own] if own else []
    if where == PARTIES:
        return parties
    if where == COUNTERPARTIES:
        return [organization for organization in parties if organization != own]
    named = _uuid(payload.get(where))
    return [named] if named else []


def _resolve(rule: Rule, event) -> list[Recipient]:
    payload = event.payload
    if isinstance(rule, Members):
        return members_with_roles(organization_ids=_organizations(rule.where, event), roles=rule.roles)
    if isinstance(rule, PayloadUser):
        user_id = _uuid(payload.get(rule.field))
        return [(user_id, None)] if user_id else []
    if isinstance(rule, PayloadAudience):
        people: list[Recipient] = [(user_id, None) for user_id in _uuids(payload.get("user_ids", []))]
        roles = payload.get("roles") or []
        organizations = _uuids(payload.get("organization_ids", []))
        if organizations:
            people += members_with_roles(organization_ids=organizations, roles=roles or list(Role.values))
        return people
    if isinstance(rule, Staff):
        return [(user_id, None) for user_id in active_staff_ids()]
    if isinstance(rule, ChatOffline):
        organization_id = _uuid(payload.get("recipient_organization_id"))
        thread_id = _uuid(payload.get("thread_id"))
        if organization_id is None or thread_id is None:
            return []
        participants = thread_offline_participant_ids(organization_id=organization_id, thread_id=thread_id)
        return [(user_id, organization_id) for user_id in participants]
    raise TypeError(f"Unknown recipient rule {rule!r}")


def recipients_of(kinds: list[NotificationType], event) -> dict[UUID, tuple[NotificationType, UUID | None]]:
    """Each person told of the event, with the type that tells them (the first type that names
    them: a person gets one notification per event) and the organization they are told for.
    The person who caused the event is left out, except for mandatory (security) types."""
    chosen: dict[UUID, tuple[NotificationType, UUID | None]] = {}
    actor_id = getattr(event, "actor_id", None)
    for kind in kinds:
        for user_id, organization_id in _resolve(kind.recipients, event):
            if user_id == actor_id and not kind.mandatory:
                continue
            chosen.setdefault(user_id, (kind, organization_id))
    return chosen
