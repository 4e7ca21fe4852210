"""Domain events of disputes (payloads are built here only), written to the outbox by the
services: the notifications context tells the parties, the live feed shows the case moving."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class DisputeEvent(DomainEvent):
    aggregate_type = "dispute"
    dispute_id: str
    number: str
    order_id: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.dispute_id


@dataclass(frozen=True, kw_only=True)
class DisputeOpened(DisputeEvent):
    event_type = "dispute.opened"
    opened_by_side: str
    reason_category: str
    amount_claimed: str | None
    currency: str
    escrow_frozen: bool
    response_due_at: str


@dataclass(frozen=True, kw_only=True)
class DisputeStatusChanged(DisputeEvent):
    event_type = "dispute.status_changed"
    from_status: str
    to_status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DisputeEvidenceAdded(DisputeEvent):
    event_type = "dispute.evidence_added"
    evidence_id: str
    kind: str
    added_by_side: str


@dataclass(frozen=True, kw_only=True)
class DisputeResponseDue(DisputeEvent):
    """The awaited side's answer is due soon (`reminder`), or was due and the case went to
    mediation (`overdue`: staff take it up)."""

    event_type = "dispute.response_due"
    stage: str
    side: str
    due_at: str


@dataclass(frozen=True, kw_only=True)
class DisputeResolved(DisputeEvent):
    """The decision: what the escrow released and refunded (or, paid outside escrow, what was
    decided, `escrow_moved` false); the parties may appeal until `appeal_until`."""

    event_type = "dispute.resolved"
    resolution_id: str
    outcome: str
    release_amount: str
    refund_amount: str
    currency: str
    escrow_moved: bool
    appeal_until: str


@dataclass(frozen=True, kw_only=True)
class DisputeMediatorAssigned(DisputeEvent):
    """A mediator of the platform took the case (who, the parties do not learn from the event)."""

    event_type = "dispute.mediator_assigned"


@dataclass(frozen=True, kw_only=True)
class DisputeResolutionProposed(DisputeEvent):
    """The mediator proposes what happens to the money: both parties are to answer it."""

    event_type = "dispute.resolution_proposed"
    resolution_id: str
    outcome: str
    release_amount: str
    refund_amount: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class DisputeResolutionAnswered(DisputeEvent):
    """A party accepted or rejected the proposal or decision before it (rejecting a decision
    appeals it: staff review the case)."""

    event_type = "dispute.resolution_answered"
    resolution_id: str
    kind: str
    side: str
    answer: str
    reason: str
