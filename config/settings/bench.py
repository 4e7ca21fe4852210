"""Benchmarks (`python -m bench`): production-like (DEBUG off), with the bare view mounted.

The server the api-overhead scenario starts runs with these settings; so does the
benchmark process itself. Its own Redis database keeps benchmark caches away from
`make run` and the test workers (which use databases 0 and 1..n).
"""

import os

os.environ.setdefault("REDIS_DB", "15")  # read by base

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, LOGGING, REDIS_DB

DEBUG = False
BENCHMARK_BARE_VIEW = True  # mounts /bench/bare (config/urls.py)
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
CACHES["default"]["KEY_PREFIX"] = f"bench{REDIS_DB}"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"bench{REDIS_DB}"
# A log line per request would measure the JSON formatter, not the application.
LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "WARNING")
