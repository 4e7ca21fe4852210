"""A live offer arrives on the RUSHING expert's WebSocket, the whole way on real parts: the order
is created and committed, a real Celery worker relays `service_order.created` (matching, the
first offer round), then `service_order.offered` (the `service.offer` notification, stored and
pushed on `user.<id>` through channels-redis), to a real ASGI server's live feed. An expert who
was matched but not offered hears nothing."""

from __future__ import annotations

import asyncio
import json
import time

import websockets
from django.contrib.auth import get_user_model

from apps.accounts.services import session_start
from apps.core.context import user_scope
from apps.notifications.models import Notification
from tests.service.conftest import create_order
from tests.service.matching_support import make_expert, results_of


async def _user_feed(server: str, token: str, user_id) -> websockets.ClientConnection:
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/?token={token}", origin=f"http://{server}")
    await ws.recv()  # connected
    await ws.send(json.dumps({"action": "subscribe", "group": f"user.{user_id}"}))
    subscribed = json.loads(await ws.recv())
    assert subscribed == {"type": "subscribed", "group": f"user.{user_id}"}, subscribed
    return ws


async def _receive_until(ws, predicate, timeout: float = 30.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


async def _messages_for(ws, seconds: float) -> list[dict]:
    received = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return received


def _is_notification(message: dict) -> bool:
    return message.get("type") == "notification.created"


def test_the_rushing_expert_hears_the_offer_live_and_an_expert_not_offered_does_not(
    asgi_server, celery_worker, dispatcher, customer_organization, expert_organization
):
    # Given a rushing expert and an available one near the site, each with their live feed open
    rushing = make_expert(expert_organization, status="RUSHING", level="GOLD")
    available = make_expert(expert_organization)
    users = get_user_model().objects.in_bulk([rushing.user_id, available.user_id])
    rushing_token = session_start(user=users[rushing.user_id]).access
    available_token = session_start(user=users[available.user_id]).access

    async def scenario():
        rushing_feed = await _user_feed(asgi_server, rushing_token, rushing.user_id)
        available_feed = await _user_feed(asgi_server, available_token, available.user_id)
        try:
            # When the customer's dispatcher creates an URGENT order (committed: the worker takes over)
            order = await asyncio.to_thread(lambda: create_order(dispatcher, customer_organization, urgency="URGENT"))
            pushed = await _receive_until(rushing_feed, _is_notification)
            # ... and the other feed is listened to a while longer than the push took
            others = await _messages_for(available_feed, 3.0)
            return order, pushed, others
        finally:
            await rushing_feed.close()
            await available_feed.close()

    order, pushed, others = asyncio.run(scenario())

    # Then the rushing expert was told of the offer on their feed, as it was stored
    notification = pushed["notification"]
    assert notification["type"] == "service.offer"
    assert notification["title"] == f"URGENT service order {order.number}: Motor overheats"
    assert "first expert to accept gets it" in notification["body"]
    assert (notification["subject_type"], notification["subject_id"]) == ("service_order", str(order.id))
    with user_scope(rushing.user_id):
        assert Notification.objects.filter(user_id=rushing.user_id, type="service.offer").count() == 1
    # ... the available expert, matched but not offered, heard nothing of it
    assert [message for message in others if _is_notification(message)] == []
    with user_scope(available.user_id):
        assert not Notification.objects.filter(user_id=available.user_id).exists()
    offers = {result.target_id: result.offer_status for result in results_of(order)}
    assert offers == {rushing.id: "OFFERED", available.id: "NONE"}


def _is_offer_closed(message: dict) -> bool:
    return message.get("type") == "event" and message["event"]["event_type"] == "service_order.offer_closed"


def test_an_offer_the_customer_withdraws_leaves_the_experts_screen_live(
    asgi_server, celery_worker, dispatcher, customer_organization, expert_organization
):
    from apps.service import services
    from tests.service.conftest import as_member

    # Given a rushing expert offered an URGENT order, their live feed open
    rushing = make_expert(expert_organization, status="RUSHING", level="GOLD")
    token = session_start(user=get_user_model().objects.get(id=rushing.user_id)).access

    async def scenario():
        feed = await _user_feed(asgi_server, token, rushing.user_id)
        try:
            order = await asyncio.to_thread(lambda: create_order(dispatcher, customer_organization, urgency="URGENT"))
            await _receive_until(feed, _is_notification)
            # When the customer cancels it while the offer is open
            await asyncio.to_thread(
                lambda: as_member(
                    dispatcher,
                    customer_organization,
                    services.service_order_cancel,
                    service_order_id=order.id,
                    reason="Fixed it ourselves",
                )
            )
            return order, await _receive_until(feed, _is_offer_closed)
        finally:
            await feed.close()

    order, closed = asyncio.run(scenario())

    # Then the expert's feed says the offer is withdrawn, for that order
    payload = closed["event"]["payload"]
    assert (payload["service_order_id"], payload["outcome"]) == (str(order.id), "WITHDRAWN")
    assert payload["user_ids"] == [str(rushing.user_id)]
    assert {result.target_id: result.offer_status for result in results_of(order)} == {rushing.id: "WITHDRAWN"}
