"""Chat over the live feed's WebSocket (/ws/v1/events/, apps.tenancy.consumers): chat's socket
actions, and presence as sockets join and leave `thread.<id>` (apps.chat.presence).

Every action names a thread the socket has subscribed to first
({"action": "subscribe", "group": "thread.<id>"}, checked by chat's group authorizer); any
other thread, existing or not, answers {"type": "error", "action", "error_code": "NOT_FOUND"}.

    {"action": "chat.typing", "thread_id"}
        -> the thread hears {"type": "user.typing", "thread_id", "user_id"}; never stored; at
           most one per socket and thread per CHAT_LIVE["TYPING_INTERVAL"] (more are dropped
           silently).
    {"action": "chat.send", "thread_id", "text", "client_id"?}
        -> services.message_send, as POST .../messages does; the sender gets
           {"type": "chat.sent", "client_id", "message": <the REST shape of the message>},
           the thread {"type": "message.sent", ...} once it is stored. Refused:
           {"type": "error", "action", "error_code", "message", "details", "client_id"
           [, "retry_after"]} (RATE_LIMIT_EXCEEDED carries retry_after, in seconds).
    {"action": "chat.read", "thread_id", "message_id", "client_id"?}
        -> services.thread_read; the thread hears {"type": "message.read", ...}; the reader
           gets {"type": "chat.read", "client_id", "thread_id", "message_id"}.
    {"action": "chat.received", "thread_id", "message_id"}
        -> the thread hears {"type": "message.received", "thread_id", "message_id", "user_id"}
           (delivery acknowledgement; not stored); NOT_FOUND when the message is not the thread's.

Writes run the same services as the REST API, in the socket's tenant scope and as the
socket's member (Actor.of its membership, looked up again for each write: a member who left
is refused, not the socket's memory of them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from apps.chat import presence
from apps.core.actors import Actor
from apps.core.context import Scope, activate
from apps.core.errors import ErrorCode, NotFound, ValidationFailed
from apps.core.live_groups import LiveSocket, live_message, register_group_hooks, register_socket_action
from apps.tenancy.resolver import memberships_by_organization

logger = logging.getLogger(__name__)


def register() -> None:
    """Chat's part of the live feed; called once, from ChatConfig.ready()."""
    register_socket_action("chat.typing", typing, requires_group=thread_group_of)
    register_socket_action("chat.send", send, requires_group=thread_group_of)
    register_socket_action("chat.read", read, requires_group=thread_group_of)
    register_socket_action("chat.received", received, requires_group=thread_group_of)
    register_group_hooks("thread", joined=presence.joined, left=presence.left, alive=presence.alive)


def thread_group_of(message: dict) -> str | None:
    """The group an action's message must have been subscribed to: `thread.<thread_id>`."""
    thread_id = presence.canonical_thread_id(message.get("thread_id"))
    return presence.thread_group(thread_id) if thread_id is not None else None


def _thread_id(message: dict) -> uuid.UUID:
    # requires_group has checked it already: the socket joined this thread's group.
    return uuid.UUID(str(message["thread_id"]))


def _message_id(message: dict) -> uuid.UUID:
    value = message.get("message_id")
    if value is None:
        raise ValidationFailed(
            "message_id is required.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"message_id": ["Required."]}
        )
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("message_id must be a UUID.", details={"message_id": ["Must be a UUID."]}) from None


async def _to_thread_group(thread_id, content: dict) -> None:
    await get_channel_layer().group_send(presence.thread_group(thread_id), live_message(content))


def _jsonable(data) -> dict:
    # The REST serializer's data may hold UUIDs, decimals or dates: make it what a socket sends.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# --- actions ------------------------------------------------------------------------------


async def typing(socket: LiveSocket, message: dict) -> None:
    """Tell the thread the user is typing, at most once per TYPING_INTERVAL per socket."""
    thread_id = str(_thread_id(message))
    last_told = socket.state.setdefault("chat.typing", {})
    now = _monotonic()
    if now - last_told.get(thread_id, -math.inf) < float(settings.CHAT_LIVE["TYPING_INTERVAL"]):
        return
    last_told[thread_id] = now
    await _to_thread_group(thread_id, {"type": "user.typing", "thread_id": thread_id, "user_id": str(socket.user_id)})


def _monotonic() -> float:
    return asyncio.get_running_loop().time()


async def send(socket: LiveSocket, message: dict) -> None:
    """Post a message to the thread with the REST API's service; answer the sender with it."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValidationFailed(
            "text is required.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"text": ["Required."]}
        )
    stored = await _message_send(
        user_id=socket.user_id, organization_id=socket.organization_id, thread_id=_thread_id(message), text=text
    )
    await socket.send_json({"type": "chat.sent", "client_id": message.get("client_id"), "message": stored})


async def read(socket: LiveSocket, message: dict) -> None:
    """Mark the thread read up to a message (the thread hears message.read from the service)."""
    thread_id, message_id = _thread_id(message), _message_id(message)
    await _thread_read(
        user_id=socket.user_id, organization_id=socket.organization_id, thread_id=thread_id, message_id=message_id
    )
    await socket.send_json(
        {
            "type": "chat.read",
            "client_id": message.get("client_id"),
            "thread_id": str(thread_id),
            "message_id": str(message_id),
        }
    )


async def received(socket: LiveSocket, message: dict) -> None:
    """Tell the thread this user's client has the message (a delivery acknowledgement)."""
    thread_id, message_id = _thread_id(message), _message_id(message)
    known = await _message_in_thread(
        user_id=socket.user_id, organization_id=socket.organization_id, thread_id=thread_id, message_id=message_id
    )
    if not known:
        raise NotFound("No such resource.")
    await _to_thread_group(
        thread_id,
        {
            "type": "message.received",
            "thread_id": str(thread_id),
            "message_id": str(message_id),
            "user_id": str(socket.user_id),
        },
    )


# --- the services, in the socket's tenant scope -------------------------------------------


def _actor(*, user_id, organization_id) -> Actor:
    membership = memberships_by_organization(user_id=user_id).get(organization_id)
    if membership is None:  # left the organization since the socket connected
        raise NotFound("No such resource.")
    return Actor.of(membership, user_id=user_id)


@database_sync_to_async
def _message_send(*, user_id, organization_id, thread_id, text) -> dict:
    from apps.chat import services
    from apps.chat.api.serializers import MessageOutput

    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        actor = _actor(user_id=user_id, organization_id=organization_id)
        stored = services.message_send(actor=actor, thread_id=thread_id, text=text)
        return _jsonable(MessageOutput(stored).data)


@database_sync_to_async
def _thread_read(*, user_id, organization_id, thread_id, message_id) -> None:
    from apps.chat import services

    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        actor = _actor(user_id=user_id, organization_id=organization_id)
        services.thread_read(actor=actor, thread_id=thread_id, message_id=message_id)


@database_sync_to_async
def _message_in_thread(*, user_id, organization_id, thread_id, message_id) -> bool:
    from apps.chat import selectors

    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        return selectors.message_in_thread(organization_id=organization_id, thread_id=thread_id, message_id=message_id)
