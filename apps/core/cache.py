"""Django's RedisCache with one Redis client per process, reused by every call.

Django's `RedisCacheClient` builds a `redis.Redis` client on every call, and its
connection pools live on the cache object, which Django keeps per thread *and per
asyncio context* (`django.core.cache.caches` is an asgiref Local): under ASGI each
request gets a new cache object, so new pools and a new TCP connection to Redis (with
redis-py's handshake) for the revocation check and the throttle's counters of every
request. Here the client and its pool are module-level, shared by every cache object with
the same server and options; `redis.Redis` and its pool are thread-safe, and the pool
opens new connections after a fork by itself.

Same backend options as Django's (`LOCATION`, `OPTIONS` passed to the pool), same
serialization and semantics: only where the client comes from changes.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


class ReusedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        options_key = repr(sorted(self._pool_options.items(), key=lambda item: item[0]))
        self._client_keys = [(server, self._pool_class, options_key) for server in self._servers]

    def get_client(self, key=None, *, write=False):
        client_key = self._client_keys[self._get_connection_pool_index(write)]
        client = _clients.get(client_key)
        if client is None:
            with _lock:
                client = _clients.get(client_key)
                if client is None:
                    server, pool_class, _ = client_key
                    pool = pool_class.from_url(server, **self._pool_options)
                    client = _clients[client_key] = self._lib.Redis(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    """CACHES backend: `apps.core.cache.ReusedClientRedisCache`, options as RedisCache's."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedRedisCacheClient

    def incr_from_zero(self, key, *, timeout: int, version=None) -> int:
        """Add 1 to the counter at `key`, created at 0 with `timeout` when missing; the new value.

        SET NX and INCR pipelined: one round trip where `add` then `incr` take two, each
        command atomic in Redis, so concurrent processes never lose an increment. The counter
        stays an ordinary entry of this cache (its prefix and version; `get` reads it)."""
        key = self.make_and_validate_key(key, version=version)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        _, value = pipeline.execute()
        return value
