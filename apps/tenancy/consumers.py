"""The live events feed: /ws/v1/events/?token=<access token>[&organization=<id>].

After connecting, a client subscribes to groups named by resource:
    {"action": "subscribe", "group": "org.<organization id>"}
Each subscription is checked against what the connection's tenant may see
(other contexts add their resources, e.g. `order.<id>`, with
`register_group_authorizer`). Domain events relayed from the outbox arrive as
    {"type": "event", "event": {"id", "event_type", "aggregate_type", "aggregate_id", "payload"}}.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.context import Scope, activate
from apps.tenancy.selectors import active_memberships_of

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TENANT_DENIED = 4403

# group kind -> check(organization_id, resource_id) run inside the tenant's scope
_authorizers: dict[str, Callable[[uuid.UUID, str], bool]] = {
    "org": lambda organization_id, resource_id: resource_id == str(organization_id),
}


def register_group_authorizer(kind: str, check: Callable[[uuid.UUID, str], bool]) -> None:
    _authorizers[kind] = check


def organization_group(organization_id) -> str:
    return f"org.{organization_id}"


@database_sync_to_async
def _organization_for(user_id, requested: str | None):
    with activate(Scope(user_id=user_id)):
        memberships = {str(m.organization_id): m.organization_id for m in active_memberships_of(user_id=user_id)}
    if requested:
        return memberships.get(requested)
    return next(iter(memberships.values())) if len(memberships) == 1 else None


@database_sync_to_async
def _may_subscribe(user_id, organization_id, group: str) -> bool:
    kind, _, resource_id = group.partition(".")
    check = _authorizers.get(kind)
    if check is None or not resource_id:
        return False
    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        return bool(check(organization_id, resource_id))


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope["user"]
        # Accept, then close with a reason code: a refused handshake would tell the client nothing.
        if not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        requested = parse_qs(self.scope.get("query_string", b"").decode()).get("organization", [None])[0]
        self.organization_id = await _organization_for(user.id, requested)
        if self.organization_id is None:
            await self.accept()
            await self.close(code=CLOSE_TENANT_DENIED)
            return
        self.groups_joined: set[str] = set()
        await self.accept()
        await self.send_json({"type": "connected", "organization_id": str(self.organization_id)})

    async def receive_json(self, content, **kwargs):
        action, group = content.get("action"), str(content.get("group", ""))
        if action not in {"subscribe", "unsubscribe"} or not group:
            await self.send_json(
                {
                    "type": "error",
                    "error_code": "VALIDATION_FIELD_INVALID",
                    "message": 'Send {"action": "subscribe"|"unsubscribe", "group": "<kind>.<id>"}.',
                }
            )
            return
        if action == "unsubscribe":
            if group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.discard(group)
            await self.send_json({"type": "unsubscribed", "group": group})
            return
        if not await _may_subscribe(self.scope["user"].id, self.organization_id, group):
            # Same answer for "does not exist" and "not yours": cross-tenant reads are 404s.
            await self.send_json(
                {"type": "error", "error_code": "NOT_FOUND", "group": group, "message": "No such resource."}
            )
            return
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)
        await self.send_json({"type": "subscribed", "group": group})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def event_message(self, message):
        await self.send_json({"type": "event", "event": message["event"]})
