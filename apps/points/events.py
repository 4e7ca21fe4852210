"""Domain events of points and referrals (payloads built here only), written to the outbox by the
services: notifications may tell a person what they earned, webhooks pass them on; the referral's
own `referral.qualified` is what the referral reward rule earns points for."""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PointTransactionRecorded(DomainEvent):
    """A line was added to a person's ledger (a reward, a staff credit or penalty). The
    organization is the one whose event earned it (none for a staff adjustment)."""

    event_type = "point_transaction.recorded"
    aggregate_type = "point_transaction"
    transaction_id: str
    user_id: str
    type: str
    category: str
    amount: int
    balance: int
    description: str
    rule_key: str

    def aggregate_id(self) -> str:
        return self.transaction_id


@dataclass(frozen=True, kw_only=True)
class ReferralEvent(DomainEvent):
    """Owned by the referred organization (the one whose order qualified it, or refused it)."""

    aggregate_type = "referral"
    referral_id: str
    referrer_user_id: str
    referred_user_id: str
    referred_organization_id: str | None

    def aggregate_id(self) -> str:
        return self.referral_id


@dataclass(frozen=True, kw_only=True)
class ReferralQualified(ReferralEvent):
    """The referred organization completed its first order or service order: the rules of this
    event type (by default REFERRAL 200 to `referrer_user_id`) reward the referrer."""

    event_type = "referral.qualified"
    qualifying_event_type: str
    qualifying_event_id: str


@dataclass(frozen=True, kw_only=True)
class ReferralStatusChanged(ReferralEvent):
    """REWARDED once the referrer's points are recorded, or REFUSED (self-referral, a loop, an
    organization already referred or already a customer) with the reason."""

    event_type = "referral.status_changed"
    from_status: str
    to_status: str
    reason: str
