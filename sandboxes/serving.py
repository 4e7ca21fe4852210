"""What every HTTP sandbox shares: a threaded server whose handlers reach the sandbox's state as
`self.server.state`, and the running server a test or devstack holds (its URL, its state,
stop()). Standard library only, like the sandboxes."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A provider does not follow a redirect from the URL it calls back: a 3xx is a failed attempt.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_callback_opener = urllib.request.build_opener(_NoRedirects)


def post_callback(url: str, body: bytes, headers: dict, *, timeout: float) -> tuple[int | None, str]:
    """POST a signed callback (a webhook, a delivery report) the way a provider does: no
    redirects; (status, "") for any answer, (None, why) when none came."""
    # S310: every callback URL was checked to be http(s) when the sandbox was given it.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _callback_opener.open(request, timeout=timeout) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, ""
    except (urllib.error.URLError, OSError) as error:
        return None, str(getattr(error, "reason", error))
