"""What the live feed (apps.tenancy.consumers) does for other contexts, registered by the
context that owns the resource, so that none of them needs code in tenancy:

- who may listen to which group: one authorizer per group kind (`order.<id>` by orders,
  `thread.<id>` by chat, ...), run inside the socket's tenant scope;
- what else a socket may send: socket actions by name (`chat.typing`, `chat.send`, ...),
  each optionally tied to a group the socket must have joined first (`thread.<id>`), so an
  action on a resource is allowed exactly where listening to it is;
- what a context does when a socket joins or leaves one of its groups, and on each
  heartbeat while it stays (chat's presence): group hooks per kind.

The registries live in core so any context can fill them in its `AppConfig.ready` without
importing the consumer.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

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


# --- socket actions and group hooks -------------------------------------------------------


class LiveSocket(Protocol):
    """What an action handler or a group hook may use of the socket it runs for."""

    channel_name: str
    # Scratch space of the contexts for this socket's lifetime (e.g. chat's typing throttle);
    # key it by the context's name.
    state: dict

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def organization_id(self) -> uuid.UUID: ...

    def has_joined(self, group: str) -> bool:
        """Whether the socket subscribed to `group` (so it was authorized) and is still in it."""

    async def send_json(self, content, close: bool = False) -> None:
        """Send `content` to this socket only."""


ActionHandler = Callable[[LiveSocket, dict], Awaitable[None]]


@dataclass(frozen=True)
class SocketAction:
    # `handler(socket, message)` answers the socket itself (or not: typing answers nothing).
    # A DomainError it raises reaches the client as {"type": "error", "action", "error_code",
    # "message", "details"[, "client_id"][, "retry_after"]}, and the socket stays.
    handler: ActionHandler
    # `requires_group(message)` names the group the socket must have joined for this message
    # (`thread.<id>`); None when the message names no valid one. Either way, not joined:
    # NOT_FOUND, the answer a stranger gets for a resource that does not exist.
    requires_group: Callable[[dict], str | None] | None = None


_actions: dict[str, SocketAction] = {}


def register_socket_action(
    name: str, handler: ActionHandler, *, requires_group: Callable[[dict], str | None] | None = None
) -> None:
    """Let sockets send {"action": name, ...}; `subscribe` and `unsubscribe` are the feed's own."""
    if name in {"subscribe", "unsubscribe"}:
        raise ValueError(f"{name!r} is the live feed's own action")
    _actions[name] = SocketAction(handler=handler, requires_group=requires_group)


def socket_action(name: str) -> SocketAction | None:
    return _actions.get(name)


@dataclass(frozen=True)
class GroupHooks:
    """What a context does as sockets come and go in its groups. Each hook runs after the
    fact (joined: after {"type": "subscribed"} was sent), gets the resource id (the part
    after `<kind>.`), and must not assume it runs only once: a failed hook is logged, and
    the socket carries on."""

    # joined(socket, resource_id): the socket subscribed (it was authorized).
    joined: Callable[[LiveSocket, str], Awaitable[None]] | None = None
    # left(socket, resource_id): the socket unsubscribed, or closed while subscribed.
    left: Callable[[LiveSocket, str], Awaitable[None]] | None = None
    # alive(socket, resource_ids): on each heartbeat, every resource of this kind the socket
    # is subscribed to (LIVE_FEED["HEARTBEAT_INTERVAL"] apart while the socket lives).
    alive: Callable[[LiveSocket, list[str]], Awaitable[None]] | None = None


_hooks: dict[str, GroupHooks] = {}


def register_group_hooks(kind: str, **hooks) -> None:
    """`register_group_hooks("thread", joined=..., left=..., alive=...)`; any may be left out."""
    _hooks[kind] = GroupHooks(**hooks)


def group_hooks(kind: str) -> GroupHooks | None:
    return _hooks.get(kind)
