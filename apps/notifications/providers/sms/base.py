"""The SMS gateway adapter: what notifications ask of an SMS provider, whoever it is.

A provider's acceptance is not delivery: `send` says the provider took the message, and the
provider reports later, by a signed callback, whether the handset got it. docs/notification-
providers.md has the contract.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from apps.core.task_bases import TransientError


class SentStatus(StrEnum):
    SENT = "sent"  # accepted by the provider; the delivery report says how it ended


class ReportStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class SentMessage:
    provider_id: str  # the provider's message id; the delivery report names it
    status: str  # SentStatus


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    reference: str  # ours, as sent with the message
    status: str  # ReportStatus
    error: str  # the provider's reason when failed, else ""


class SmsRejected(Exception):
    """The provider refused the message for good (bad number, refused body, bad key): do not retry."""

    def __init__(self, reason: str, *, status_code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class SmsUnavailable(TransientError):
    """The provider could not be reached, timed out, or answered 5xx or 429: retry later.

    The message may or may not have been accepted; a retry may send it twice (SMS providers
    offer no idempotency key), so callers keep retries few.
    """


class ReportRejected(ValueError):
    """A delivery report that must not be believed. reason: "signature", "stale" or "malformed"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SmsGateway(ABC):
    """One SMS provider. Instances are shared by threads (sms_gateway() caches them)."""

    name: str

    @classmethod
    @abstractmethod
    def from_options(cls, *, name: str, options: Mapping[str, Any]) -> Self:
        """The gateway configured by its SMS_GATEWAYS entry (without BACKEND)."""

    @abstractmethod
    def send(self, *, to: str, body: str, reference: str) -> SentMessage:
        """Hands the message to the provider; its outcome comes later in a delivery report.

        to: E.164 ("+14155550100"); reference: ours, echoed in the report. Raises SmsRejected
        (do not retry) or SmsUnavailable (retry later).
        """

    @abstractmethod
    def parse_report(self, *, body: bytes, headers: Mapping[str, str], now: datetime | None = None) -> DeliveryReport:
        """The report in a status callback once its signature and age are proven; else ReportRejected.

        body: the raw request body, byte for byte; headers: the request's (names in any case);
        now: the time to judge its age by (default: the current time). The signature is
        compared in constant time; a report signed more than the tolerance (5 minutes by
        default) from now is refused.
        """
