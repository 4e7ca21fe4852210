"""What the sockets of a thread see as it happens: pushed to `thread.<id>` after commit.

A message sent, edited, deleted or hidden arrives as `{"type": "message.sent" | "message.updated" |
"message.deleted" | "message.hidden", "thread_id", "message": {...}}` in the REST shape of a
message (apps.chat.api.serializers.MessageOutput); a read receipt as `{"type": "message.read",
"thread_id", "user_id", "message_id", "seq", "read_at"}`. Pushed directly, not relayed from the
outbox: a message must reach the other side in well under 100 ms (docs/benchmarks.md "chat"),
and the outbox copy of each (apps/chat/events.py) is the one that cannot be lost. A push that
fails (Redis away) is logged and dropped: clients catch up through the history.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.live_groups import live_message

logger = logging.getLogger(__name__)


def thread_group(thread_id) -> str:
    return f"thread.{thread_id}"


def thread_send(thread_id, content: dict) -> None:
    """Send `content` to the sockets subscribed to the thread, now."""
    try:
        async_to_sync(get_channel_layer().group_send)(thread_group(thread_id), live_message(content))
    except REDIS_UNAVAILABLE as error:
        logger.warning("chat.live_push_failed", extra={"thread_id": str(thread_id), "error": repr(error)})


def thread_push_on_commit(thread_id, content: dict) -> None:
    """After the caller's transaction commits, send `content` to the thread's sockets (built
    by the caller inside its transaction: after commit no tenant scope reads the rows)."""
    transaction.on_commit(lambda: thread_send(thread_id, content))


def message_content(kind: str, message) -> dict:
    from apps.chat.api.serializers import MessageOutput

    return {"type": kind, "thread_id": str(message.thread_id), "message": MessageOutput(message).data}
