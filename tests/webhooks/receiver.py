"""A webhook receiver for the tests: a threaded HTTP server on loopback that keeps what it
receives, answers what the test asks, and verifies signatures with the recipe of
docs/webhooks.md, run as written there (read from the page, not copied)."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_recipe():
    """The `verify_manifest_signature` function of docs/webhooks.md ("Verifying a delivery")."""
    text = DOCS.read_text()
    section = text.split("## Verifying a delivery", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify_manifest_signature"]


verify_manifest_signature = documented_recipe()


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    arrived_at: float

    def verifies_with(self, secret: str, now: float | None = None) -> bool:
        return verify_manifest_signature(self.body, self.headers.get("manifest-signature", ""), secret, now)


class Receiver:
    """`status`/`body`/`headers` are what it answers; change them between requests."""

    def __init__(self, *, status: int = 200, body: bytes = b"ok", headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(
                        Received(
                            path=self.path,
                            headers={name.lower(): value for name, value in self.headers.items()},
                            body=body,
                            arrived_at=time.time(),
                        )
                    )
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, format, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
