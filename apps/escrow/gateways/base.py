"""The payment gateway adapter: what escrow asks of a payment provider, whoever it is.

A provider's answer to a request is never final: it says "pending" (or "failed" at
once), and confirms the outcome later by a signed webhook. Every request carries an
idempotency key, so the caller may send it again after a timeout or an outage and get
the same charge or refund, never a second one. docs/payment-gateway.md has the contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from apps.core.task_bases import TransientError


class ResultStatus(StrEnum):
    PENDING = "pending"  # accepted; the webhook will say how it ended
    FAILED = "failed"  # refused at once; no webhook need be awaited


class WebhookEventType(StrEnum):
    CHARGE_SUCCEEDED = "charge.succeeded"
    CHARGE_FAILED = "charge.failed"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"


@dataclass(frozen=True)
class GatewayResult:
    """The provider's immediate answer to a charge or refund request."""

    external_id: str  # the provider's id of the charge or refund
    status: str  # ResultStatus
    failure_reason: str = ""


@dataclass(frozen=True)
class WebhookNotice:
    """A verified webhook: how a charge or refund ended, as the provider tells it."""

    provider: str
    event_id: str  # the same for every delivery of one event: deduplicate on it
    event_type: str  # WebhookEventType
    external_id: str  # of the charge or refund the event is about
    reference: str  # ours, as sent with the request
    amount: Decimal
    currency: str
    metadata: dict
    failure_reason: str
    occurred_at: datetime  # aware, UTC: when the provider decided


class GatewayUnavailable(TransientError):
    """The provider could not be reached, did not answer in time, or answered 5xx.

    Transient, and the request may or may not have been carried out: retry later with the
    same idempotency key.
    """


class GatewayRejected(Exception):
    """The provider refused the request for good (a 4xx answer); retrying will not help."""

    def __init__(self, reason: str, *, status_code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class WebhookRejected(Exception):
    """A webhook that must not be believed. reason: "signature", "stale" or "malformed"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PaymentGateway(ABC):
    """One payment provider. Instances are shared by threads (gateway_for caches them)."""

    name: str

    @classmethod
    @abstractmethod
    def from_options(cls, *, name: str, options: Mapping[str, Any]) -> Self:
        """The gateway configured by its PAYMENT_GATEWAYS entry (without BACKEND)."""

    @abstractmethod
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
        """Asks the provider to take the money; the answer is never final.

        The provider confirms by webhook (charge.succeeded or charge.failed). Safe to retry
        with the same idempotency_key: the provider answers with the same charge. Raises
        GatewayUnavailable (retry) or GatewayRejected (do not).
        """

    @abstractmethod
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
        """Asks the provider to give back part or all of a succeeded charge; never final.

        The provider confirms by webhook (refund.succeeded or refund.failed). Safe to retry
        with the same idempotency_key. Raises GatewayRejected when the charge is unknown, not
        succeeded, in another currency or has less left to refund than `amount`.
        """

    @abstractmethod
    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> WebhookNotice:
        """The notice in a webhook, once its signature and age are proven; else WebhookRejected.

        body: the raw request body, byte for byte; headers: the request's headers (names in
        any case); now: the time to judge its age by (default: the current time).
        """
