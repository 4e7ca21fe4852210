"""A payment provider of our own, in the manner of Stripe, for development and tests.

It takes charges and refunds over HTTP, answers "pending", decides the outcome from the
payment-method token a moment later and reports it by a signed webhook: the conversation
a real provider has with us, so apps/escrow/gateways/sandbox.py and everything behind it
are exercised across a real wire. State lives in memory for as long as the process.

    python -m sandboxes.payment_gateway --port 8010 --secret S --api-key K [--webhook-url URL]

docs/payment-gateway.md describes the API, the tokens and the signature scheme.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from sandboxes.serving import SandboxServer, StateServer, post_callback, serve

logger = logging.getLogger("sandboxes.payment_gateway")

SIGNATURE_HEADER = "Sandbox-Signature"
USER_AGENT = "PaymentSandbox/1.0 (+docs/payment-gateway.md)"

CARD_OK = "pm_card_ok"
CARD_DECLINED = "pm_card_declined"
CARD_DUPLICATE_WEBHOOK = "pm_card_duplicate_webhook"
CARD_TIMEOUT = "pm_card_timeout"
CARD_REFUND_FAILS = "pm_card_refund_fails"
PAYMENT_METHODS = frozenset({CARD_OK, CARD_DECLINED, CARD_DUPLICATE_WEBHOOK, CARD_TIMEOUT, CARD_REFUND_FAILS})

# A real provider settles after it has answered; the pause keeps the webhook behind the answer.
SETTLE_DELAY_SECONDS = 0.02
DUPLICATE_DELIVERY_DELAY_SECONDS = 0.3
# Waits before the second to fifth attempt of one delivery; after the fifth it is given up.
RETRY_DELAYS_SECONDS = (0.2, 0.5, 1.0, 2.0)
DELIVERY_TIMEOUT_SECONDS = 5
MAX_BODY_BYTES = 64 * 1024

# Plain decimal notation only: no exponent, no sign, no NaN; JSON numbers are refused
# outright, because a float cannot carry an amount of money exactly.
AMOUNT_PATTERN = re.compile(r"\d{1,15}(\.\d{1,6})?")
CURRENCY_PATTERN = re.compile(r"[A-Za-z]{3}")


class ApiError(Exception):
    """An answer other than success: the status and the message of {"error": ...}."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Answer:
    status: int
    body: dict
    replayed: bool = False
    delay_seconds: float = 0.0  # pm_card_timeout: the answer is held back, the charge is not


@dataclass
class Charge:
    id: str
    reference: str
    amount: Decimal
    currency: str
    payment_method: str
    metadata: dict
    callback_url: str
    created: int
    status: str = "pending"
    failure_reason: str = ""
    refund_ids: list[str] = field(default_factory=list)

    def public(self) -> dict:
        return {
            "id": self.id,
            "object": "charge",
            "reference": self.reference,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "metadata": self.metadata,
            "failure_reason": self.failure_reason,
        }


@dataclass
class Refund:
    id: str
    reference: str
    charge_id: str
    amount: Decimal
    currency: str
    metadata: dict
    callback_url: str
    created: int
    status: str = "pending"
    failure_reason: str = ""

    def public(self) -> dict:
        return {
            "id": self.id,
            "object": "refund",
            "reference": self.reference,
            "charge": self.charge_id,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "metadata": self.metadata,
            "failure_reason": self.failure_reason,
        }


@dataclass
class Event:
    id: str
    type: str
    reference: str
    callback_url: str
    # The exact bytes sent: every delivery of the event carries the same body, newly signed.
    body: bytes
    deliveries: int = 0


@dataclass
class StoredAnswer:
    fingerprint: str
    body: dict


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _canonical(request: dict) -> str:
    return json.dumps(request, sort_keys=True, separators=(",", ":"))


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The Sandbox-Signature header for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


class SandboxProvider:
    """The provider's state and rules, apart from HTTP; every change under one lock."""

    def __init__(self, *, secret: str, api_key: str, webhook_url: str | None = None, slow_seconds: float = 3.0):
        if webhook_url and not _is_http_url(webhook_url):
            raise ValueError(f"webhook_url must be an http(s) URL, not {webhook_url!r}")
        self.secret = secret
        self.api_key = api_key
        self.webhook_url = webhook_url or ""
        self.slow_seconds = slow_seconds
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._charges: dict[str, Charge] = {}
        self._refunds: dict[str, Refund] = {}
        self._events: dict[str, Event] = {}
        self._answers: dict[tuple[str, str], StoredAnswer] = {}
        self._attempts: list[dict] = []

    # --- The API -----------------------------------------------------------------------

    def charge_create(self, request: dict, *, idempotency_key: str) -> Answer:
        def create() -> tuple[dict, Callable[[], None]]:
            reference, amount, currency, metadata, callback_url = _common_fields(request)
            payment_method = request.get("payment_method") or CARD_OK
            if payment_method not in PAYMENT_METHODS:
                raise ApiError(400, "unknown payment_method")
            charge = Charge(
                id=_new_id("ch"),
                reference=reference,
                amount=amount,
                currency=currency,
                payment_method=payment_method,
                metadata=metadata,
                callback_url=callback_url,
                created=int(time.time()),
            )
            self._charges[charge.id] = charge
            body = {**charge.public(), "payment_method": payment_method, "created": charge.created}
            return body, lambda: self._in_background(self._settle_charge, charge.id)

        answer = self._idempotent("charges", idempotency_key, request, create)
        if not answer.replayed and answer.body["payment_method"] == CARD_TIMEOUT:
            answer.delay_seconds = self.slow_seconds
        return answer

    def refund_create(self, request: dict, *, idempotency_key: str) -> Answer:
        def create() -> tuple[dict, Callable[[], None]]:
            reference, amount, currency, metadata, callback_url = _common_fields(request)
            charge = self._charges.get(request.get("charge") or "")
            if charge is None:
                raise ApiError(404, "no such charge")
            if currency != charge.currency:
                raise ApiError(400, "currency does not match the charge")
            if charge.status != "succeeded":
                raise ApiError(400, f"charge is {charge.status}, only a succeeded charge can be refunded")
            if amount > self._refundable(charge):
                raise ApiError(400, "amount exceeds what remains refundable of the charge")
            refund = Refund(
                id=_new_id("re"),
                reference=reference,
                charge_id=charge.id,
                amount=amount,
                currency=currency,
                metadata=metadata,
                callback_url=callback_url,
                created=int(time.time()),
            )
            self._refunds[refund.id] = refund
            charge.refund_ids.append(refund.id)
            body = {**refund.public(), "created": refund.created}
            return body, lambda: self._in_background(self._settle_refund, refund.id)

        return self._idempotent("refunds", idempotency_key, request, create)

    def _idempotent(
        self, scope: str, key: str, request: dict, create: Callable[[], tuple[dict, Callable[[], None]]]
    ) -> Answer:
        """The stored answer for a key seen before with the same request; else create() once.

        Like Stripe, only a request that created something is remembered: one refused by
        validation may be sent again, corrected, under the same key.
        """
        if not key:
            raise ApiError(400, "Idempotency-Key header is required")
        fingerprint = _canonical(request)
        with self._lock:
            stored = self._answers.get((scope, key))
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ApiError(409, "Idempotency-Key was already used with different parameters")
                return Answer(201, stored.body, replayed=True)
            body, then = create()
            self._answers[(scope, key)] = StoredAnswer(fingerprint, body)
        then()
        return Answer(201, body)

    def _refunds_of(self, charge: Charge) -> list[Refund]:
        return [self._refunds[refund_id] for refund_id in charge.refund_ids]

    def _refundable(self, charge: Charge) -> Decimal:
        # A pending refund holds its amount; a failed one gives it back.
        held = sum((refund.amount for refund in self._refunds_of(charge) if refund.status != "failed"), Decimal(0))
        return charge.amount - held

    # --- Settling and webhooks ---------------------------------------------------------

    def _in_background(self, target: Callable, *args) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def _settle_charge(self, charge_id: str) -> None:
        if self.stopping.wait(SETTLE_DELAY_SECONDS):
            return
        with self._lock:
            charge = self._charges[charge_id]
            if charge.payment_method == CARD_DECLINED:
                charge.status, charge.failure_reason = "failed", "card_declined"
            else:
                charge.status = "succeeded"
            event = self._event_create(f"charge.{charge.status}", charge.public(), charge.callback_url)
        self._deliver(event, self._next_delivery(event))
        if charge.payment_method == CARD_DUPLICATE_WEBHOOK and not self.stopping.wait(DUPLICATE_DELIVERY_DELAY_SECONDS):
            self._deliver(event, self._next_delivery(event))

    def _settle_refund(self, refund_id: str) -> None:
        if self.stopping.wait(SETTLE_DELAY_SECONDS):
            return
        with self._lock:
            refund = self._refunds[refund_id]
            if self._charges[refund.charge_id].payment_method == CARD_REFUND_FAILS:
                refund.status, refund.failure_reason = "failed", "refund_declined"
            else:
                refund.status = "succeeded"
            event = self._event_create(f"refund.{refund.status}", refund.public(), refund.callback_url)
        self._deliver(event, self._next_delivery(event))

    def _event_create(self, event_type: str, data_object: dict, callback_url: str) -> Event:
        event_id = _new_id("evt")
        payload = {"id": event_id, "type": event_type, "created": int(time.time()), "data": {"object": data_object}}
        body = json.dumps(payload, separators=(",", ":")).encode()
        event = Event(
            id=event_id, type=event_type, reference=data_object["reference"], callback_url=callback_url, body=body
        )
        self._events[event_id] = event
        return event

    def _next_delivery(self, event: Event) -> int:
        with self._lock:
            event.deliveries += 1
            return event.deliveries

    def _deliver(self, event: Event, delivery: int) -> None:
        """Send the event, retrying a failed attempt with backoff; record every attempt."""
        url = event.callback_url or self.webhook_url
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_SECONDS), start=1):
            if delay and self.stopping.wait(delay):
                return
            sent_at = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                SIGNATURE_HEADER: sign(self.secret, event.body, sent_at),
            }
            status, error = self._post(url, event.body, headers) if url else (None, "no callback url")
            self._record_attempt(event, delivery, attempt, url, status, error, headers, sent_at)
            # Done once answered 2xx; with nowhere to send it, one attempt is recorded and no retry.
            if not url or (status is not None and 200 <= status < 300):
                return

    def _post(self, url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
        return post_callback(url, body, headers, timeout=DELIVERY_TIMEOUT_SECONDS)

    def _record_attempt(self, event, delivery, attempt, url, status, error, headers, sent_at) -> None:
        logger.info(
            "webhook %s %s delivery %d attempt %d to %s: %s",
            event.id,
            event.type,
            delivery,
            attempt,
            url or "(none)",
            status or error,
        )
        with self._lock:
            self._attempts.append(
                {
                    "event_id": event.id,
                    "type": event.type,
                    "reference": event.reference,
                    "delivery": delivery,
                    "attempt": attempt,
                    "url": url,
                    "status": status,
                    "error": error,
                    "sent_at": sent_at,
                    "body": event.body.decode(),
                    "headers": dict(headers),
                }
            )

    # --- Inspection and control (a sandbox's own endpoints) ------------------------------

    def charge_view(self, charge_id: str) -> dict:
        with self._lock:
            charge = self._charges.get(charge_id)
            if charge is None:
                raise ApiError(404, "no such charge")
            refunds = self._refunds_of(charge)
            refunded = sum((refund.amount for refund in refunds if refund.status == "succeeded"), Decimal(0))
            return {
                **charge.public(),
                "payment_method": charge.payment_method,
                "created": charge.created,
                "amount_refunded": str(refunded),
                "refunds": [refund.public() for refund in refunds],
            }

    def webhooks(self, reference: str | None = None) -> list[dict]:
        with self._lock:
            return [
                dict(attempt) for attempt in self._attempts if reference is None or attempt["reference"] == reference
            ]

    def resend(self, event_id: str) -> dict:
        with self._lock:
            event = self._events.get(event_id)
        if event is None:
            raise ApiError(404, "no such event")
        delivery = self._next_delivery(event)
        self._in_background(self._deliver, event, delivery)
        return {"event_id": event.id, "delivery": delivery}


def _common_fields(request: dict) -> tuple[str, Decimal, str, dict, str]:
    """reference, amount, currency, metadata and callback_url of a charge or refund, checked."""
    reference = request.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise ApiError(400, "reference is required")
    raw_amount = request.get("amount")
    if not isinstance(raw_amount, str) or not AMOUNT_PATTERN.fullmatch(raw_amount):
        raise ApiError(400, 'amount must be a decimal string, e.g. "125.50"')
    amount = Decimal(raw_amount)
    if amount <= 0:
        raise ApiError(400, "amount must be greater than zero")
    currency = request.get("currency")
    if not isinstance(currency, str) or not CURRENCY_PATTERN.fullmatch(currency):
        raise ApiError(400, "currency must be a three-letter code")
    metadata = request.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ApiError(400, "metadata must be an object")
    callback_url = request.get("callback_url") or ""
    if not isinstance(callback_url, str) or (callback_url and not _is_http_url(callback_url)):
        raise ApiError(400, "callback_url must be an http(s) URL")
    return reference, amount, currency.upper(), metadata, callback_url


# --- HTTP ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server_version = "PaymentSandbox/1.0"
    server: StateServer
    _body = b""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        provider = self.server.state
        parts = urlsplit(self.path)
        try:
            # Read before any refusal: closing a socket with the body unread resets the
            # connection, and the caller would see that instead of the answer.
            self._body = self._read_body() if method == "POST" else b""
            if parts.path.startswith("/v1/"):
                self._authenticate(provider)
            answer = self._route(provider, method, parts.path, parse_qs(parts.query))
        except ApiError as error:
            answer = Answer(error.status, {"error": error.message})
        except Exception:
            logger.exception("sandbox error on %s %s", method, self.path)
            answer = Answer(500, {"error": "internal error"})
        if answer.delay_seconds and provider.stopping.wait(answer.delay_seconds):
            return
        self._answer(answer)

    def _authenticate(self, provider: SandboxProvider) -> None:
        presented = self.headers.get("Authorization", "")
        expected = f"Bearer {provider.api_key}"
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise ApiError(401, "invalid api key")

    def _route(self, provider: SandboxProvider, method: str, path: str, query: dict) -> Answer:
        reference = query.get("reference", [None])[0]
        routes = (
            ("GET", r"/health", lambda match: Answer(200, {"status": "ok"})),
            ("POST", r"/v1/charges", lambda match: provider.charge_create(self._json(), idempotency_key=self._key())),
            ("POST", r"/v1/refunds", lambda match: provider.refund_create(self._json(), idempotency_key=self._key())),
            (
                "GET",
                r"/_sandbox/charges/(?P<charge_id>\w+)",
                lambda match: Answer(200, provider.charge_view(match["charge_id"])),
            ),
            ("GET", r"/_sandbox/webhooks", lambda match: Answer(200, {"webhooks": provider.webhooks(reference)})),
            (
                "POST",
                r"/_sandbox/webhooks/(?P<event_id>\w+)/resend",
                lambda match: Answer(202, provider.resend(match["event_id"])),
            ),
        )
        path_known = False
        for route_method, pattern, handle in routes:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            if route_method == method:
                return handle(match)
            path_known = True
        raise ApiError(405, "method not allowed") if path_known else ApiError(404, "not found")

    def _key(self) -> str:
        return self.headers.get("Idempotency-Key", "").strip()

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise ApiError(400, "Content-Length must be a number")
        if int(length) > MAX_BODY_BYTES:
            raise ApiError(413, "request body too large")
        return self.rfile.read(int(length))

    def _json(self) -> dict:
        try:
            request = json.loads(self._body or b"null")
        except ValueError:
            raise ApiError(400, "request body must be JSON") from None
        if not isinstance(request, dict):
            raise ApiError(400, "request body must be a JSON object")
        return request

    def _answer(self, answer: Answer) -> None:
        body = json.dumps(answer.body, separators=(",", ":")).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if answer.replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The caller gave up waiting (pm_card_timeout): what it asked for is done all the same.
            pass


def start_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    secret: str,
    api_key: str,
    webhook_url: str | None = None,
    slow_seconds: float = 3.0,
) -> SandboxServer:
    """Serve the sandbox from a daemon thread; port 0 picks a free port (see .url)."""
    provider = SandboxProvider(secret=secret, api_key=api_key, webhook_url=webhook_url, slow_seconds=slow_seconds)
    return serve(_Handler, provider, host=host, port=port, name="payment-sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.payment_gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--secret", default=os.environ.get("PAYMENT_SANDBOX_SECRET"), help="signs the webhooks")
    parser.add_argument("--api-key", default=os.environ.get("PAYMENT_SANDBOX_API_KEY"), help="Bearer key of /v1/*")
    parser.add_argument("--webhook-url", default=None, help="where webhooks go when a request names no callback_url")
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="how long pm_card_timeout holds its answer")
    arguments = parser.parse_args(argv)
    if not arguments.secret or not arguments.api_key:
        parser.error("--secret and --api-key are required (or PAYMENT_SANDBOX_SECRET / PAYMENT_SANDBOX_API_KEY)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s payment-sandbox %(message)s")

    server = start_server(
        arguments.host,
        arguments.port,
        secret=arguments.secret,
        api_key=arguments.api_key,
        webhook_url=arguments.webhook_url,
        slow_seconds=arguments.slow_seconds,
    )
    logger.info("listening on %s, webhooks to %s", server.url, arguments.webhook_url or "(callback_url only)")
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda signum, frame: stop_requested.set())
    while not stop_requested.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
