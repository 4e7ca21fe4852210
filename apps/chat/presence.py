"""Who is online in a chat thread, across every ASGI process: presence kept in Redis.

A user is online in a thread while any socket of theirs (on any process) is subscribed to
`thread.<id>` and alive. Each such socket has one entry, `<user id>|<channel name>`, in the
thread's sorted set, scored with the moment it expires (CHAT_LIVE["PRESENCE_EXPIRY"] after its
last heartbeat: the live feed's hooks refresh it every LIVE_FEED["HEARTBEAT_INTERVAL"]).
A second sorted set indexes every entry of every thread by that moment, for the sweep.

What subscribers of `thread.<id>` are told (apps.core.live_groups.live_message):
- {"type": "user.online", "thread_id", "user_id"}: the user's first live socket joined;
- {"type": "user.offline", "thread_id", "user_id"}: their last one left (unsubscribed or
  closed), or its entries expired because its process died without saying goodbye;
- and the subscriber alone, on subscribing: {"type": "presence", "thread_id", "online": [ids]}.

Who tells of a process that died: `presence_sweep` (beat, `chat-presence-sweep`), which takes
the expired entries out of the index and announces offline those users with no live entry left
in the thread. The index lives in Redis, not in any process, so whichever worker runs the sweep
sees the entries of every process. A user is told offline at most PRESENCE_EXPIRY plus the
sweep's period after their process died.

Each decision (first socket in, last socket out, expired and nobody else) is one Lua script
reading Redis's own clock, so two processes never both announce, and machines whose clocks
disagree agree here. Scripts name the thread keys they touch from the index (not through
KEYS): fine on one Redis, not on a Redis Cluster.

Redis away: presence is not kept and nothing fails; the heartbeat re-adds a socket's entries
once Redis is back (and announces it online again if the entries were lost).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
import weakref

import redis
import redis.asyncio as redis_asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.chat.live import thread_group
from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.live_groups import LiveSocket, live_message

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500  # expired entries taken per script run: one run never blocks Redis for long

# KEYS: index, thread key 1..n. ARGV: user id, channel, expiry (ms), thread id 1..n.
# Adds or refreshes the socket's entry in each thread; returns per thread
# {1 if the user was not online there before else 0, online user id...}.
JOIN_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local user, channel, expiry = ARGV[1], ARGV[2], tonumber(ARGV[3])
local member = user .. '|' .. channel
local results = {}
for index = 2, #KEYS do
    local thread_key, thread_id = KEYS[index], ARGV[index + 2]
    local live = redis.call('ZRANGEBYSCORE', thread_key, '(' .. now, '+inf')
    local was_online = 0
    local online, seen = {}, {}
    for _, entry in ipairs(live) do
        local who = string.match(entry, '^([^|]+)|')
        if who == user then was_online = 1 end
        if not seen[who] then seen[who] = true; online[#online + 1] = who end
    end
    if not seen[user] then online[#online + 1] = user end
    redis.call('ZADD', thread_key, now + expiry, member)
    redis.call('PEXPIRE', thread_key, expiry * 2)
    redis.call('ZADD', KEYS[1], now + expiry, thread_id .. '|' .. member)
    local result = {1 - was_online}
    for _, who in ipairs(online) do result[#result + 1] = who end
    results[#results + 1] = result
end
return results
"""

# KEYS: index, thread key. ARGV: user id, channel, thread id.
# Takes the socket's entry out; 1 when it was there and the user has no live entry left.
LEAVE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local user, channel, thread_id = ARGV[1], ARGV[2], ARGV[3]
local member = user .. '|' .. channel
redis.call('ZREM', KEYS[1], thread_id .. '|' .. member)
if redis.call('ZREM', KEYS[2], member) == 0 then
    return 0  -- swept already (its offline was told then), or never joined
end
for _, entry in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')) do
    if string.match(entry, '^([^|]+)|') == user then return 0 end
end
return 1
"""

# KEYS: index. ARGV: thread key prefix, batch size.
# Takes up to a batch of expired entries out; returns {entries taken, thread id, user id, ...}:
# the users left with no live entry in that thread (each pair once).
SWEEP_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local gone, told = {#expired}, {}
for _, entry in ipairs(expired) do
    redis.call('ZREM', KEYS[1], entry)
    local thread_id, user, channel = string.match(entry, '^([^|]+)|([^|]+)|(.+)$')
    local thread_key = ARGV[1] .. thread_id
    redis.call('ZREM', thread_key, user .. '|' .. channel)
    local still_online = false
    for _, live in ipairs(redis.call('ZRANGEBYSCORE', thread_key, '(' .. now, '+inf')) do
        if string.match(live, '^([^|]+)|') == user then still_online = true; break end
    end
    local pair = thread_id .. '|' .. user
    if not still_online and not told[pair] then
        told[pair] = true
        gone[#gone + 1] = thread_id
        gone[#gone + 1] = user
    end
end
return gone
"""

_client_lock = threading.Lock()
_client: redis.Redis | None = None
_sweep_script = None
# redis.asyncio connections belong to the event loop that opened them: one client per loop
# (a server process has one; the tests' in-process servers each bring theirs).
_async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _redis_options() -> dict:
    return {"socket_connect_timeout": 2, "socket_timeout": 2}


def _sync_sweep_script():
    """One client (and connection pool) per process for the sweep, as the cache's."""
    global _client, _sweep_script
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_APP_URL, **_redis_options())
                _sweep_script = _client.register_script(SWEEP_SCRIPT)
    return _sweep_script


def _async_scripts() -> dict:
    loop = asyncio.get_running_loop()
    scripts = _async_clients.get(loop)
    if scripts is None:
        client = redis_asyncio.Redis.from_url(settings.REDIS_APP_URL, **_redis_options())
        scripts = {"join": client.register_script(JOIN_SCRIPT), "leave": client.register_script(LEAVE_SCRIPT)}
        _async_clients[loop] = scripts
    return scripts


def _prefix() -> str:
    # The cache's prefix: a test run (or a second deployment) on the same Redis keeps its own.
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'manifest')}:chat:presence"


def _index_key() -> str:
    return f"{_prefix()}:index"


def _thread_key(thread_id) -> str:
    return f"{_prefix()}:thread:{thread_id}"


def _expiry_ms() -> int:
    return max(1, round(float(settings.CHAT_LIVE["PRESENCE_EXPIRY"]) * 1000))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def canonical_thread_id(value) -> str | None:
    """The thread id as groups are named (a UUID's canonical text); None when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def _presence_message(kind: str, *, thread_id, user_id) -> dict:
    return live_message({"type": kind, "thread_id": str(thread_id), "user_id": str(user_id)})


# --- what the scripts decide ------------------------------------------------------------


async def presence_join(*, thread_ids: list[str], user_id, channel_name: str) -> list[tuple[bool, list[str]]]:
    """Add or refresh the socket's entry in each thread; per thread, whether the user just came
    online there (no live socket of theirs before) and who is online now (them included)."""
    if not thread_ids:
        return []
    results = await _async_scripts()["join"](
        keys=[_index_key(), *(_thread_key(thread_id) for thread_id in thread_ids)],
        args=[str(user_id), channel_name, _expiry_ms(), *thread_ids],
    )
    return [(bool(int(result[0])), [_text(who) for who in result[1:]]) for result in results]


async def presence_leave(*, thread_id: str, user_id, channel_name: str) -> bool:
    """Take the socket's entry out; True when that was the user's last live one in the thread."""
    gone = await _async_scripts()["leave"](
        keys=[_index_key(), _thread_key(thread_id)], args=[str(user_id), channel_name, thread_id]
    )
    return bool(int(gone))


def presence_sweep() -> list[tuple[str, str]]:
    """Take every expired entry out and tell each thread which users that left with no live
    socket (those whose process died without saying goodbye); returns the (thread id, user id)
    pairs told offline. Idempotent: an entry is taken once, by one sweep."""
    script = _sync_sweep_script()
    send = async_to_sync(get_channel_layer().group_send)
    gone: list[tuple[str, str]] = []
    while True:
        taken, *flat = script(keys=[_index_key()], args=[f"{_prefix()}:thread:", SWEEP_BATCH])
        batch = list(zip(map(_text, flat[0::2]), map(_text, flat[1::2]), strict=True))
        for thread_id, user_id in batch:
            send(thread_group(thread_id), _presence_message("user.offline", thread_id=thread_id, user_id=user_id))
        gone.extend(batch)
        if int(taken) < SWEEP_BATCH:
            break
    if gone:
        logger.info("chat.presence_swept", extra={"offline": len(gone)})
    return gone


def online_user_ids(thread_id) -> set[str]:
    """The users with a live socket in the thread now (Redis's clock decides what is live).

    Redis away: nobody counts as online, so the offline notification goes out rather than
    being lost."""
    _sync_sweep_script()
    try:
        seconds, micros = _client.time()
        now_ms = seconds * 1000 + micros // 1000
        entries = _client.zrangebyscore(_thread_key(thread_id), now_ms, "+inf")
    except redis.RedisError:
        logger.warning("chat.presence_unavailable", extra={"thread_id": str(thread_id)})
        return set()
    return {_text(entry).split("|", 1)[0] for entry in entries}


# --- the live feed's hooks for `thread.<id>` (registered by apps.chat.socket.register) -----


async def joined(socket: LiveSocket, resource_id: str) -> None:
    """A socket subscribed to the thread: announce its user if they just came online, and send
    it who is online."""
    thread_id = canonical_thread_id(resource_id)
    if thread_id is None:
        return
    try:
        [(came_online, online)] = await presence_join(
            thread_ids=[thread_id], user_id=socket.user_id, channel_name=socket.channel_name
        )
    except REDIS_UNAVAILABLE as error:
        logger.warning("chat.presence_unavailable", extra={"thread_id": thread_id, "error": repr(error)})
        return
    await socket.send_json({"type": "presence", "thread_id": thread_id, "online": online})
    if came_online:
        await _announce("user.online", thread_id=thread_id, user_id=socket.user_id)


async def left(socket: LiveSocket, resource_id: str) -> None:
    """A socket unsubscribed from the thread or closed: announce its user offline if it was
    their last live socket there."""
    thread_id = canonical_thread_id(resource_id)
    if thread_id is None:
        return
    try:
        went_offline = await presence_leave(
            thread_id=thread_id, user_id=socket.user_id, channel_name=socket.channel_name
        )
    except REDIS_UNAVAILABLE as error:  # its entry expires, and the sweep tells
        logger.warning("chat.presence_unavailable", extra={"thread_id": thread_id, "error": repr(error)})
        return
    if went_offline:
        await _announce("user.offline", thread_id=thread_id, user_id=socket.user_id)


async def alive(socket: LiveSocket, resource_ids: list[str]) -> None:
    """The socket's heartbeat: keep its entries from expiring; re-add (and announce) any that
    were lost meanwhile (a Redis restart, a process stalled past the expiry and swept)."""
    thread_ids = [thread_id for value in resource_ids if (thread_id := canonical_thread_id(value))]
    try:
        results = await presence_join(thread_ids=thread_ids, user_id=socket.user_id, channel_name=socket.channel_name)
    except REDIS_UNAVAILABLE as error:
        logger.warning("chat.presence_unavailable", extra={"threads": len(thread_ids), "error": repr(error)})
        return
    for thread_id, (came_online, _online) in zip(thread_ids, results, strict=True):
        if came_online:
            await _announce("user.online", thread_id=thread_id, user_id=socket.user_id)


async def _announce(kind: str, *, thread_id: str, user_id) -> None:
    try:
        await get_channel_layer().group_send(
            thread_group(thread_id), _presence_message(kind, thread_id=thread_id, user_id=user_id)
        )
    except REDIS_UNAVAILABLE as error:
        logger.warning("chat.presence_announce_failed", extra={"thread_id": thread_id, "error": repr(error)})
