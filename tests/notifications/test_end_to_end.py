"""The whole way, on real parts: an API call commits an outbox event, a real Celery worker relays it,
the fan-out stores the notification and pushes it to the person's WebSocket (`user.<id>` on a real
ASGI server), and the e-mail task sends it over SMTP to the mail catcher."""

from __future__ import annotations

import asyncio
import json

import websockets

from apps.accounts.services import session_start
from apps.core.context import user_scope
from apps.notifications.models import Delivery, Notification
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.support import wait_until


async def _receive_until(ws, predicate, timeout=20.0):
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


async def _user_feed(server, token, user_id):
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/?token={token}", origin=f"http://{server}")
    await ws.recv()  # connected
    await ws.send(json.dumps({"action": "subscribe", "group": f"user.{user_id}"}))
    subscribed = json.loads(await ws.recv())
    assert subscribed.get("type") != "error", subscribed
    return ws


def test_a_staff_broadcast_reaches_the_live_feed_and_the_mailbox(
    asgi_server, celery_worker, api, notification_sandboxes
):
    organization = OrganizationFactory(name="Baltic Shippers")
    reader = member(organization, Role.SHIPPER)
    bystander = member(organization, Role.WAREHOUSE_STAFF)
    staff = UserFactory(is_staff=True)
    token = session_start(user=reader).access

    async def scenario():
        feed = await _user_feed(asgi_server, token, reader.id)
        try:
            response = await asyncio.to_thread(
                lambda: api(staff).post(
                    "/api/v1/notifications/send",
                    {
                        "title": "Maintenance on Sunday",
                        "body": "Read-only 02:00-03:00 UTC.",
                        "organization_ids": [str(organization.id)],
                        "roles": ["shipper"],
                    },
                    format="json",
                )
            )
            pushed = await _receive_until(feed, lambda m: m.get("type") == "notification.created")
            return response, pushed
        finally:
            await feed.close()

    response, pushed = asyncio.run(scenario())

    assert response.status_code == 202, response.json()
    assert pushed["notification"]["title"] == "Maintenance on Sunday"
    assert pushed["notification"]["type"] == "system.alert"
    [mail] = notification_sandboxes.mail.wait_for(reader.email, timeout=20)
    assert mail["subject"] == "Maintenance on Sunday"
    assert mail["text"].strip() == "Read-only 02:00-03:00 UTC."

    def sent() -> bool:
        with user_scope(reader.id):
            return Delivery.objects.filter(user=reader, channel="email", status="sent").exists()

    wait_until(sent)
    listed = api(reader).get("/api/v1/notifications").json()
    assert [item["id"] for item in listed["data"]] == [pushed["notification"]["id"]]
    assert listed["meta"]["unread_count"] == 1
    with user_scope(bystander.id):
        assert not Notification.objects.filter(user=bystander).exists()  # not a shipper
    assert notification_sandboxes.mail.messages(bystander.email) == []


def test_a_socket_cannot_listen_to_another_persons_notifications(asgi_server, committed):
    organization = OrganizationFactory()
    snoop, victim = member(organization, Role.SHIPPER), member(organization, Role.SHIPPER)
    token = session_start(user=snoop).access

    async def scenario():
        ws = await websockets.connect(f"ws://{asgi_server}/ws/v1/events/?token={token}", origin=f"http://{asgi_server}")
        try:
            await ws.recv()  # connected
            await ws.send(json.dumps({"action": "subscribe", "group": f"user.{victim.id}"}))
            return json.loads(await ws.recv())
        finally:
            await ws.close()

    answer = asyncio.run(scenario())

    assert answer.get("type") == "error", answer
