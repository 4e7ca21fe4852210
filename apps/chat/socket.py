"""Chat over the live feed's WebSocket (/ws/v1/events/, apps.tenancy.consumers): chat's socket
actions, and presence as sockets join and leave `thread.<id>` (apps.chat.presence).

Every action names a thread the socket has subscribed to first
({"action": "subscribe", "group": "thread.<id>"}, checked by chat's group authorizer); any
other thread, existing or not, answers {"type": "error", "action", "error_code": "NOT_FOUND"}.

    {"action": "chat.typing", "thread_id"}
        -> the thread hears {"type": "user.typing", "thread_id", "user_id"}; never stored; at
           most one per socket and thread per CHAT_LIVE["TYPING_INTERVAL"] (more are dropped
           silently).
    {"action": "chat.send", "thread_id", "text", "attachment_ids"?, "client_id"?}
        -> services.message_send, as POST .../messages does (attachments uploaded before
           through .../attachments); the sender gets {"type": "chat.sent", "client_id",
           "message": <the REST answer to the sender: the message and moderation's notice>},
           the thread {"type": "message.sent", ...} once it is stored. Refused:
           {"type": "error", "action", "error_code", "message", "details", "client_id"
           [, "retry_after"]} (RATE_LIMIT_EXCEEDED carries retry_after, in seconds).
    {"action": "chat.read", "thread_id", "message_id"?, "client_id"?}
        -> services.thread_read (up to the newest message without message_id); the thread
           hears {"type": "message.read", ...} when the marker moved; the reader gets
           {"type": "chat.read", "client_id", "thread_id", "last_read_seq"}.
    {"action": "chat.received", "thread_id", "message_id"}
        -> the thread hears {"type": "message.received", "thread_id", "message_id", "user_id"}
           (delivery acknowledgement; not stored); NOT_FOUND when the message is not the thread's.

Sending, reading and acknowledging run the same checks and services as the REST API, in the
socket's tenant scope, as the socket's member (Actor.of the membership, looked up again for
each: a member who left or whose role changed is judged as they are now): the `chat` feature
on (else FEATURE_DISABLED), `chat:create` to send and `chat:read` to read or acknowledge
(else RBAC_PERMISSION_DENIED), the thread visible to them (else NOT_FOUND). Typing touches no
database: the subscription was authorized, and the feed's heartbeat closes a socket whose
session or membership ended.
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
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from apps.chat import presence, selectors, services
from apps.chat.api.serializers import MessageInput, ReadInput, SentMessageOutput
from apps.chat.live import thread_group
from apps.core.actors import Actor
from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.context import Scope, activate
from apps.core.errors import FeatureDisabled, NotFound, PermissionDenied, ValidationFailed
from apps.core.live_groups import LiveSocket, live_message, register_group_hooks, register_socket_action
from apps.tenancy.resolver import memberships_by_organization
from apps.tenancy.roles import Grant, actor_grant
from apps.tenancy.selectors import feature_is_active

logger = logging.getLogger(__name__)

FEATURE = "chat"


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
    return thread_group(thread_id) if thread_id is not None else None


def _thread_id(message: dict) -> uuid.UUID:
    # requires_group has checked it already: the socket joined this thread's group.
    return uuid.UUID(str(message["thread_id"]))


def _validated(serializer_class, data: dict) -> dict:
    """The REST input's own field rules, refused in the live feed's error shape."""
    serializer = serializer_class(data=data)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as error:
        raise ValidationFailed("The message has invalid or missing fields.", details=error.detail) from None
    return serializer.validated_data


def _jsonable(data) -> dict:
    # The REST serializer's data may hold UUIDs and dates: render it as the API does.
    return json.loads(JSONRenderer().render(data))


async def _to_thread_group(thread_id, content: dict) -> None:
    """What the thread's sockets hear now, never stored (as apps.chat.live.thread_send, from async)."""
    try:
        await get_channel_layer().group_send(thread_group(thread_id), live_message(content))
    except REDIS_UNAVAILABLE as error:
        logger.warning("chat.live_push_failed", extra={"thread_id": str(thread_id), "error": repr(error)})


def _monotonic() -> float:
    return asyncio.get_running_loop().time()


# --- actions ------------------------------------------------------------------------------


async def typing(socket: LiveSocket, message: dict) -> None:
    """Tell the thread the user is typing, at most once per TYPING_INTERVAL per socket."""
    thread_id = str(_thread_id(message))
    last_told = socket.state.setdefault("chat.typing", {})
    now = _monotonic()
    if now - last_told.get(thread_id, -math.inf) < float(settings.CHAT_LIVE["TYPING_INTERVAL"]):
        return
    last_told[thread_id] = now
    content = {"type": "user.typing", "thread_id": thread_id, "user_id": str(socket.user_id)}
    await _to_thread_group(thread_id, content)


async def send(socket: LiveSocket, message: dict) -> None:
    """Post a message to the thread with the REST API's service; answer the sender with it."""
    data = _validated(MessageInput, {key: message[key] for key in ("text", "attachment_ids") if key in message})
    sent = await _message_send(
        user_id=socket.user_id,
        organization_id=socket.organization_id,
        thread_id=_thread_id(message),
        text=data["text"],
        attachment_ids=data["attachment_ids"],
    )
    await socket.send_json({"type": "chat.sent", "client_id": message.get("client_id"), "message": sent})


async def read(socket: LiveSocket, message: dict) -> None:
    """Mark the thread read up to a message (the thread hears message.read from the service)."""
    thread_id = _thread_id(message)
    data = _validated(ReadInput, {"message_id": message.get("message_id")})
    last_read_seq = await _thread_read(
        user_id=socket.user_id,
        organization_id=socket.organization_id,
        thread_id=thread_id,
        message_id=data["message_id"],
    )
    await socket.send_json(
        {
            "type": "chat.read",
            "client_id": message.get("client_id"),
            "thread_id": str(thread_id),
            "last_read_seq": last_read_seq,
        }
    )


async def received(socket: LiveSocket, message: dict) -> None:
    """Tell the thread this user's client has the message (a delivery acknowledgement)."""
    thread_id = _thread_id(message)
    message_id = _validated(ReadInput, {"message_id": message.get("message_id")})["message_id"]
    if message_id is None:
        raise ValidationFailed("message_id is required.", details={"message_id": ["This field is required."]})
    known = await _message_in_thread(
        user_id=socket.user_id, organization_id=socket.organization_id, thread_id=thread_id, message_id=message_id
    )
    if not known:
        raise NotFound("Message not found.")
    content = {
        "type": "message.received",
        "thread_id": str(thread_id),
        "message_id": str(message_id),
        "user_id": str(socket.user_id),
    }
    await _to_thread_group(thread_id, content)


# --- the services, in the socket's tenant scope, with the REST API's checks ---------------


def _actor(*, user_id, organization_id, permission: str) -> Actor:
    """The socket's member as they are now, allowed `permission` with the feature on."""
    membership = memberships_by_organization(user_id=user_id).get(organization_id)
    if membership is None:  # left the organization since the socket connected
        raise NotFound("Thread not found.")
    if not feature_is_active(organization_id=organization_id, name=FEATURE):
        raise FeatureDisabled(f"The feature {FEATURE!r} is not enabled for this organization.")
    actor = Actor.of(membership, user_id=user_id)
    if actor_grant(actor, permission) is Grant.NONE:
        raise PermissionDenied(f"Your role does not allow {permission}.")
    return actor


@database_sync_to_async
def _message_send(*, user_id, organization_id, thread_id, text, attachment_ids) -> dict:
    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        actor = _actor(user_id=user_id, organization_id=organization_id, permission="chat:create")
        sent = services.message_send(actor=actor, thread_id=thread_id, text=text, attachment_ids=attachment_ids)
        return _jsonable(SentMessageOutput(sent).data)


@database_sync_to_async
def _thread_read(*, user_id, organization_id, thread_id, message_id) -> int:
    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        actor = _actor(user_id=user_id, organization_id=organization_id, permission="chat:read")
        participant = services.thread_read(actor=actor, thread_id=thread_id, message_id=message_id)
        return participant.last_read_seq if participant is not None else 0


@database_sync_to_async
def _message_in_thread(*, user_id, organization_id, thread_id, message_id) -> bool:
    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        actor = _actor(user_id=user_id, organization_id=organization_id, permission="chat:read")
        selectors.thread_for_actor(actor=actor, thread_id=thread_id)  # an :own grant sees its threads only
        return selectors.message_in_thread(organization_id=organization_id, thread_id=thread_id, message_id=message_id)
