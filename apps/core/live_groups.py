"""Who may listen to which live-feed group: one authorizer per group kind, registered by the
context that owns the resource (`order.<id>` by orders, `thread.<id>` by chat, ...).

The registry lives in core so any context can register without importing the consumer
(apps.tenancy.consumers), which runs each check inside the socket's tenant scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

GroupAuthorizer = Callable[[uuid.UUID, str], bool]

_authorizers: dict[str, GroupAuthorizer] = {}


def register_group_authorizer(kind: str, check: GroupAuthorizer) -> None:
    """`check(organization_id, resource_id)` says whether that tenant may see the resource;
    it runs in the tenant's scope, so a query that finds no row answers no."""
    _authorizers[kind] = check


def group_authorizer(kind: str) -> GroupAuthorizer | None:
    return _authorizers.get(kind)


def event_message(event) -> dict:
    """The channel-layer message that brings a relayed outbox event to a group's sockets: they
    send `{"type": "event", "event": {...}}` (the event id travels with it: delivery is at
    least once, clients drop what they have seen)."""
    return {
        "type": "event.message",
        "event": {
            "id": str(event.id),
            "event_type": event.event_type,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
        },
    }


def live_message(content: dict) -> dict:
    """The channel-layer message for what a context pushes to a group directly, not through the
    outbox (a shipment's position): the sockets send `content` as it is."""
    return {"type": "live.message", "content": content}
