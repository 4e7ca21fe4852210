"""A web-push service of our own, in the manner of FCM or Mozilla's autopush, for tests.

A browser subscribes to a push service and hands the site an endpoint URL and two keys; the
site then POSTs encrypted messages to that endpoint, signed with its VAPID key (RFC 8291,
RFC 8292). This sandbox plays both the push service and the browser: it hands out
subscriptions, keeps their private keys, checks each push's VAPID signature and headers,
decrypts the body and keeps the plaintext for a test to read. State lives in memory.
Beyond the standard library it needs cryptography, http_ece and PyJWT (requirements/base.txt).

    python -m sandboxes.push_service --port 8013

docs/notification-providers.md describes the endpoints and what each refusal means.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import json
import logging
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sandboxes.serving import SandboxServer, StateServer, serve

logger = logging.getLogger("sandboxes.push_service")

# RFC 8030: a push message body is at most 4096 octets (encrypted, with its header).
MAX_BODY_BYTES = 4096
# RFC 8292: a VAPID token must expire within 24 hours of the request.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_SUBSCRIPTION_PATH = re.compile(r"/_sandbox/subscriptions/(?P<subscription_id>[0-9a-f]{24})")
_PUSH_PATH = re.compile(r"/push/(?P<subscription_id>[0-9a-f]{24})")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    # Like PushManager.subscribe({applicationServerKey}): pushes signed by another key are refused.
    application_server_key: str
    # Every push answers this status instead (429, 500, 404...): for a sender's error paths.
    answer_status: int | None
    gone: bool = False
    messages: list[dict] = field(default_factory=list)

    def keys(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url_encode(point), "auth": b64url_encode(self.auth)}


class SandboxPushService:
    """Subscriptions and the messages pushed to them; every change under one lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {}

    def subscription_create(self, request: dict, *, origin: str) -> dict:
        application_server_key = request.get("application_server_key") or ""
        if not isinstance(application_server_key, str) or (
            application_server_key and _public_key(application_server_key) is None
        ):
            raise ApiError(400, "application_server_key must be a base64url uncompressed P-256 point")
        answer_status = request.get("answer_status")
        if answer_status is not None and (not isinstance(answer_status, int) or not 200 <= answer_status <= 599):
            raise ApiError(400, "answer_status must be an HTTP status code")
        subscription = Subscription(
            id=secrets.token_hex(12),
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=secrets.token_bytes(16),
            application_server_key=application_server_key,
            answer_status=answer_status,
        )
        with self._lock:
            self._subscriptions[subscription.id] = subscription
        return {"id": subscription.id, "endpoint": f"{origin}/push/{subscription.id}", "keys": subscription.keys()}

    def subscription_delete(self, subscription_id: str) -> None:
        """Later pushes answer 410 Gone, as when the user revokes the permission."""
        with self._lock:
            self._subscription(subscription_id).gone = True

    def push(self, subscription_id: str, *, body: bytes, headers, origin: str) -> tuple[dict, str]:
        """Check and decrypt a push; the stored message and its URL (the Location header)."""
        with self._lock:
            subscription = self._subscription(subscription_id)
        if subscription.gone:
            raise ApiError(410, "the subscription has expired or was unsubscribed")
        vapid_key = _verified_vapid_key(headers.get("Authorization", ""), audience=origin)
        if subscription.application_server_key and not hmac.compare_digest(
            vapid_key, subscription.application_server_key
        ):
            raise ApiError(403, "the VAPID key is not the one this subscription was made for")
        if subscription.answer_status is not None:
            raise ApiError(subscription.answer_status, "the answer this subscription was told to give")
        ttl = headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            raise ApiError(400, "the TTL header is required (seconds, a non-negative integer)")
        urgency = headers.get("Urgency", "normal")
        if urgency not in URGENCIES:
            raise ApiError(400, f"Urgency must be one of {', '.join(sorted(URGENCIES))}")
        if headers.get("Content-Encoding", "") != "aes128gcm":
            raise ApiError(415, "Content-Encoding must be aes128gcm (RFC 8291)")
        try:
            plaintext = http_ece.decrypt(
                body, private_key=subscription.private_key, auth_secret=subscription.auth, version="aes128gcm"
            )
        except Exception as error:  # http_ece raises ECEException, ValueError or cryptography's InvalidTag
            raise ApiError(400, f"the body could not be decrypted: {error.__class__.__name__}") from None
        message = {
            "id": secrets.token_hex(12),
            "subscription": subscription.id,
            "payload": plaintext.decode("utf-8", errors="replace"),
            "json": _json_or_none(plaintext),
            "ttl": int(ttl),
            "urgency": urgency,
            "topic": headers.get("Topic", ""),
            "vapid_key": vapid_key,
            "received_at": time.time(),
        }
        with self._lock:
            subscription.messages.append(message)
        return message, f"{origin}/m/{message['id']}"

    def messages(self, subscription_id: str | None = None) -> list[dict]:
        with self._lock:
            return [
                dict(message)
                for subscription in self._subscriptions.values()
                if subscription_id is None or subscription.id == subscription_id
                for message in subscription.messages
            ]

    def _subscription(self, subscription_id: str) -> Subscription:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is None:
            raise ApiError(404, "no such subscription")
        return subscription


def _public_key(encoded: str) -> ec.EllipticCurvePublicKey | None:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(encoded))
    except (ValueError, binascii.Error):
        return None


def _verified_vapid_key(authorization: str, *, audience: str) -> str:
    """The VAPID public key (k) of an `Authorization: vapid t=<JWT>,k=<key>` that holds; else 401."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise ApiError(401, "Authorization: vapid t=<JWT>,k=<public key> is required (RFC 8292)")
    parameters = dict(item.strip().partition("=")[::2] for item in credentials.split(","))
    token, key = parameters.get("t", ""), parameters.get("k", "")
    public_key = _public_key(key)
    if not token or public_key is None:
        raise ApiError(401, "the vapid credentials need t (a JWT) and k (a P-256 public key)")
    try:
        claims = jwt.decode(
            token, public_key, algorithms=["ES256"], audience=audience, options={"require": ["exp", "aud"]}
        )
    except jwt.PyJWTError as error:
        raise ApiError(401, f"the VAPID token is not valid: {error}") from None
    if claims["exp"] > time.time() + MAX_TOKEN_LIFETIME_SECONDS:
        raise ApiError(401, "the VAPID token must expire within 24 hours")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.startswith(("mailto:", "https:")):
        raise ApiError(401, "the VAPID token's sub must be a mailto: or https: URL")
    return key


def _json_or_none(plaintext: bytes):
    try:
        return json.loads(plaintext)
    except ValueError:
        return None


# --- HTTP ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server_version = "PushSandbox/1.0"
    server: StateServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        service = self.server.state
        parts = urlsplit(self.path)
        # The origin the sender addressed, as a push service sees it: what a VAPID aud must name.
        host, port = self.server.server_address[:2]
        origin = f"http://{self.headers.get('Host') or f'{host}:{port}'}"
        location = ""
        try:
            body = self._read_body() if method == "POST" else b""
            if parts.path == "/health" and method == "GET":
                status, answer = 200, {"status": "ok"}
            elif parts.path == "/_sandbox/subscriptions" and method == "POST":
                status, answer = 201, service.subscription_create(_json(body), origin=origin)
            elif (match := _SUBSCRIPTION_PATH.fullmatch(parts.path)) and method == "DELETE":
                service.subscription_delete(match["subscription_id"])
                status, answer = 204, None
            elif parts.path == "/_sandbox/messages" and method == "GET":
                subscription_id = parse_qs(parts.query).get("subscription", [None])[0]
                status, answer = 200, {"messages": service.messages(subscription_id)}
            elif (match := _PUSH_PATH.fullmatch(parts.path)) and method == "POST":
                message, location = service.push(
                    match["subscription_id"], body=body, headers=self.headers, origin=origin
                )
                status, answer = 201, None
                logger.info("push %s to %s", message["id"], message["subscription"])
            else:
                raise ApiError(404, "not found")
        except ApiError as error:
            status, answer = error.status, {"error": error.message}
        except Exception:
            logger.exception("sandbox error on %s %s", method, self.path)
            status, answer = 500, {"error": "internal error"}
        self._answer(status, answer, location)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise ApiError(400, "Content-Length must be a number")
        if int(length) > MAX_BODY_BYTES:
            self.rfile.read(int(length))  # drained, so the caller reads the answer, not a reset
            raise ApiError(413, f"a push message body is at most {MAX_BODY_BYTES} bytes")
        return self.rfile.read(int(length))

    def _answer(self, status: int, answer: dict | None, location: str) -> None:
        body = b"" if answer is None else json.dumps(answer, separators=(",", ":")).encode()
        try:
            self.send_response(status)
            if answer is not None:
                self.send_header("Content-Type", "application/json")
            if location:
                self.send_header("Location", location)
            if status in {429, 503}:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _json(body: bytes) -> dict:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "request body must be JSON") from None
    if not isinstance(request, dict):
        raise ApiError(400, "request body must be a JSON object")
    return request


def start_server(host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Serve the sandbox from a daemon thread; port 0 picks a free port (see .url)."""
    return serve(_Handler, SandboxPushService(), host=host, port=port, name="push-sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.push_service", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8013)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s push-sandbox %(message)s")

    server = start_server(arguments.host, arguments.port)
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
