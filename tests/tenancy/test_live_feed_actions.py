"""Other contexts' socket actions and group hooks on the live feed (apps.core.live_groups), over
a real WebSocket to a real ASGI server in this process, with a group kind this module registers:
`probe.<id>`, which any member may join when the id starts with "open-"."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import websockets

from apps.accounts.services import session_start
from apps.core.errors import DomainError, ErrorCode
from apps.core.live_groups import register_group_authorizer, register_group_hooks, register_socket_action
from tests.factories import OrganizationFactory, member
from tests.support import wait_until

# What the hooks saw, from the server's thread: (hook, user id, resource id(s)).
seen: list[tuple] = []
seen_lock = threading.Lock()


def _record(*entry) -> None:
    with seen_lock:
        seen.append(entry)


def _seen(hook: str) -> list[tuple]:
    with seen_lock:
        return [entry for entry in seen if entry[0] == hook]


async def _echo(socket, message):
    await socket.send_json({"type": "probe.echoed", "id": message["id"], "client_id": message.get("client_id")})


async def _refuse(socket, message):
    raise DomainError("Slow down.", code=ErrorCode.RATE_LIMIT_EXCEEDED, status_code=429, headers={"Retry-After": "7"})


async def _crash(socket, message):
    raise RuntimeError("a bug in a context")


async def _joined(socket, resource_id):
    _record("joined", str(socket.user_id), resource_id)
    await socket.send_json({"type": "probe.joined", "id": resource_id})


async def _left(socket, resource_id):
    _record("left", str(socket.user_id), resource_id)


async def _alive(socket, resource_ids):
    _record("alive", str(socket.user_id), tuple(resource_ids))


def _probe_group(message: dict) -> str | None:
    return f"probe.{message['id']}" if isinstance(message.get("id"), str) else None


register_group_authorizer("probe", lambda organization_id, resource_id: resource_id.startswith("open-"))
register_socket_action("probe.echo", _echo, requires_group=_probe_group)
register_socket_action("probe.refuse", _refuse, requires_group=_probe_group)
register_socket_action("probe.crash", _crash)
register_group_hooks("probe", joined=_joined, left=_left, alive=_alive)


@pytest.fixture
def person(committed):
    user = member(OrganizationFactory())
    return user, session_start(user=user).access


async def _feed(server: str, token: str):
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/", origin=f"http://{server}")
    await ws.send(json.dumps({"type": "authenticate", "token": token}))
    assert json.loads(await ws.recv())["type"] == "connected"
    return ws


async def _next(ws, kind: str) -> dict:
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def _ask(ws, message: dict) -> dict:
    """Send one message and return the next answer that is not a heartbeat."""
    await ws.send(json.dumps(message))
    async with asyncio.timeout(10):
        while True:
            answer = json.loads(await ws.recv())
            if answer["type"] != "heartbeat":
                return answer


def test_an_action_on_a_group_answers_not_found_until_the_socket_has_joined_it(asgi_server, person):
    _user, token = person

    async def scenario():
        async with await _feed(asgi_server, token) as ws:
            before = await _ask(ws, {"action": "probe.echo", "id": "open-1", "client_id": "c1"})
            subscribed = await _ask(ws, {"action": "subscribe", "group": "probe.open-1"})
            joined = await _next(ws, "probe.joined")
            after = await _ask(ws, {"action": "probe.echo", "id": "open-1", "client_id": "c2"})
            elsewhere = await _ask(ws, {"action": "probe.echo", "id": "open-2"})
            return before, subscribed, joined, after, elsewhere

    before, subscribed, joined, after, elsewhere = asyncio.run(scenario())

    assert before["type"] == "error" and before["error_code"] == "NOT_FOUND"
    assert before["action"] == "probe.echo" and before["client_id"] == "c1"
    assert subscribed == {"type": "subscribed", "group": "probe.open-1"}
    assert joined == {"type": "probe.joined", "id": "open-1"}
    assert after == {"type": "probe.echoed", "id": "open-1", "client_id": "c2"}
    assert elsewhere["error_code"] == "NOT_FOUND"


def test_a_refused_subscription_does_not_open_the_groups_actions(asgi_server, person):
    user, token = person

    async def scenario():
        async with await _feed(asgi_server, token) as ws:
            refused = await _ask(ws, {"action": "subscribe", "group": "probe.secret"})
            action = await _ask(ws, {"action": "probe.echo", "id": "secret"})
            return refused, action

    refused, action = asyncio.run(scenario())

    assert refused["error_code"] == "NOT_FOUND"
    assert action["error_code"] == "NOT_FOUND"
    assert ("joined", str(user.id), "secret") not in _seen("joined")


def test_a_refusal_or_a_bug_in_an_action_is_answered_and_the_socket_stays(asgi_server, person):
    _user, token = person

    async def scenario():
        async with await _feed(asgi_server, token) as ws:
            await _ask(ws, {"action": "subscribe", "group": "probe.open-3"})
            await _next(ws, "probe.joined")
            refused = await _ask(ws, {"action": "probe.refuse", "id": "open-3", "client_id": "send-9"})
            crashed = await _ask(ws, {"action": "probe.crash"})
            bad_client_id = await _ask(ws, {"action": "probe.echo", "id": "open-3", "client_id": {"nested": 1}})
            unknown = await _ask(ws, {"action": "probe.nothing"})
            still_there = await _ask(ws, {"action": "probe.echo", "id": "open-3"})
            return refused, crashed, bad_client_id, unknown, still_there

    refused, crashed, bad_client_id, unknown, still_there = asyncio.run(scenario())

    assert refused == {
        "type": "error",
        "action": "probe.refuse",
        "error_code": "RATE_LIMIT_EXCEEDED",
        "message": "Slow down.",
        "details": {},
        "client_id": "send-9",
        "retry_after": 7,
    }
    assert crashed["error_code"] == "INTERNAL_SERVER_ERROR" and "bug" not in crashed["message"]
    assert bad_client_id["error_code"] == "VALIDATION_FIELD_INVALID" and "client_id" not in bad_client_id
    assert unknown["error_code"] == "VALIDATION_FIELD_INVALID"
    assert still_there["type"] == "probe.echoed"


def test_hooks_hear_unsubscribe_heartbeats_and_close(asgi_server, person, settings):
    # given a heartbeat every second and a socket in two probe groups
    settings.LIVE_FEED = {**settings.LIVE_FEED, "HEARTBEAT_INTERVAL": 1}
    user, token = person
    user_id = str(user.id)

    async def scenario():
        ws = await _feed(asgi_server, token)
        for resource_id in ("open-a", "open-b", "open-c"):
            await _ask(ws, {"action": "subscribe", "group": f"probe.{resource_id}"})
            await _next(ws, "probe.joined")
        # when it leaves one, lives through heartbeats (the second began after the leaving), and closes
        await _ask(ws, {"action": "unsubscribe", "group": "probe.open-c"})
        await _next(ws, "heartbeat")
        await _next(ws, "heartbeat")
        await ws.close()

    asyncio.run(scenario())

    # then: joined thrice, alive with the two it kept, left for the one it dropped and then the rest
    assert [entry[2] for entry in _seen("joined") if entry[1] == user_id] == ["open-a", "open-b", "open-c"]
    assert ("alive", user_id, ("open-a", "open-b")) in _seen("alive")
    assert wait_until(lambda: len([entry for entry in _seen("left") if entry[1] == user_id]) == 3, timeout=10)
    left = [entry[2] for entry in _seen("left") if entry[1] == user_id]
    assert left[0] == "open-c" and sorted(left[1:]) == ["open-a", "open-b"]
