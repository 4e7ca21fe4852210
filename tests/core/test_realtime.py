"""The real parts together: a Celery worker on the Redis broker relays outbox events,
and a WebSocket client connected to a real ASGI server receives them through
channels-redis. Everything here commits for real."""

import asyncio
import json
import socket
import threading
import time

import pytest
import uvicorn
import websockets
from celery.contrib.testing.worker import start_worker

from apps.accounts.tokens import issue_access_token
from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from config.celery import app as celery_app
from tests.factories import OrganizationFactory, member


@pytest.fixture
def celery_worker(committed):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        yield


@pytest.fixture
def asgi_server(committed):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config("config.asgi:application", host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "ASGI server did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


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
    token = issue_access_token(admin)

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
