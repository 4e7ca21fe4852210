"""Chat presence in Redis (apps.chat.presence), the decisions alone: sockets of several processes
(named by their channels) joining, leaving and dying, against the real Redis; what the sweep
tells a thread arrives through the real channel layer. The same over real WebSockets on two
ASGI processes: tests/chat/test_live.py."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import channel_layers

from apps.chat.live import thread_group
from apps.chat.presence import presence_join, presence_leave, presence_sweep
from apps.core.live_groups import live_message


@pytest.fixture
def short_expiry(settings):
    settings.CHAT_LIVE = {**settings.CHAT_LIVE, "PRESENCE_EXPIRY": 1}


def _ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


async def _swept_until(pair: tuple[str, str], *, keep_alive) -> list[tuple[str, str]]:
    """Sweep (and refresh the sockets still alive, as their heartbeats would) until `pair` is told
    offline; every pair told on the way."""
    told: list[tuple[str, str]] = []
    async with asyncio.timeout(15):
        while pair not in told:
            await keep_alive()
            told += await asyncio.to_thread(presence_sweep)
            await asyncio.sleep(0.2)
    return told


def test_a_users_first_socket_brings_them_online_and_their_last_one_takes_them_offline():
    thread, alice, bob = _ids(3)

    async def scenario():
        # given alice on two processes and bob on one, in one thread
        first = await presence_join(thread_ids=[thread], user_id=alice, channel_name="process-1!alice")
        second = await presence_join(thread_ids=[thread], user_id=alice, channel_name="process-2!alice")
        bobs = await presence_join(thread_ids=[thread], user_id=bob, channel_name="process-2!bob")
        # when alice's sockets leave one after the other, then once more
        one_left = await presence_leave(thread_id=thread, user_id=alice, channel_name="process-1!alice")
        last_left = await presence_leave(thread_id=thread, user_id=alice, channel_name="process-2!alice")
        again = await presence_leave(thread_id=thread, user_id=alice, channel_name="process-2!alice")
        after = await presence_join(thread_ids=[thread], user_id=bob, channel_name="process-2!bob")
        return first, second, bobs, one_left, last_left, again, after

    first, second, bobs, one_left, last_left, again, after = asyncio.run(scenario())

    # then only the first socket announces, only the last one leaving does
    assert first == [(True, [alice])]
    assert second == [(False, [alice])]
    [(bob_came_online, online)] = bobs
    assert bob_came_online is True and sorted(online) == sorted([alice, bob])
    assert (one_left, last_left, again) == (False, True, False)
    assert after == [(False, [bob])]


def test_presence_is_per_thread():
    first_thread, second_thread, carol = _ids(3)

    async def scenario():
        in_first = await presence_join(thread_ids=[first_thread], user_id=carol, channel_name="p!carol")
        in_both = await presence_join(thread_ids=[first_thread, second_thread], user_id=carol, channel_name="p!carol")
        left_first = await presence_leave(thread_id=first_thread, user_id=carol, channel_name="p!carol")
        return in_first, in_both, left_first

    in_first, in_both, left_first = asyncio.run(scenario())

    assert in_first == [(True, [carol])]
    assert in_both == [(False, [carol]), (True, [carol])]
    assert left_first is True


def test_a_dead_processs_entries_expire_and_the_sweep_tells_the_thread_once(short_expiry):
    thread, carol, dave = _ids(3)

    async def scenario():
        # given someone listening to the thread, carol only on a process that then dies, and
        # dave on that process and on a live one (whose heartbeats keep refreshing him)
        layer = channel_layers.make_backend("default")
        listener = await layer.new_channel()
        await layer.group_add(thread_group(thread), listener)
        await presence_join(thread_ids=[thread], user_id=carol, channel_name="dead!carol")
        await presence_join(thread_ids=[thread], user_id=dave, channel_name="dead!dave")

        async def dave_heartbeat():
            await presence_join(thread_ids=[thread], user_id=dave, channel_name="alive!dave")

        # when their entries expire and the sweep runs
        told = await _swept_until((thread, carol), keep_alive=dave_heartbeat)
        heard = await asyncio.wait_for(layer.receive(listener), 5)
        again = await asyncio.to_thread(presence_sweep)
        await layer.group_discard(thread_group(thread), listener)
        return told, heard, again

    told, heard, again = asyncio.run(scenario())

    # then carol is told offline, once; dave, alive elsewhere, is not
    assert [pair for pair in told if pair[0] == thread] == [(thread, carol)]
    assert heard == live_message({"type": "user.offline", "thread_id": thread, "user_id": carol})
    assert [pair for pair in again if pair[0] == thread] == []


def test_a_socket_swept_while_its_process_stalled_comes_back_online_on_its_next_heartbeat(short_expiry):
    thread, erin = _ids(2)

    async def scenario():
        await presence_join(thread_ids=[thread], user_id=erin, channel_name="stalled!erin")

        async def nothing():
            return None

        await _swept_until((thread, erin), keep_alive=nothing)
        return await presence_join(thread_ids=[thread], user_id=erin, channel_name="stalled!erin")

    assert asyncio.run(scenario()) == [(True, [erin])]
