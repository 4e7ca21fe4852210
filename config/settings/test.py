"""The test suite (`make test`)."""

import os
import tempfile
from pathlib import Path

# Each pytest-xdist worker (gw0, gw1, ...) gets its own Redis database, so caches,
# queues and channel groups of parallel workers never meet. Set before base reads it.
# A second suite run at the same time on the same Redis (two checkouts, a helper's run)
# starts further up with TEST_REDIS_DB_BASE, or the two flush each other's databases.
os.environ["REDIS_DB"] = str(
    int(os.environ.get("TEST_REDIS_DB_BASE", "1")) + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
)

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, RATE_LIMITS, REDIS_DB, env_rate_limits

DEBUG = False
# Fast hashing: tests create many users; production keeps Django's default hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES["default"]["KEY_PREFIX"] = f"test{REDIS_DB}"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test{REDIS_DB}"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# No test trips a limit by accident; tests of the limits set their own (the `settings`
# fixture, or RATE_LIMIT_<SCOPE> in the environment of a server they start).
RATE_LIMITS = env_rate_limits({scope: "1000000/min" for scope in RATE_LIMITS})
os.environ.setdefault("LOG_LEVEL", "WARNING")
LOGGING["root"]["level"] = os.environ["LOG_LEVEL"]  # noqa: F405
for _logger in ("uvicorn", "uvicorn.error"):
    LOGGING["loggers"][_logger]["level"] = os.environ["LOG_LEVEL"]  # noqa: F405

# Nothing is collected for tests; the admin pages they render link to static files only.
STATIC_ROOT = None

# The tests' receivers listen on loopback (tests of the refusals switch it off).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
# The suite seeds the demo too: its files go to a directory of the run's own, never over the
# ones `make run` left (a test run used to replace the demo truck's key with one of its database).
DEMO_FILES_DIR = Path(tempfile.mkdtemp(prefix="manifest-test-demo-"))
