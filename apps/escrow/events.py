"""Domain events of escrow (payloads are built here only).

Amounts travel as decimal strings. `party_organization_ids` names who the live feed
tells: both parties of the escrow.
"""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class EscrowEvent(DomainEvent):
    aggregate_type = "escrow"
    escrow_id: str
    order_id: str
    status: str
    currency: str
    held_amount: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.escrow_id


@dataclass(frozen=True, kw_only=True)
class EscrowCreated(EscrowEvent):
    event_type = "escrow.created"
    amount: str
    commission_amount: str


@dataclass(frozen=True, kw_only=True)
class EscrowFundingRequested(EscrowEvent):
    event_type = "escrow.funding_requested"
    transaction_id: str


@dataclass(frozen=True, kw_only=True)
class EscrowFunded(EscrowEvent):
    event_type = "escrow.funded"
    transaction_id: str


@dataclass(frozen=True, kw_only=True)
class EscrowFundingFailed(EscrowEvent):
    event_type = "escrow.funding_failed"
    transaction_id: str
    failure_reason: str


@dataclass(frozen=True, kw_only=True)
class EscrowReleased(EscrowEvent):
    """Money went to the supplier: `amount` gross, of which `commission` to the platform."""

    event_type = "escrow.released"
    amount: str
    commission: str
    automatic: bool


@dataclass(frozen=True, kw_only=True)
class EscrowRefunded(EscrowEvent):
    event_type = "escrow.refunded"
    amount: str
    transaction_id: str


@dataclass(frozen=True, kw_only=True)
class EscrowRefundCompleted(EscrowEvent):
    """The provider confirmed the money is back on the client's card."""

    event_type = "escrow.refund_completed"
    amount: str
    transaction_id: str


@dataclass(frozen=True, kw_only=True)
class EscrowRefundFailed(EscrowEvent):
    """The provider could not return the money: it was credited to the client's available balance."""

    event_type = "escrow.refund_failed"
    amount: str
    transaction_id: str
    failure_reason: str


@dataclass(frozen=True, kw_only=True)
class EscrowDisputed(EscrowEvent):
    event_type = "escrow.disputed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class EscrowDisputeResolved(EscrowEvent):
    event_type = "escrow.dispute_resolved"
    released: str
    refunded: str
    note: str


@dataclass(frozen=True, kw_only=True)
class EscrowClosed(EscrowEvent):
    event_type = "escrow.closed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class LedgerAdjusted(DomainEvent):
    event_type = "ledger.adjusted"
    aggregate_type = "journal_entry"
    entry_id: str
    adjusted_organization_id: str
    reason: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.entry_id
