"""Chat over real WebSockets on real ASGI processes (uvicorn, this run's PostgreSQL and Redis): the
shipper's user on one process, the carrier's on another, both subscribed to `thread.<id>`.
Typing, presence (online, offline, a process killed without goodbye), sending, read receipts and
delivery acknowledgements cross between them; a third organization learns nothing.

No timing asserts: every wait is bounded and ends on a message; an absence is shown by a later
message that the same sender sent after it (the group keeps one sender's order)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from channels.layers import get_channel_layer
from django.conf import settings

from apps.accounts.services import session_start
from apps.chat.models import Message
from apps.chat.tasks import chat_presence_sweep
from apps.core.context import tenant_scope
from apps.core.live_groups import live_message
from tests.chat.factories import send
from tests.support import free_port, wait_until, web_processes
from tests.tracking.live_support import feed, receive_until, subscribe

# The servers' live settings: a heartbeat a second, presence that expires three seconds after
# the last one; typing throttled far beyond any test's length, so a second one is always dropped.
LIVE_ENVIRONMENT = {"LIVE_FEED_HEARTBEAT_INTERVAL": "1", "CHAT_PRESENCE_EXPIRY": "3", "CHAT_TYPING_INTERVAL": "600"}


def _server_environment(database_name: str, **extra: str) -> dict[str, str]:
    database_url = urlunsplit(urlsplit(settings.APP_DATABASE_URL)._replace(path=f"/{database_name}"))
    return {"APP_DATABASE_URL": database_url, "DB_POOL": "false", **LIVE_ENVIRONMENT, **extra}


@pytest.fixture
def two_servers(committed, django_db_setup):
    """Two uvicorn processes of the project on this test run's database and Redis."""
    with web_processes(2, **_server_environment(django_db_setup)) as bases:
        yield [urlsplit(base).netloc for base in bases]


@contextmanager
def killable_server(database_name: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A third uvicorn process, and its process, to kill without letting it say goodbye."""
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    environment |= _server_environment(database_name)
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--lifespan", "off", "--log-level", "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health"), timeout=30), "server did not start"
        yield f"127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.TransportError:
        return False


@pytest.fixture
def chat(committed, shipper, carrier, outsider, customer, thread):
    """The thread between shipper and carrier with one message of the carrier's, and everyone's token."""
    message = send(carrier, thread, "Loaded, leaving the depot")
    people = {"shipper": shipper.user, "carrier": carrier.user, "outsider": outsider.user, "customer": customer}
    return {
        "thread": thread,
        "group": f"thread.{thread.id}",
        "message": message,
        "ids": {name: str(user.id) for name, user in people.items()},
        "tokens": {name: session_start(user=user).access for name, user in people.items()},
    }


async def _ask(ws, message: dict) -> None:
    await ws.send(json.dumps(message))


def _is(kind: str, **fields):
    def matches(message: dict) -> bool:
        return message.get("type") == kind and all(message.get(name) == value for name, value in fields.items())

    return matches


def _answer_to(client_id: str):
    return lambda message: message.get("client_id") == client_id


async def _messages_until(ws, predicate, timeout: float = 20.0) -> list[dict]:
    """Every message up to and including the first that matches `predicate`."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            seen.append(message)
            if predicate(message):
                return seen


def test_typing_reaches_the_other_party_on_the_other_process_once_per_interval(two_servers, chat):
    # given the shipper on one process and the carrier on the other, both in the thread
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]

    async def scenario():
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(shipper_ws, chat["group"])
        await subscribe(carrier_ws, chat["group"])
        # when the carrier types three times, then acknowledges a message (sent after the typing)
        for _ in range(3):
            await _ask(carrier_ws, {"action": "chat.typing", "thread_id": thread_id})
        await _ask(
            carrier_ws, {"action": "chat.received", "thread_id": thread_id, "message_id": str(chat["message"].id)}
        )
        heard = await _messages_until(shipper_ws, _is("message.received"))
        await shipper_ws.close()
        await carrier_ws.close()
        return heard

    heard = asyncio.run(scenario())

    # then the shipper heard the carrier typing once, before the acknowledgement
    typing = [message for message in heard if message["type"] == "user.typing"]
    assert typing == [{"type": "user.typing", "thread_id": thread_id, "user_id": ids["carrier"]}]


def test_presence_follows_the_users_sockets_across_processes(two_servers, chat):
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]

    async def scenario():
        told = {}
        # given the shipper alone in the thread
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        await subscribe(shipper_ws, chat["group"])
        told["shipper_snapshot"] = await receive_until(shipper_ws, _is("presence"))
        # when the carrier subscribes on the other process
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(carrier_ws, chat["group"])
        told["carrier_snapshot"] = await receive_until(carrier_ws, _is("presence"))
        told["online"] = await receive_until(shipper_ws, _is("user.online", user_id=ids["carrier"]))
        # and opens a second socket on the shipper's process, then leaves with it
        second_ws = await feed(two_servers[0], tokens["carrier"])
        await subscribe(second_ws, chat["group"])
        await _ask(second_ws, {"action": "unsubscribe", "group": chat["group"]})
        await receive_until(second_ws, _is("unsubscribed"))
        await _ask(carrier_ws, {"action": "chat.typing", "thread_id": thread_id})
        told["while_one_socket_left"] = await _messages_until(shipper_ws, _is("user.typing"))
        # and closes its last one
        await carrier_ws.close()
        told["offline"] = await receive_until(shipper_ws, _is("user.offline"))
        await second_ws.close()
        await shipper_ws.close()
        return told

    told = asyncio.run(scenario())

    assert told["shipper_snapshot"] == {"type": "presence", "thread_id": thread_id, "online": [ids["shipper"]]}
    assert sorted(told["carrier_snapshot"]["online"]) == sorted([ids["shipper"], ids["carrier"]])
    assert told["online"] == {"type": "user.online", "thread_id": thread_id, "user_id": ids["carrier"]}
    # a second socket of an online user neither announced nor, leaving, took them offline
    assert [m for m in told["while_one_socket_left"] if m["type"] in {"user.online", "user.offline"}] == []
    assert told["offline"] == {"type": "user.offline", "thread_id": thread_id, "user_id": ids["carrier"]}


def test_a_user_whose_process_died_is_told_offline_by_the_sweep(two_servers, django_db_setup, chat):
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]

    async def scenario():
        with killable_server(django_db_setup) as (doomed, process):
            # given the carrier online through a process that is then killed, no goodbye said
            shipper_ws = await feed(two_servers[0], tokens["shipper"])
            await subscribe(shipper_ws, chat["group"])
            carrier_ws = await feed(doomed, tokens["carrier"])
            await subscribe(carrier_ws, chat["group"])
            await receive_until(shipper_ws, _is("user.online", user_id=ids["carrier"]))
            process.kill()
            process.wait(timeout=10)
        # when the beat's sweep runs (until the carrier's entries have expired)
        async with asyncio.timeout(30):
            while True:
                await asyncio.to_thread(chat_presence_sweep)
                try:
                    offline = await asyncio.wait_for(
                        receive_until(shipper_ws, _is("user.offline"), timeout=30), timeout=1
                    )
                    break
                except TimeoutError:
                    continue
        await shipper_ws.close()
        return offline

    offline = asyncio.run(scenario())

    # then the shipper hears the carrier went offline
    assert offline == {"type": "user.offline", "thread_id": thread_id, "user_id": ids["carrier"]}


def test_a_message_sent_over_the_socket_reaches_the_other_process_and_is_stored(two_servers, chat):
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]

    async def scenario():
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(shipper_ws, chat["group"])
        await subscribe(carrier_ws, chat["group"])
        # when the carrier sends over its socket
        await _ask(
            carrier_ws, {"action": "chat.send", "thread_id": thread_id, "text": "At the border", "client_id": "c-1"}
        )
        sent = await receive_until(carrier_ws, _is("chat.sent"))
        heard = await receive_until(shipper_ws, _is("message.sent"))
        await shipper_ws.close()
        await carrier_ws.close()
        return sent, heard

    sent, heard = asyncio.run(scenario())

    # then the carrier has its answer, the shipper the message, and it is the thread's next one
    assert sent["client_id"] == "c-1"
    assert sent["message"]["text"] == "At the border" and sent["message"]["seq"] == chat["message"].seq + 1
    assert heard["thread_id"] == thread_id and heard["message"]["id"] == sent["message"]["id"]
    assert heard["message"]["sender"]["user_id"] == ids["carrier"]
    with tenant_scope(chat["thread"].party_a_organization_id):
        stored = Message.objects.get(pk=sent["message"]["id"])
    assert stored.body == "At the border" and stored.sender_id == chat["message"].sender_id


def test_a_read_over_the_socket_is_a_read_receipt_on_the_other_side(two_servers, chat):
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]
    message = chat["message"]

    async def scenario():
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(shipper_ws, chat["group"])
        await subscribe(carrier_ws, chat["group"])
        # when the shipper reads the carrier's message
        await _ask(
            shipper_ws, {"action": "chat.read", "thread_id": thread_id, "message_id": str(message.id), "client_id": "r"}
        )
        answer = await receive_until(shipper_ws, _is("chat.read"))
        receipt = await receive_until(carrier_ws, _is("message.read"))
        await shipper_ws.close()
        await carrier_ws.close()
        return answer, receipt

    answer, receipt = asyncio.run(scenario())

    assert answer == {"type": "chat.read", "client_id": "r", "thread_id": thread_id, "last_read_seq": message.seq}
    assert receipt["user_id"] == ids["shipper"] and receipt["message_id"] == str(message.id)
    assert receipt["seq"] == message.seq and receipt["thread_id"] == thread_id


def test_a_delivery_acknowledgement_reaches_the_sender(two_servers, chat):
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]
    message = chat["message"]

    async def scenario():
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(shipper_ws, chat["group"])
        await subscribe(carrier_ws, chat["group"])
        await _ask(shipper_ws, {"action": "chat.received", "thread_id": thread_id, "message_id": str(message.id)})
        await _ask(shipper_ws, {"action": "chat.received", "thread_id": thread_id, "message_id": thread_id})
        refused = await receive_until(shipper_ws, _is("error"))
        acknowledged = await receive_until(carrier_ws, _is("message.received"))
        await shipper_ws.close()
        await carrier_ws.close()
        return acknowledged, refused

    acknowledged, refused = asyncio.run(scenario())

    assert acknowledged == {
        "type": "message.received",
        "thread_id": thread_id,
        "message_id": str(message.id),
        "user_id": ids["shipper"],
    }
    # an id that is no message of the thread is refused
    assert refused["action"] == "chat.received" and refused["error_code"] == "NOT_FOUND"


def test_a_third_organization_can_neither_listen_nor_act_in_the_thread(two_servers, chat):
    thread_id, tokens, message = str(chat["thread"].id), chat["tokens"], chat["message"]
    actions = [
        {"action": "chat.typing", "thread_id": thread_id},
        {"action": "chat.send", "thread_id": thread_id, "text": "Call me at +7 999 123 45 67"},
        {"action": "chat.read", "thread_id": thread_id, "message_id": str(message.id)},
        {"action": "chat.received", "thread_id": thread_id, "message_id": str(message.id)},
    ]

    async def scenario():
        outsider_ws = await feed(two_servers[0], tokens["outsider"])
        customer_ws = await feed(two_servers[1], tokens["customer"])  # the shipper's, not taking part
        answers = [await subscribe(outsider_ws, chat["group"]), await subscribe(customer_ws, chat["group"])]
        for action in actions:
            await _ask(outsider_ws, action)
            answers.append(await receive_until(outsider_ws, _is("error")))
        await outsider_ws.close()
        await customer_ws.close()
        return answers

    answers = asyncio.run(scenario())

    # the same answer as for a thread that does not exist, and nothing was stored
    assert [answer["error_code"] for answer in answers] == ["NOT_FOUND"] * 6
    with tenant_scope(chat["thread"].party_a_organization_id):
        assert Message.objects.filter(thread_id=chat["thread"].id).count() == 1


def test_sending_too_fast_over_the_socket_is_refused_with_retry_after(committed, django_db_setup, chat):
    # given a server where a user may send one message a minute (REST and socket share it)
    thread_id, tokens = str(chat["thread"].id), chat["tokens"]
    environment = _server_environment(django_db_setup, RATE_LIMIT_CHAT_MESSAGE="1/min")

    async def scenario():
        shipper_ws = await feed(server, tokens["shipper"])
        await subscribe(shipper_ws, chat["group"])
        answers = []
        for client_id in ("first", "second"):
            await _ask(
                shipper_ws, {"action": "chat.send", "thread_id": thread_id, "text": "Hi", "client_id": client_id}
            )
            answers.append(await receive_until(shipper_ws, _answer_to(client_id)))
        await shipper_ws.close()
        return answers

    with web_processes(1, **environment) as [base]:
        server = urlsplit(base).netloc
        first, second = asyncio.run(scenario())

    assert first["type"] == "chat.sent"
    assert second["type"] == "error" and second["action"] == "chat.send"
    assert second["error_code"] == "RATE_LIMIT_EXCEEDED" and second["client_id"] == "second"
    assert 1 <= second["retry_after"] <= 60


def test_a_socket_closed_while_messages_flow_to_it_still_says_goodbye(two_servers, chat, carrier):
    """The goodbye (unsubscribe from the groups, presence's `left`) runs even when the client
    closes while the server is sending to it: a send to a closed connection raises in the
    server (ASGI), and that must not end the consumer before its disconnect runs."""
    thread_id, ids, tokens = str(chat["thread"].id), chat["ids"], chat["tokens"]
    carrier_group = f"org.{carrier.org.id}"  # the carrier's alone: the flood never reaches the shipper

    async def scenario():
        shipper_ws = await feed(two_servers[0], tokens["shipper"])
        await subscribe(shipper_ws, chat["group"])
        carrier_ws = await feed(two_servers[1], tokens["carrier"])
        await subscribe(carrier_ws, carrier_group)
        await subscribe(carrier_ws, chat["group"])
        await receive_until(shipper_ws, _is("user.online", user_id=ids["carrier"]))
        # when messages keep reaching the carrier's socket as it closes
        flood = asyncio.create_task(_flood(carrier_group, count=500))
        await asyncio.sleep(0.05)
        await carrier_ws.close()
        await flood
        offline = await receive_until(shipper_ws, _is("user.offline", user_id=ids["carrier"]), timeout=30)
        await shipper_ws.close()
        return offline

    offline = asyncio.run(scenario())

    # then the shipper hears the carrier went offline (no sweep runs here: only the goodbye tells)
    assert offline == {"type": "user.offline", "thread_id": thread_id, "user_id": ids["carrier"]}


async def _flood(group: str, *, count: int) -> None:
    layer = get_channel_layer()
    for index in range(count):
        await layer.group_send(group, live_message({"type": "test.flood", "index": index}))
