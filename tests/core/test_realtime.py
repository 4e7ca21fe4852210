"""The real parts together: a Celery worker on the Redis broker relays outbox events,
and a WebSocket client connected to a real ASGI server receives them through
channels-redis. Everything here commits for real."""

import asyncio
import json

import pytest
import websockets

from apps.accounts.services import session_start
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from tests.factories import OrganizationFactory, member
from tests.support import wait_until


def published(event_type: str) -> bool:
    with system_scope(reason="test: poll outbox", audit=False):
        return OutboxEvent.objects.filter(event_type=event_type, published_at__isnull=False).exists()


def test_worker_relays_the_outbox_event_committed_by_an_api_call(celery_worker, api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin).patch(f"/api/v1/organizations/{organization.id}", {"name": "Renamed"}, format="json")

    assert response.status_code == 200
    assert wait_until(lambda: published("organization.updated")), "the worker never relayed the event"


async def _receive_until(ws, predicate, timeout=20.0):
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


def test_websocket_client_receives_its_organizations_events_end_to_end(asgi_server, celery_worker, api):
    organization, other = OrganizationFactory(), OrganizationFactory()
    admin = member(organization)
    token = session_start(user=admin).access

    async def scenario():
        url = f"ws://{asgi_server}/ws/v1/events/?token={token}"
        async with websockets.connect(url, origin=f"http://{asgi_server}") as ws:
            connected = json.loads(await ws.recv())
            await ws.send(json.dumps({"action": "subscribe", "group": f"org.{other.id}"}))
            refused = json.loads(await ws.recv())
            await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization.id}"}))
            subscribed = json.loads(await ws.recv())
            # The change goes through the API in another thread: outbox -> worker -> channel layer -> us.
            response = await asyncio.to_thread(
                lambda: api(admin).patch(f"/api/v1/organizations/{organization.id}", {"name": "Live"}, format="json")
            )
            event = await _receive_until(ws, lambda m: m.get("type") == "event")
            return connected, refused, subscribed, response, event

    connected, refused, subscribed, response, event = asyncio.run(scenario())

    assert connected == {"type": "connected", "organization_id": str(organization.id)}
    assert refused["error_code"] == "NOT_FOUND"
    assert subscribed == {"type": "subscribed", "group": f"org.{organization.id}"}
    assert response.status_code == 200
    assert event["event"]["event_type"] == "organization.updated"
    assert event["event"]["payload"] == {"changed_fields": ["name"]}


def test_websocket_without_a_valid_token_is_closed(asgi_server):
    async def scenario():
        url = f"ws://{asgi_server}/ws/v1/events/?token=forged"
        async with websockets.connect(url, origin=f"http://{asgi_server}") as ws:
            await ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        asyncio.run(scenario())
    assert closed.value.rcvd.code == 4401


def test_websocket_with_the_token_of_a_signed_out_session_is_closed(asgi_server):
    from apps.accounts.services import session_revoke

    user = member(OrganizationFactory())
    tokens = session_start(user=user)
    session_revoke(user_id=user.id, session_id=tokens.session_id)

    async def scenario():
        url = f"ws://{asgi_server}/ws/v1/events/?token={tokens.access}"
        async with websockets.connect(url, origin=f"http://{asgi_server}") as ws:
            await ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        asyncio.run(scenario())
    assert closed.value.rcvd.code == 4401


def test_a_malformed_message_is_refused_and_the_socket_stays_open(asgi_server):
    # given a signed-in socket (the token in the first message, never in the URL)
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access

    async def scenario():
        async with websockets.connect(f"ws://{asgi_server}/ws/v1/events/", origin=f"http://{asgi_server}") as ws:
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            await ws.recv()  # connected
            # when it sends JSON nested past the limit, a NUL, and something that is not JSON
            answers = []
            for text in ("[" * 50_000 + "]" * 50_000, '{"action": "subscribe", "group": "org.\\u0000"}', "{nope"):
                await ws.send(text)
                answers.append(json.loads(await ws.recv()))
            # then each is refused in turn, and the same socket still subscribes
            await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization.id}"}))
            return answers, json.loads(await ws.recv())

    answers, subscribed = asyncio.run(scenario())

    assert [answer["error_code"] for answer in answers] == ["VALIDATION_FIELD_INVALID"] * 3
    assert "nested" in answers[0]["message"]
    assert subscribed == {"type": "subscribed", "group": f"org.{organization.id}"}


@pytest.fixture
def quick_heartbeat(settings):
    settings.LIVE_FEED = {**settings.LIVE_FEED, "HEARTBEAT_INTERVAL": 0.5}


def _held_until_closed(server: str, token: str, organization_id, *, then) -> int:
    """Open a subscribed socket, run `then` (in a thread), and return the code the server closes it with."""

    async def scenario():
        async with websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}") as ws:
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            await ws.recv()  # connected
            await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization_id}"}))
            await ws.recv()  # subscribed
            await asyncio.to_thread(then)
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()  # heartbeats, until the server closes

    with pytest.raises(websockets.ConnectionClosed) as closed:
        asyncio.run(scenario())
    return closed.value.rcvd.code


def test_a_socket_is_closed_once_its_session_is_signed_out(asgi_server, quick_heartbeat):
    # given a member listening to their organization's feed
    from apps.accounts.services import session_revoke

    organization = OrganizationFactory()
    user = member(organization)
    tokens = session_start(user=user)

    # when they sign out elsewhere, then the open socket is closed as unauthenticated
    code = _held_until_closed(
        asgi_server,
        tokens.access,
        organization.id,
        then=lambda: session_revoke(user_id=user.id, session_id=tokens.session_id),
    )

    assert code == 4401


def test_a_socket_is_closed_once_its_member_leaves_the_organization(asgi_server, quick_heartbeat):
    # given a member listening to their organization's feed, and its admin
    from apps.tenancy.services import member_deactivate

    organization = OrganizationFactory()
    admin = member(organization)
    user = member(organization)
    token = session_start(user=user).access
    with system_scope(reason="test finds the membership", audit=False):
        membership = user.memberships.get(organization=organization)

    # when the admin takes them out of the organization, then the socket is closed as denied
    def deactivate():
        with tenant_scope(organization.id, user_id=admin.id):
            member_deactivate(membership=membership, actor=Actor(user_id=admin.id, organization_id=organization.id))

    code = _held_until_closed(asgi_server, token, organization.id, then=deactivate)

    assert code == 4403
