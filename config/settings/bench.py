"""Benchmarks (`python -m bench`): production-like (DEBUG off), with the bare view and the pre-resolved user on.

The server the api-overhead scenario starts runs with these settings; so does the
benchmark process itself. Its own Redis database keeps benchmark caches away from
`make run` and the test workers (which use databases 0 and 1..n).
"""

import os

os.environ.setdefault("REDIS_DB", "15")  # read by base

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, LOGGING, MIDDLEWARE, RATE_LIMITS, REDIS_DB, REST_FRAMEWORK, env_rate_limits

DEBUG = False
BENCHMARK_BARE_VIEW = True  # mounts /bench/bare (config/urls.py)
# The auth-overhead scenario's side without authentication: `X-Bench-User: <id>` stands
# for a user resolved once (bench/preresolved.py). Only here: inert in every other settings.
BENCHMARK_PRERESOLVED_USER = True
MIDDLEWARE = [
    *MIDDLEWARE[: MIDDLEWARE.index("apps.tenancy.middleware.TenantMiddleware")],
    "bench.preresolved.PreResolvedUserMiddleware",
    *MIDDLEWARE[MIDDLEWARE.index("apps.tenancy.middleware.TenantMiddleware") :],
]
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
        "bench.preresolved.PreResolvedUserAuthentication",
    ],
}
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# One user sends thousands of requests a minute here: limits that never trip, so that a
# run measures the throttle's work (its Redis counters, counted as usual) and no 429s.
RATE_LIMITS = env_rate_limits({scope: "1000000/min" for scope in RATE_LIMITS})
CACHES["default"]["KEY_PREFIX"] = f"bench{REDIS_DB}"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"bench{REDIS_DB}"
# A log line per request would measure the JSON formatter, not the application.
LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "WARNING")
# The webhooks scenario's receiver listens on loopback.
OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
