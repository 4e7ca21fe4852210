"""What every HTTP sandbox shares: a threaded server whose handlers reach the sandbox's state as
`self.server.state`, and the running server a test or devstack holds (its URL, its state,
stop()). Standard library only, like the sandboxes."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StateServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler: type[BaseHTTPRequestHandler], state):
        super().__init__(address, handler)
        self.state = state


class SandboxServer:
    """A running sandbox: its base URL, its state, and stop() (or use it as a context manager)."""

    def __init__(self, httpd: StateServer, thread: threading.Thread):
        self._httpd = httpd
        self._thread = thread
        self.state = httpd.state
        host, port = httpd.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        stopping = getattr(self.state, "stopping", None)
        if stopping is not None:
            stopping.set()  # wakes what the sandbox holds back: answers, reports, retries
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def serve(handler: type[BaseHTTPRequestHandler], state, *, host: str, port: int, name: str) -> SandboxServer:
    """Serve `state` through `handler` from a daemon thread; port 0 picks a free port (see .url)."""
    httpd = StateServer((host, port), handler, state)
    thread = threading.Thread(target=httpd.serve_forever, name=name, daemon=True)
    thread.start()
    return SandboxServer(httpd, thread)
