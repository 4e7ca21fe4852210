"""An SMS gateway of our own, in the manner of Twilio, for development and tests.

It takes messages over HTTP, answers "queued", and a moment later reports the delivery by a
signed callback to the message's status_callback URL: the conversation a real SMS provider
has with us, so apps/notifications/providers/sms/ crosses a real wire. No SMS leaves the
machine. State lives in memory for as long as the process.

    python -m sandboxes.sms_gateway --port 8012   # key and secret from SMS_SANDBOX_API_KEY / SMS_SANDBOX_SECRET

Magic numbers (docs/notification-providers.md): +15005550001 is refused as invalid (400),
+15005550002 is queued and then reported "failed", +15005550003 answers 503 (the gateway is
down: retry later); every other valid number is reported "delivered".
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from sandboxes.serving import SandboxServer, StateServer, post_callback, serve

logger = logging.getLogger("sandboxes.sms_gateway")

SIGNATURE_HEADER = "Sandbox-Signature"
USER_AGENT = "SmsSandbox/1.0 (+docs/notification-providers.md)"

NUMBER_INVALID = "+15005550001"
NUMBER_FAILS = "+15005550002"
NUMBER_UNAVAILABLE = "+15005550003"
FAILED_ERROR = "30003 unreachable destination handset"

E164_PATTERN = re.compile(r"\+[1-9][0-9]{6,14}")
# Twilio's limit: ten concatenated segments of 160 GSM characters.
MAX_BODY_CHARACTERS = 1600
MAX_REFERENCE_CHARACTERS = 200
MAX_REQUEST_BYTES = 64 * 1024
# A real gateway reports after it has answered; the pause keeps the report behind the answer.
REPORT_DELAY_SECONDS = 0.05
# Waits before the second to fifth attempt of one report; after the fifth it is given up.
RETRY_DELAYS_SECONDS = (0.2, 0.5, 1.0, 2.0)
DELIVERY_TIMEOUT_SECONDS = 5


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Message:
    id: str
    to: str
    body: str
    reference: str
    status_callback: str
    created: int
    status: str = "queued"
    error: str | None = None
    reports: list[dict] = field(default_factory=list)

    def public(self) -> dict:
        return {
            "id": self.id,
            "to": self.to,
            "body": self.body,
            "reference": self.reference,
            "status_callback": self.status_callback,
            "created": self.created,
            "status": self.status,
            "error": self.error,
            "reports": [dict(report) for report in self.reports],
        }


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Sandbox-Signature header for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


class SandboxSmsGateway:
    """The gateway's state and rules, apart from HTTP; every change under one lock."""

    def __init__(self, *, api_key: str, secret: str):
        self.api_key = api_key
        self.secret = secret
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._messages: dict[str, Message] = {}

    def message_create(self, request: dict) -> dict:
        to, body, reference, status_callback = _checked(request)
        if to == NUMBER_UNAVAILABLE:
            raise ApiError(503, "the gateway is unavailable, try again later")
        message = Message(
            id=f"sms_{secrets.token_hex(12)}",
            to=to,
            body=body,
            reference=reference,
            status_callback=status_callback,
            created=int(time.time()),
        )
        with self._lock:
            self._messages[message.id] = message
        threading.Thread(target=self._report, args=(message,), daemon=True).start()
        return {"id": message.id, "status": "queued"}

    def messages(self, to: str | None = None) -> list[dict]:
        with self._lock:
            return [message.public() for message in self._messages.values() if to is None or message.to == to]

    def _report(self, message: Message) -> None:
        if self.stopping.wait(REPORT_DELAY_SECONDS):
            return
        with self._lock:
            if message.to == NUMBER_FAILS:
                message.status, message.error = "failed", FAILED_ERROR
            else:
                message.status = "delivered"
            report = {
                "id": message.id,
                "reference": message.reference,
                "status": message.status,
                "error": message.error,
            }
        body = json.dumps(report, separators=(",", ":")).encode()
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_SECONDS), start=1):
            if delay and self.stopping.wait(delay):
                return
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: sign(self.secret, body, int(time.time())),
            }
            if not message.status_callback:
                # Recorded, signed, sent nowhere: one attempt, no retry.
                self._record(
                    message, attempt=attempt, status=None, error="no status_callback", body=body, headers=headers
                )
                return
            status, error = self._post(message.status_callback, body, headers)
            self._record(message, attempt=attempt, status=status, error=error, body=body, headers=headers)
            if status is not None and 200 <= status < 300:
                return

    def _post(self, url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
        return post_callback(url, body, headers, timeout=DELIVERY_TIMEOUT_SECONDS)

    def _record(self, message: Message, *, attempt: int, status: int | None, error: str, body: bytes, headers: dict):
        logger.info("report %s attempt %d to %s: %s", message.id, attempt, message.status_callback, status or error)
        with self._lock:
            message.reports.append(
                {
                    "attempt": attempt,
                    "url": message.status_callback,
                    "status": status,
                    "error": error,
                    "body": body.decode(),
                    "headers": dict(headers),
                    "sent_at": int(time.time()),
                }
            )


def _checked(request: dict) -> tuple[str, str, str, str]:
    """to, body, reference and status_callback of a message request, checked."""
    to = request.get("to")
    if not isinstance(to, str) or not E164_PATTERN.fullmatch(to) or to == NUMBER_INVALID:
        raise ApiError(400, "to must be a valid phone number in E.164 form, e.g. +14155550100")
    body = request.get("body")
    if not isinstance(body, str) or not body.strip():
        raise ApiError(400, "body is required")
    if len(body) > MAX_BODY_CHARACTERS:
        raise ApiError(400, f"body is longer than {MAX_BODY_CHARACTERS} characters")
    reference = request.get("reference") or ""
    if not isinstance(reference, str) or len(reference) > MAX_REFERENCE_CHARACTERS:
        raise ApiError(400, f"reference must be a string of at most {MAX_REFERENCE_CHARACTERS} characters")
    status_callback = request.get("status_callback") or ""
    if not isinstance(status_callback, str) or (status_callback and not _is_http_url(status_callback)):
        raise ApiError(400, "status_callback must be an http(s) URL or null")
    return to, body, reference, status_callback


# --- HTTP ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server_version = "SmsSandbox/1.0"
    server: StateServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        gateway = self.server.state
        parts = urlsplit(self.path)
        try:
            # Read before any refusal: closing with the body unread resets the connection.
            body = self._read_body() if method == "POST" else b""
            status, answer = self._route(gateway, method, parts.path, parse_qs(parts.query), body)
        except ApiError as error:
            status, answer = error.status, {"error": error.message}
        except Exception:
            logger.exception("sandbox error on %s %s", method, self.path)
            status, answer = 500, {"error": "internal error"}
        self._answer(status, answer)

    def _route(self, gateway: SandboxSmsGateway, method: str, path: str, query: dict, body: bytes):
        if path == "/health" and method == "GET":
            return 200, {"status": "ok"}
        if path == "/v1/messages" and method == "POST":
            self._authenticate(gateway)
            return 201, gateway.message_create(_json(body))
        if path == "/_sandbox/messages" and method == "GET":
            return 200, {"messages": gateway.messages(query.get("to", [None])[0])}
        if path in {"/health", "/v1/messages", "/_sandbox/messages"}:
            raise ApiError(405, "method not allowed")
        raise ApiError(404, "not found")

    def _authenticate(self, gateway: SandboxSmsGateway) -> None:
        presented = self.headers.get("Authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {gateway.api_key}".encode()):
            raise ApiError(401, "invalid api key")

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise ApiError(400, "Content-Length must be a number")
        if int(length) > MAX_REQUEST_BYTES:
            raise ApiError(413, "request body too large")
        return self.rfile.read(int(length))

    def _answer(self, status: int, answer: dict) -> None:
        body = json.dumps(answer, separators=(",", ":")).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status == 503:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _json(body: bytes) -> dict:
    try:
        request = json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, "request body must be JSON") from None
    if not isinstance(request, dict):
        raise ApiError(400, "request body must be a JSON object")
    return request


def start_server(host: str = "127.0.0.1", port: int = 0, *, api_key: str, secret: str) -> SandboxServer:
    """Serve the sandbox from a daemon thread; port 0 picks a free port (see .url)."""
    return serve(_Handler, SandboxSmsGateway(api_key=api_key, secret=secret), host=host, port=port, name="sms-sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.sms_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--api-key", default=os.environ.get("SMS_SANDBOX_API_KEY"), help="Bearer key of /v1/*")
    parser.add_argument("--secret", default=os.environ.get("SMS_SANDBOX_SECRET"), help="signs the reports")
    arguments = parser.parse_args(argv)
    if not arguments.secret or not arguments.api_key:
        parser.error("--secret and --api-key are required (or SMS_SANDBOX_SECRET / SMS_SANDBOX_API_KEY)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sms-sandbox %(message)s")

    server = start_server(arguments.host, arguments.port, api_key=arguments.api_key, secret=arguments.secret)
    logger.info("listening on %s", server.url)
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda signum, frame: stop_requested.set())
    while not stop_requested.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
