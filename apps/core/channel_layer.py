"""The channel layer behind the live feed: channels-redis, with its timeouts stated and a
receive loop that outlives a Redis outage.

Why a subclass. channels-redis waits for a consumer's messages with BZPOPMIN, blocking
`brpop_timeout` seconds (5) in Redis, then asks again. redis-py 8 gives every connection a
default read timeout of 5 s (`socket_timeout`): the client gave up on the blocked read at
the very moment Redis answered it, raised `redis.exceptions.TimeoutError` inside the
consumer's receive loop, and the consumer, and with it every WebSocket, died 5 s after
connecting, idle or busy (issue 13, item 5). Here the block time is a setting, the read
timeout must be longer (checked when the layer is made), and a failed receive (Redis
restarting, a killed connection, a network that hangs) is retried with a capped backoff
instead of ending the consumer. What the layer cannot keep across a Redis restart, its
group memberships, consumers re-add on their heartbeat (apps.tenancy.consumers).

CHANNEL_LAYERS["default"]["CONFIG"] (config/settings/base.py, every value documented in
docs/architecture.md "Live feed: every timeout"):
    hosts                      redis-py connection options per host, `socket_timeout` included
    receive_block_seconds      how long one BZPOPMIN blocks in Redis
    reconnect_max_delay        the longest pause between attempts while Redis is away
    expiry, group_expiry, capacity, prefix   as in channels-redis
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.core import RedisChannelLayer
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a Redis outage looks like from the client: refused or reset connections, reads that
# hang past socket_timeout, a socket file that is gone (embedded Redis restarting), and a
# Redis that is back but still loading its data (BusyLoadingError, a RedisError).
REDIS_UNAVAILABLE = (RedisError, OSError)

FIRST_RETRY_DELAY = 0.1  # seconds; doubled after each failed attempt up to reconnect_max_delay


class LiveFeedChannelLayer(RedisChannelLayer):
    def __init__(self, *, receive_block_seconds: float = 5, reconnect_max_delay: float = 5, **config):
        super().__init__(**config)
        self.brpop_timeout = receive_block_seconds
        self.reconnect_max_delay = reconnect_max_delay
        for host in self.hosts:
            read_timeout = host.get("socket_timeout")
            # None would mean "wait for ever": a Redis that vanishes without a reset (a dead
            # machine, a dropped network) would then hang the receive loop for good.
            if read_timeout is None or read_timeout <= receive_block_seconds:
                raise ImproperlyConfigured(
                    "CHANNEL_LAYERS: each host's socket_timeout must be set and longer than "
                    f"receive_block_seconds ({receive_block_seconds} s), or every blocked read "
                    "times out before Redis answers it."
                )

    async def receive(self, channel):
        """The next message on the channel, however long Redis is away in between."""
        delay = FIRST_RETRY_DELAY
        failures = 0
        while True:
            try:
                message = await super().receive(channel)
            except REDIS_UNAVAILABLE as error:
                failures += 1
                if failures == 1:
                    logger.warning("live_feed.redis_unavailable", extra={"error": repr(error)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.reconnect_max_delay)
                continue
            if failures:
                logger.info("live_feed.redis_reconnected", extra={"failed_attempts": failures})
            return message
