"""The adapter for the sandbox provider (sandboxes/payment_gateway.py), over real HTTP.

Retries are the caller's: urllib3 makes exactly one attempt, so a Celery task that sees
GatewayUnavailable can retry with the same idempotency key and its own backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

import urllib3
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder

from apps.escrow.gateways.base import (
    GatewayRejected,
    GatewayResult,
    GatewayUnavailable,
    PaymentGateway,
    ResultStatus,
    WebhookEventType,
    WebhookNotice,
    WebhookRejected,
)

SIGNATURE_HEADER = "Sandbox-Signature"
DEFAULT_TIMEOUT = {"CONNECT": 2.0, "READ": 5.0}
DEFAULT_TOLERANCE_SECONDS = 300
USER_AGENT = "Manifest/1.0"

_AMOUNT_PATTERN = re.compile(r"\d+(\.\d+)?")
_TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST_PATTERN = re.compile(r"[0-9a-f]{64}")
_EVENT_TYPES = frozenset(WebhookEventType)


def _timeout(option: float | Mapping[str, float] | None) -> urllib3.Timeout:
    """TIMEOUT: seconds for both the connect and the read, or {"CONNECT": s, "READ": s}."""
    if option is None:
        option = DEFAULT_TIMEOUT
    if isinstance(option, int | float):
        return urllib3.Timeout(connect=float(option), read=float(option))
    return urllib3.Timeout(
        connect=float(option.get("CONNECT", DEFAULT_TIMEOUT["CONNECT"])),
        read=float(option.get("READ", DEFAULT_TIMEOUT["READ"])),
    )


def _decimal_string(amount: Decimal) -> str:
    # A float on the wire would round the amount; format "f" never writes an exponent.
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"amount must be a finite Decimal, not {amount!r}")
    return format(amount, "f")


class SandboxGateway(PaymentGateway):
    """The sandbox's /v1/charges and /v1/refunds, and its Sandbox-Signature webhooks."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        api_key: str,
        secret: str,
        timeout: urllib3.Timeout | None = None,
        webhook_url: str = "",
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    ):
        self.name = name
        self.url = url.rstrip("/")
        self.webhook_url = webhook_url
        self.tolerance_seconds = tolerance_seconds
        self._api_key = api_key
        self._secret = secret
        self._http = urllib3.PoolManager(timeout=timeout or _timeout(None), retries=False)

    @classmethod
    def from_options(cls, *, name: str, options: Mapping[str, Any]) -> Self:
        missing = [key for key in ("URL", "API_KEY", "SECRET") if not options.get(key)]
        if missing:
            raise ImproperlyConfigured(f"PAYMENT_GATEWAYS[{name!r}] needs {', '.join(missing)}.")
        return cls(
            name=name,
            url=options["URL"],
            api_key=options["API_KEY"],
            secret=options["SECRET"],
            timeout=_timeout(options.get("TIMEOUT")),
            webhook_url=options.get("WEBHOOK_URL") or "",
            tolerance_seconds=int(options.get("TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS)),
        )

    def __repr__(self) -> str:
        return f"<SandboxGateway {self.name} {self.url}>"  # never the key or the secret

    # --- Requests ----------------------------------------------------------------------

    def charge_create(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        payment_method: str,
        metadata: dict,
        idempotency_key: str,
    ) -> GatewayResult:
        return self._create(
            "/v1/charges",
            {
                "reference": reference,
                "amount": _decimal_string(amount),
                "currency": currency,
                "payment_method": payment_method,
                "metadata": metadata,
                "callback_url": self.webhook_url,
            },
            idempotency_key=idempotency_key,
        )

    def refund_create(
        self,
        *,
        reference: str,
        charge_external_id: str,
        amount: Decimal,
        currency: str,
        metadata: dict,
        idempotency_key: str,
    ) -> GatewayResult:
        return self._create(
            "/v1/refunds",
            {
                "reference": reference,
                "charge": charge_external_id,
                "amount": _decimal_string(amount),
                "currency": currency,
                "metadata": metadata,
                "callback_url": self.webhook_url,
            },
            idempotency_key=idempotency_key,
        )

    def _create(self, path: str, payload: dict, *, idempotency_key: str) -> GatewayResult:
        if not idempotency_key:
            raise ValueError("idempotency_key is required: it is what makes a retry safe")
        try:
            response = self._http.request(
                "POST",
                self.url + path,
                body=json.dumps(payload, cls=DjangoJSONEncoder).encode(),
                headers={
                    "Authorization": f"Bearer {self._api_key}",
                    "Idempotency-Key": idempotency_key,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                },
                redirect=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise GatewayUnavailable(f"{self.name}: {error.__class__.__name__} on {path}") from error

        # 429 is the provider asking us to slow down: transient like a 5xx.
        if response.status >= 500 or response.status == 429:
            raise GatewayUnavailable(f"{self.name}: HTTP {response.status} on {path}")
        if response.status >= 400:
            raise GatewayRejected(_error_message(response), status_code=response.status)
        try:
            answer = response.json()
            external_id, status = answer["id"], answer["status"]
        except (ValueError, TypeError, KeyError) as error:
            # Whatever happened, the idempotency key makes asking again safe.
            raise GatewayUnavailable(f"{self.name}: unreadable answer (HTTP {response.status}) on {path}") from error
        if not 200 <= response.status < 300 or not isinstance(external_id, str) or not external_id:
            raise GatewayUnavailable(f"{self.name}: unexpected answer (HTTP {response.status}) on {path}")
        if status == ResultStatus.FAILED:
            return GatewayResult(external_id, ResultStatus.FAILED, str(answer.get("failure_reason") or ""))
        return GatewayResult(external_id, ResultStatus.PENDING)

    # --- Webhooks ----------------------------------------------------------------------

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> WebhookNotice:
        timestamp = self._verified_timestamp(body, headers)
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if abs(now.timestamp() - timestamp) > self.tolerance_seconds:
            raise WebhookRejected("stale")
        return self._notice(body)

    def _verified_timestamp(self, body: bytes, headers: Mapping[str, str]) -> int:
        """The signing time of a body signed with our secret; WebhookRejected("signature") otherwise."""
        header = next((value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER.lower()), "")
        timestamp, signatures = None, []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t" and _TIMESTAMP_PATTERN.fullmatch(value):
                timestamp = int(value)
            elif key == "v1" and _HEX_DIGEST_PATTERN.fullmatch(value):
                signatures.append(value)  # more than one while the provider rolls its secret
        if timestamp is None or not signatures:
            raise WebhookRejected("signature")
        expected = hmac.new(self._secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, signature) for signature in signatures):
            raise WebhookRejected("signature")
        return timestamp

    def _notice(self, body: bytes) -> WebhookNotice:
        try:
            event = json.loads(body)
            data_object = event["data"]["object"]
            event_id, event_type, created = event["id"], event["type"], event["created"]
            external_id, reference = data_object["id"], data_object["reference"]
            amount, currency = data_object["amount"], data_object["currency"]
            metadata = data_object.get("metadata") or {}
            failure_reason = data_object.get("failure_reason") or ""
        except (ValueError, TypeError, KeyError):
            raise WebhookRejected("malformed") from None
        well_formed = (
            all(isinstance(value, str) and value for value in (event_id, external_id, reference, currency))
            and event_type in _EVENT_TYPES
            and isinstance(created, int)
            and not isinstance(created, bool)
            and isinstance(amount, str)
            and _AMOUNT_PATTERN.fullmatch(amount)
            and isinstance(metadata, dict)
            and isinstance(failure_reason, str)
        )
        if not well_formed:
            raise WebhookRejected("malformed")
        try:
            occurred_at = datetime.fromtimestamp(created, UTC)
        except (ValueError, OverflowError, OSError):
            raise WebhookRejected("malformed") from None
        return WebhookNotice(
            provider=self.name,
            event_id=event_id,
            event_type=WebhookEventType(event_type),
            external_id=external_id,
            reference=reference,
            amount=Decimal(amount),
            currency=currency,
            metadata=metadata,
            failure_reason=failure_reason,
            occurred_at=occurred_at,
        )


def _error_message(response: urllib3.BaseHTTPResponse) -> str:
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) and message else f"HTTP {response.status}"
