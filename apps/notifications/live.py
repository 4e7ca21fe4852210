"""In-app notifications as they happen: pushed to the person's live feed, `user.<id>`.

A socket of the live feed (apps.tenancy.consumers) may join `user.<id>` for its own user only.
Each new in-app notification arrives there after commit as `{"type": "notification.created",
"notification": {id, type, title, body, subject_type, subject_id, organization_id, created_at}}`
(no unread count: it would cost a read per person; the list endpoint gives it).
Pushed directly (the stored row is the one that cannot be lost); a push that fails (Redis away)
is logged and dropped: clients catch up with `GET /api/v1/notifications`.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.context import current_user_id
from apps.core.live_groups import live_message

logger = logging.getLogger(__name__)


def user_group(user_id) -> str:
    return f"user.{user_id}"


def user_may_listen(organization_id: UUID, resource_id: str) -> bool:
    """`user.<id>` is its own person's alone, whichever organization the socket acts for."""
    return str(current_user_id()) == resource_id


def notification_message(notification) -> dict:
    return live_message(
        {
            "type": "notification.created",
            "notification": {
                "id": str(notification.id),
                "type": notification.type,
                "title": notification.title,
                "body": notification.body,
                "subject_type": notification.subject_type,
                "subject_id": notification.subject_id,
                "organization_id": str(notification.organization_id) if notification.organization_id else None,
                "created_at": notification.created_at.isoformat() if notification.created_at else None,
            },
        }
    )


async def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    # Concurrently: one after another, fifty people's pushes cost fifty round trips to Redis.
    results = await asyncio.gather(
        *(layer.group_send(group, message) for group, message in messages), return_exceptions=True
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise failures[0]


def notifications_push(notifications) -> None:
    """Send each notification to its person's live feed (one event loop hop for all of them)."""
    messages = [(user_group(n.user_id), notification_message(n)) for n in notifications]
    if not messages:
        return
    try:
        async_to_sync(_send_all)(messages)
    except REDIS_UNAVAILABLE as error:
        logger.warning("notifications.live_push_failed", extra={"count": len(messages), "error": repr(error)})
