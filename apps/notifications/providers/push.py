"""Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm encryption (RFC 8291), by pywebpush.

A browser's PushManager.subscribe() gives the site an endpoint URL at its push service (FCM,
Mozilla autopush, Apple) and two keys; push_send() encrypts a payload for those keys, signs
the request with our VAPID key and POSTs it to the endpoint. settings.WEB_PUSH configures it;
docs/notification-providers.md has the contract and how to make keys.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from apps.core import outbound
from apps.core.task_bases import TransientError

__all__ = [
    "PushRejected",
    "PushResult",
    "PushSubscriptionGone",
    "PushUnavailable",
    "push_send",
    "vapid_public_key",
]

logger = logging.getLogger(__name__)

URGENCIES = ("very-low", "low", "normal", "high")
# A push message is at most 4096 bytes on the wire (RFC 8030); aes128gcm adds an 86-byte
# header, a 16-byte tag and a 1-byte padding delimiter to the plaintext.
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
# RFC 8292 allows at most 24 hours; half of it leaves room for a clock that runs ahead.
TOKEN_LIFETIME_SECONDS = 12 * 3600
DEFAULT_TTL_SECONDS = 24 * 3600
DEFAULT_TIMEOUT = {"CONNECT": 2.0, "READ": 5.0}


@dataclass(frozen=True)
class PushResult:
    provider_id: str  # the push service's Location header (the message's URL), or ""


class PushSubscriptionGone(Exception):
    """The push service answered 404 or 410: the subscription is dead; delete it."""


class PushRejected(Exception):
    """The push service refused the message for good (another 4xx), or it could not be sent as
    asked (an invalid subscription key, a payload too large, an endpoint not allowed)."""

    def __init__(self, reason: str, *, status_code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class PushUnavailable(TransientError):
    """The push service could not be reached, timed out, or answered 429 or 5xx: retry later."""

    def __init__(self, reason: str, *, retry_after: str | None = None):
        super().__init__(reason)
        self.retry_after = retry_after  # the Retry-After header as sent, when there was one


def push_send(
    *, endpoint: str, p256dh: str, auth: str, payload: dict, ttl: int | None = None, urgency: str = "normal"
) -> PushResult:
    """Encrypts `payload` (as JSON) for the subscription and hands it to its push service.

    ttl: seconds the push service may hold the message for an offline browser (default
    WEB_PUSH["TTL"]). Raises PushSubscriptionGone, PushRejected or PushUnavailable.
    """
    options = _options()
    origin = _checked_origin(endpoint, allow_http=bool(options.get("ALLOW_HTTP_ENDPOINTS")))
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {URGENCIES}, not {urgency!r}")
    ttl = int(options.get("TTL", DEFAULT_TTL_SECONDS) if ttl is None else ttl)
    if ttl < 0:
        raise ValueError("ttl must not be negative")
    data = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PushRejected(f"payload is {len(data)} bytes, more than the {MAX_PAYLOAD_BYTES} a push can carry")

    claims = {"sub": options["SUBJECT"], "aud": origin, "exp": int(time.time()) + TOKEN_LIFETIME_SECONDS}
    headers = {**_signer(options["VAPID_PRIVATE_KEY"]).sign(claims), "Urgency": urgency}
    try:
        pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
        body = pusher.encode(data, content_encoding="aes128gcm")["body"]
    except (WebPushException, binascii.Error, ValueError, TypeError) as error:
        # Nothing was sent: the subscription's keys cannot be used.
        raise PushRejected(f"the subscription's keys are not valid: {error.__class__.__name__}") from error
    connect, read = _timeout(options)
    request_headers = {
        **headers,
        "TTL": str(ttl),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
    }
    try:
        # The endpoint is a URL a browser gave us: sent through the kernel's outbound client, which
        # refuses private and loopback addresses (unless allowed), pins the address it checked
        # and follows no redirect (a push endpoint that redirects is not a push service).
        response = outbound.request(
            "POST", endpoint, body=body, headers=request_headers, connect_timeout=connect, read_timeout=read
        )
    except outbound.OutboundRefused as error:
        raise PushRejected(str(error)) from error
    except outbound.OutboundFailed as error:
        raise PushUnavailable(f"{origin}: {error}") from error

    status = response.status
    logger.info("notifications.push.answered", extra={"push_service": origin, "status_code": status})
    if status in {404, 410}:
        raise PushSubscriptionGone(f"{origin}: HTTP {status}")
    if status == 429 or status >= 500:
        raise PushUnavailable(f"{origin}: HTTP {status}", retry_after=response.headers.get("retry-after"))
    if not 200 <= status < 300:
        raise PushRejected(_error_message(response), status_code=status)
    return PushResult(provider_id=response.headers.get("location", ""))


def vapid_public_key() -> str:
    """Our VAPID public key, base64url of the uncompressed P-256 point: a browser's applicationServerKey."""
    options = _options()
    derived = _public_key_of(_signer(options["VAPID_PRIVATE_KEY"]))
    configured = (options.get("VAPID_PUBLIC_KEY") or "").strip().rstrip("=")
    if configured and configured != derived:
        raise ImproperlyConfigured('WEB_PUSH["VAPID_PUBLIC_KEY"] is not the public half of VAPID_PRIVATE_KEY.')
    return derived


# --- Configuration ---------------------------------------------------------------------


def _options() -> dict:
    options = dict(getattr(settings, "WEB_PUSH", None) or {})
    missing = [key for key in ("VAPID_PRIVATE_KEY", "SUBJECT") if not options.get(key)]
    if missing:
        raise ImproperlyConfigured(f"WEB_PUSH needs {', '.join(missing)} (docs/notification-providers.md).")
    if not str(options["SUBJECT"]).startswith(("mailto:", "https:")):
        raise ImproperlyConfigured('WEB_PUSH["SUBJECT"] must be a mailto: or https: URL.')
    return options


@functools.lru_cache(maxsize=4)
def _signer(private_key: str) -> Vapid:
    """The VAPID signer of a key given as PEM, or base64url of the raw 32-byte scalar or of DER."""
    text = private_key.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError, binascii.Error) as error:
        raise ImproperlyConfigured('WEB_PUSH["VAPID_PRIVATE_KEY"] is not a readable private key.') from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ImproperlyConfigured('WEB_PUSH["VAPID_PRIVATE_KEY"] must be a P-256 (prime256v1) key.')
    return Vapid(key)


def _public_key_of(signer: Vapid) -> str:
    point = signer.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _checked_origin(endpoint: str, *, allow_http: bool) -> str:
    """The endpoint's origin (a VAPID token's aud); PushRejected for a URL we must not call."""
    parts = urlsplit(endpoint)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
        raise PushRejected(f"a push endpoint must be an {' or '.join(sorted(schemes))} URL")
    return f"{parts.scheme}://{parts.netloc}"


def _timeout(options: dict) -> tuple[float, float]:
    option = options.get("TIMEOUT") or DEFAULT_TIMEOUT
    if isinstance(option, int | float):
        return float(option), float(option)
    return float(option.get("CONNECT", DEFAULT_TIMEOUT["CONNECT"])), float(option.get("READ", DEFAULT_TIMEOUT["READ"]))


def _error_message(response: outbound.OutboundResponse) -> str:
    text = response.body.decode("utf-8", "replace").strip()[:200]
    return f"HTTP {response.status}: {text}" if text else f"HTTP {response.status}"
