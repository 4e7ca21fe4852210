"""Staff's own notifications: `POST /api/v1/notifications/send`, through the outbox like any event."""

from __future__ import annotations

import uuid

from django.db import transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.notifications import events


@transaction.atomic
def notification_broadcast(
    *, actor: Actor, title: str, body: str, user_ids: list, organization_ids: list, roles: list[str]
) -> str:
    """Publish a `notification.broadcast` event; the fan-out tells its audience as any event's.
    Returns the broadcast's id (the event's aggregate)."""
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff send notifications.")
    if not user_ids and not organization_ids:
        raise ValidationFailed("Say whom to tell.", details={"user_ids": ["Give user_ids, organization_ids, or both."]})
    broadcast_id = str(uuid.uuid4())
    event = events.Broadcast(
        organization_id=None,
        broadcast_id=broadcast_id,
        title=title,
        body=body,
        user_ids=sorted(str(user_id) for user_id in user_ids),
        organization_ids=sorted(str(organization_id) for organization_id in organization_ids),
        roles=sorted(roles),
    )
    # The platform's own event belongs to no organization: written in the all-tenants scope.
    with system_scope(reason="notifications: staff broadcast", actor_id=actor.user_id):
        outbox_publish(event)
        audit_record(
            action="notification.broadcast",
            resource_type="broadcast",
            resource_id=broadcast_id,
            actor=actor,
            new_values={"title": title, "users": len(user_ids), "organizations": len(organization_ids), "roles": roles},
        )
    return broadcast_id
