"""apps.core.cache.ReusedClientRedisCache: Django's RedisCache, one redis client per process."""

from __future__ import annotations

import contextvars

from django.conf import settings
from django.core.cache import cache, caches

from apps.core.cache import ReusedClientRedisCache


def _backend(location: str) -> ReusedClientRedisCache:
    options = settings.CACHES["default"].get("OPTIONS", {})
    return ReusedClientRedisCache(location, {"OPTIONS": options, "KEY_PREFIX": "client-test"})


def test_the_project_cache_is_the_reusing_backend():
    assert isinstance(caches["default"], ReusedClientRedisCache)


def test_cache_objects_of_the_same_server_share_one_client_across_calls_and_contexts():
    location = settings.CACHES["default"]["LOCATION"]
    first, second = _backend(location), _backend(location)

    assert first._cache.get_client() is first._cache.get_client(write=True)
    assert first._cache.get_client() is second._cache.get_client()
    # Under ASGI each request has its own context, hence its own cache object: same client.
    in_a_new_context = contextvars.Context().run(lambda: caches["default"]._cache.get_client())
    assert in_a_new_context is cache._cache.get_client()


def test_another_server_gets_its_own_client():
    location = settings.CACHES["default"]["LOCATION"]
    other = "redis://127.0.0.1:1/0"  # never connected to: a client connects on its first command

    assert _backend(location)._cache.get_client() is not _backend(other)._cache.get_client()


def test_it_reads_and_writes_as_djangos_backend():
    backend = _backend(settings.CACHES["default"]["LOCATION"])
    backend.delete("k")

    assert backend.add("k", 0, timeout=30) is True
    assert backend.add("k", 5, timeout=30) is False
    assert backend.incr("k") == 1
    backend.set("o", {"a": [1, 2]}, timeout=30)
    assert backend.get("o") == {"a": [1, 2]}
    assert backend.get("missing", "default") == "default"
    backend.delete_many(["k", "o"])


def test_incr_from_zero_counts_from_one_keeps_an_existing_counter_and_loses_no_increment_under_threads():
    from concurrent.futures import ThreadPoolExecutor

    backend = _backend(settings.CACHES["default"]["LOCATION"])
    backend.delete("hits")
    client = backend._cache.get_client(write=True)
    key = backend.make_and_validate_key("hits")

    assert backend.incr_from_zero("hits", timeout=30) == 1
    assert 0 < client.ttl(key) <= 30  # created with the timeout
    backend.set("kept", 7, timeout=30)
    assert backend.incr_from_zero("kept", timeout=1) == 8  # an existing counter keeps its value
    assert client.ttl(backend.make_and_validate_key("kept")) > 1  # and its own expiry
    with ThreadPoolExecutor(max_workers=8) as pool:
        values = list(pool.map(lambda _: backend.incr_from_zero("hits", timeout=30), range(200)))

    assert sorted(values) == list(range(2, 202))
    assert backend.get("hits") == 201  # an ordinary entry of the cache
    backend.delete_many(["hits", "kept"])
