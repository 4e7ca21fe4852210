"""The test suite (`make test`)."""

import os

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, REDIS_DB

DEBUG = False
# Fast hashing: tests create many users; production keeps Django's default hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each pytest-xdist worker gets its own Redis database (REDIS_DB, set in conftest) so
# caches, queues and channel groups of parallel workers never meet.
CACHES["default"]["KEY_PREFIX"] = f"test{REDIS_DB}"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test{REDIS_DB}"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
os.environ.setdefault("LOG_LEVEL", "WARNING")
LOGGING["root"]["level"] = os.environ["LOG_LEVEL"]  # noqa: F405
