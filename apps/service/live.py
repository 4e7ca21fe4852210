"""Live offers on the experts' own feeds: a relayed `service_order.offered` or
`service_order.offer_closed` goes to `user.<id>` of each expert its payload names, as
`{"type": "event", "event": {...}}`. The offer also arrives as a `service.offer` notification;
the closing has no notification (it would be noise), and this is how an app takes an offer off
the screen the moment another expert took it, the customer assigned or cancelled the order, or
the round ended. Redis away: logged and dropped (the matches endpoint gives the offer's state)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.live_groups import event_message

logger = logging.getLogger(__name__)


def offer_deliver(event) -> None:
    """Outbox subscriber of `service_order.offered` and `.offer_closed` (idempotent for clients:
    the event id travels with it)."""
    user_ids = [str(user_id) for user_id in (event.payload.get("user_ids") or [])]
    if not user_ids:
        return
    layer = get_channel_layer()
    message = event_message(event)

    async def send_all():
        for user_id in user_ids:
            await layer.group_send(f"user.{user_id}", message)

    try:
        async_to_sync(send_all)()
    except REDIS_UNAVAILABLE as error:
        logger.warning("service.offer_push_failed", extra={"event_id": str(event.id), "error": repr(error)})
