"""The adapter for the sandbox SMS gateway (sandboxes/sms_gateway.py), over real HTTP.

Retries are the caller's: the client makes exactly one attempt and follows no redirect, so a
Celery task that sees SmsUnavailable retries with its own backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Self

import httpx
from django.core.exceptions import ImproperlyConfigured

from apps.notifications.providers.sms.base import (
    DeliveryReport,
    ReportRejected,
    ReportStatus,
    SentMessage,
    SentStatus,
    SmsGateway,
    SmsRejected,
    SmsUnavailable,
)

SIGNATURE_HEADER = "Sandbox-Signature"
DEFAULT_TIMEOUT = {"CONNECT": 2.0, "READ": 5.0}
DEFAULT_TOLERANCE_SECONDS = 300
USER_AGENT = "Manifest/1.0"

_TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")
_REPORT_STATUSES = frozenset(ReportStatus)


def _timeout(option: float | Mapping[str, float] | None) -> httpx.Timeout:
    """TIMEOUT: seconds for connect and read alike, or {"CONNECT": s, "READ": s}."""
    if option is None:
        option = DEFAULT_TIMEOUT
    if isinstance(option, int | float):
        return httpx.Timeout(float(option))
    read = float(option.get("READ", DEFAULT_TIMEOUT["READ"]))
    return httpx.Timeout(read, connect=float(option.get("CONNECT", DEFAULT_TIMEOUT["CONNECT"])))


class SandboxSmsGateway(SmsGateway):
    """The sandbox's POST /v1/messages, and its Sandbox-Signature delivery reports."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        api_key: str,
        secret: str,
        status_callback_url: str = "",
        timeout: httpx.Timeout | None = None,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    ):
        self.name = name
        self.url = url.rstrip("/")
        self.status_callback_url = status_callback_url
        self.tolerance_seconds = tolerance_seconds
        self._api_key = api_key
        self._secret = secret
        self._http = httpx.Client(timeout=timeout or _timeout(None), follow_redirects=False)

    @classmethod
    def from_options(cls, *, name: str, options: Mapping[str, Any]) -> Self:
        missing = [key for key in ("URL", "API_KEY", "SECRET") if not options.get(key)]
        if missing:
            raise ImproperlyConfigured(f"SMS_GATEWAYS[{name!r}] needs {', '.join(missing)}.")
        return cls(
            name=name,
            url=options["URL"],
            api_key=options["API_KEY"],
            secret=options["SECRET"],
            status_callback_url=options.get("STATUS_CALLBACK_URL") or "",
            timeout=_timeout(options.get("TIMEOUT")),
            tolerance_seconds=int(options.get("TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS)),
        )

    def __repr__(self) -> str:
        return f"<SandboxSmsGateway {self.name} {self.url}>"  # never the key or the secret

    def send(self, *, to: str, body: str, reference: str) -> SentMessage:
        payload = {"to": to, "body": body, "reference": reference, "status_callback": self.status_callback_url or None}
        try:
            response = self._http.post(
                f"{self.url}/v1/messages",
                content=json.dumps(payload).encode(),
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
            )
        except httpx.HTTPError as error:
            raise SmsUnavailable(f"{self.name}: {error.__class__.__name__} on /v1/messages") from error

        # 429 is the provider asking us to slow down: transient like a 5xx.
        if response.status_code >= 500 or response.status_code == 429:
            raise SmsUnavailable(f"{self.name}: HTTP {response.status_code} on /v1/messages")
        if response.status_code >= 400:
            raise SmsRejected(_error_message(response), status_code=response.status_code)
        try:
            provider_id = response.json()["id"]
        except (ValueError, TypeError, KeyError) as error:
            raise SmsUnavailable(f"{self.name}: unreadable answer (HTTP {response.status_code})") from error
        if not 200 <= response.status_code < 300 or not isinstance(provider_id, str) or not provider_id:
            raise SmsUnavailable(f"{self.name}: unexpected answer (HTTP {response.status_code})")
        return SentMessage(provider_id=provider_id, status=SentStatus.SENT)

    def parse_report(self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> DeliveryReport:
        timestamp = self._verified_timestamp(body, headers)
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if abs(now.timestamp() - timestamp) > self.tolerance_seconds:
            raise ReportRejected("stale")
        return _report(body)

    def _verified_timestamp(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The signing time of a body signed with our secret; ReportRejected("signature") otherwise."""
        header = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER.lower()), "")
        timestamp, signatures = None, []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t" and _TIMESTAMP_PATTERN.fullmatch(value):
                timestamp = int(value)
            elif key == "v1" and _HEX_DIGEST_PATTERN.fullmatch(value):
                signatures.append(value)  # more than one while the provider rolls its secret
        if timestamp is None or not signatures:
            raise ReportRejected("signature")
        expected = hmac.new(self._secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, signature) for signature in signatures):
            raise ReportRejected("signature")
        return timestamp


def _report(body: bytes) -> DeliveryReport:
    try:
        report = json.loads(body)
        provider_id, reference, status = report["id"], report["reference"], report["status"]
        error = report.get("error") or ""
    except (ValueError, TypeError, KeyError):
        raise ReportRejected("malformed") from None
    well_formed = (
        isinstance(provider_id, str)
        and provider_id
        and isinstance(reference, str)
        and status in _REPORT_STATUSES
        and isinstance(error, str)
    )
    if not well_formed:
        raise ReportRejected("malformed")
    return DeliveryReport(provider_id=provider_id, reference=reference, status=ReportStatus(status), error=error)


def _error_message(response: httpx.Response) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) and message else f"HTTP {response.status_code}"
