"""Resolving a case: the mediator proposes or decides what happens to the held money, the
parties answer, and the decision moves the money through the escrow services exactly once.

Exactly once, however often or concurrently a decision is submitted: the case's row is locked
first (then the escrow's, by escrow_resolve_dispute: always in that order); a case already
resolved refuses another decision (422 INVALID_STATE_TRANSITION); one decision per case is a
database constraint; and the API replays a retried request by its Idempotency-Key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition, PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.disputes.events import DisputeResolutionAnswered, DisputeResolutionProposed, DisputeResolved
from apps.disputes.models import (
    Answer,
    Dispute,
    DisputeResolution,
    DisputeStatus,
    ResolutionKind,
    ResolutionOutcome,
    Side,
)
from apps.disputes.selectors import acting_for_staff, dispute_for_actor, resolution_current
from apps.disputes.services.cases import acting_organization_id, dispute_move, event_fields
from apps.disputes.transitions import AGREEMENT, DISPUTE, STAFF

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


@dataclass(frozen=True)
class ResolutionInput:
    outcome: str
    reason: str
    kind: str = ResolutionKind.DECISION
    release_amount: Decimal | None = None
    refund_amount: Decimal | None = None


def _amount(value, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError):
        errors[field] = ["A decimal amount."]
        return None
    if not amount.is_finite() or amount < 0:
        errors[field] = ["Zero or more."]
        return None
    return amount


def _checked(data: ResolutionInput) -> tuple[Decimal | None, Decimal | None]:
    errors: dict = {}
    if data.kind not in ResolutionKind.values:
        errors["kind"] = [f"One of {', '.join(ResolutionKind.values)}."]
    if data.outcome not in ResolutionOutcome.values:
        errors["outcome"] = [f"One of {', '.join(ResolutionOutcome.values)}."]
    if not (data.reason or "").strip():
        errors["reason"] = ["This field is required: the parties read why."]
    release = _amount(data.release_amount, "release_amount", errors)
    refund = _amount(data.refund_amount, "refund_amount", errors)
    if data.outcome == ResolutionOutcome.SPLIT and not errors and (release is None or refund is None):
        errors["release_amount" if release is None else "refund_amount"] = ["A split names both amounts."]
    if errors:
        raise ValidationFailed("The resolution has invalid or missing fields.", details=errors)
    return release, refund


def _amounts(dispute: Dispute, data: ResolutionInput) -> tuple[Decimal, Decimal]:
    """What goes to the supplier and back to the client. With escrow they add up to exactly what
    it holds (more is 422 INSUFFICIENT_FUNDS, less 422 VALIDATION_CONSTRAINT_VIOLATION); paid
    outside escrow, the decision records amounts of at most the order's total."""
    from apps.escrow.selectors import escrow_get
    from apps.orders.selectors import order_get

    release, refund = _checked(data)
    if dispute.escrow_id is not None:
        escrow = escrow_get(organization_id=dispute.client_organization_id, escrow_id=dispute.escrow_id)
        available, what = escrow.held_amount, "the escrow holds"
    else:
        available, what = None, "the order is worth"
        order_total = order_get(organization_id=dispute.client_organization_id, order_id=dispute.order_id).total_amount
    if data.outcome == ResolutionOutcome.RELEASE:
        release, refund = (release if release is not None else available) or ZERO, refund or ZERO
    elif data.outcome == ResolutionOutcome.REFUND:
        release, refund = release or ZERO, (refund if refund is not None else available) or ZERO
    total = release + refund
    details = {"release_amount": str(release), "refund_amount": str(refund), "currency": dispute.currency}
    if available is not None:
        details["held"] = str(available)
        if total > available:
            raise DomainError(
                f"The resolution moves {total}, more than {what} ({available} {dispute.currency}).",
                code=ErrorCode.INSUFFICIENT_FUNDS,
                details=details,
            )
        if total < available:
            raise DomainError(
                f"The amounts add up to {total}; they must add up to what {what} ({available} {dispute.currency}).",
                code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
                details=details,
            )
    elif total > order_total:
        raise DomainError(
            f"The resolution names {total}, more than {what} ({order_total} {dispute.currency}).",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details=details,
        )
    return release, refund


def _supersede_open_proposals(dispute: Dispute, now) -> None:
    DisputeResolution.objects.filter(dispute=dispute, kind=ResolutionKind.PROPOSAL, superseded_at__isnull=True).update(
        superseded_at=now
    )


@transaction.atomic
def dispute_resolve(*, actor: Actor, dispute_id: UUID, data: ResolutionInput) -> DisputeResolution:
    """Staff propose or decide the case's resolution.

    A proposal moves nothing and replaces an open one; both parties accepting it makes it the
    decision (`resolution_answer`). A decision moves the held money through the escrow
    (release to the supplier, refund to the client, or both) exactly once and resolves the
    case, whose appeal window starts; without escrow it records the decision only. Locks the
    case, then the escrow. Publishes `dispute.resolved` for a decision,
    `dispute.resolution_proposed` for a proposal."""
    if not acting_for_staff(actor):
        raise PermissionDenied("Only the platform's mediators resolve a dispute.")
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    if data.kind == ResolutionKind.DECISION:
        DISPUTE.check(dispute.status, DisputeStatus.RESOLVED, who=STAFF, subject=dispute)
    elif DisputeStatus.RESOLVED not in DISPUTE.allowed(dispute.status, who=AGREEMENT):
        raise InvalidStateTransition(
            f"A dispute that is {dispute.get_status_display().lower()} takes no proposal.",
            details={"status": dispute.status},
        )
    release, refund = _amounts(dispute, data)
    now = timezone.now()
    _supersede_open_proposals(dispute, now)
    resolution = DisputeResolution.objects.create(
        dispute=dispute,
        client_organization_id=dispute.client_organization_id,
        supplier_organization_id=dispute.supplier_organization_id,
        kind=data.kind,
        outcome=data.outcome,
        release_amount=release,
        refund_amount=refund,
        currency=dispute.currency,
        reason=data.reason.strip(),
        decided_by_id=actor.user_id,
    )
    if data.kind == ResolutionKind.DECISION:
        _execute(dispute, resolution, actor=actor, who=STAFF)
    else:
        outbox_publish(
            DisputeResolutionProposed(
                **event_fields(dispute, organization_id=acting_organization_id(dispute, actor)),
                resolution_id=str(resolution.id),
                outcome=resolution.outcome,
                release_amount=str(resolution.release_amount),
                refund_amount=str(resolution.refund_amount),
                currency=resolution.currency,
            )
        )
    logger.info(
        "dispute.resolution_recorded",
        extra={"dispute_id": str(dispute.id), "kind": resolution.kind, "resolution_id": str(resolution.id)},
    )
    return resolution


def _execute(dispute: Dispute, decision: DisputeResolution, *, actor: Actor, who: str) -> None:
    """Move the decided money (once: the caller holds the case's lock and the decision row is
    unique per case), resolve the case and start its appeal window."""
    from apps.escrow.services import escrow_resolve_dispute

    if dispute.escrow_id is not None:
        escrow_resolve_dispute(
            actor=actor,
            escrow_id=dispute.escrow_id,
            release_amount=decision.release_amount,
            refund_amount=decision.refund_amount,
            note=f"Dispute {dispute.number}: {decision.reason}",
        )
        decision.escrow_moved = True
        decision.save(update_fields=["escrow_moved"])
    now = timezone.now()
    dispute.resolved_at = now
    dispute.appeal_until = now + settings.DISPUTES["APPEAL_WINDOW"]
    dispute.save(update_fields=["resolved_at", "appeal_until", "updated_at"])
    dispute_move(dispute=dispute, to_status=DisputeStatus.RESOLVED, actor=actor, who=who, reason=decision.reason)
    organization_id = acting_organization_id(dispute, actor)
    outbox_publish(
        DisputeResolved(
            **event_fields(dispute, organization_id=organization_id),
            resolution_id=str(decision.id),
            outcome=decision.outcome,
            release_amount=str(decision.release_amount),
            refund_amount=str(decision.refund_amount),
            currency=decision.currency,
            escrow_moved=decision.escrow_moved,
            appeal_until=dispute.appeal_until.isoformat(),
        )
    )
    logger.info("dispute.resolved", extra={"dispute_id": str(dispute.id), "escrow_moved": decision.escrow_moved})


@transaction.atomic
def resolution_answer(*, actor: Actor, dispute_id: UUID, accept: bool, reason: str = "") -> DisputeResolution:
    """A party answers the resolution before it: the open proposal, or the decision.

    Both accepting a proposal makes it the decision, executed at once (money moved, case
    resolved). Both accepting a decision closes the case at once; rejecting it before the
    appeal window ends is an appeal: the case stays resolved, does not close by itself, and
    staff review it (the money it moved stays moved). An answer once given is not changed.
    Locks the case. Publishes `dispute.resolution_answered`."""
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    side = dispute.side_of(actor.organization_id)
    if side is None:
        raise PermissionDenied("Only the parties answer a resolution.")
    resolution = resolution_current(dispute=dispute)
    if resolution is None or dispute.status in (DisputeStatus.CLOSED, DisputeStatus.WITHDRAWN):
        raise InvalidStateTransition(
            "There is no resolution to answer.", details={"status": dispute.status, "resolution": None}
        )
    now = timezone.now()
    if resolution.kind == ResolutionKind.DECISION and now >= dispute.appeal_until:
        raise InvalidStateTransition(
            "The appeal window of this decision is over.", details={"appeal_until": dispute.appeal_until.isoformat()}
        )
    answer = Answer.ACCEPTED if accept else Answer.REJECTED
    given = resolution.answer_of(side)
    if given == answer:
        return resolution  # the same answer again (a retry) changes nothing
    if given:
        raise InvalidStateTransition(f"Your side already {given} this {resolution.kind}.", details={"answer": given})
    prefix = "client" if side == Side.CLIENT else "supplier"
    setattr(resolution, f"{prefix}_answer", answer)
    setattr(resolution, f"{prefix}_answered_at", now)
    resolution.save(update_fields=[f"{prefix}_answer", f"{prefix}_answered_at"])
    outbox_publish(
        DisputeResolutionAnswered(
            **event_fields(dispute, organization_id=actor.organization_id),
            resolution_id=str(resolution.id),
            kind=resolution.kind,
            side=side,
            answer=answer,
            reason=(reason or "").strip(),
        )
    )
    if resolution.accepted_by_both and resolution.kind == ResolutionKind.PROPOSAL:
        resolution = _decision_from(dispute, resolution, actor=actor)
    elif resolution.accepted_by_both:
        dispute_move(
            dispute=dispute,
            to_status=DisputeStatus.CLOSED,
            actor=actor,
            who=AGREEMENT,
            reason="Both parties accepted the decision.",
        )
    return resolution


def _decision_from(dispute: Dispute, proposal: DisputeResolution, *, actor: Actor) -> DisputeResolution:
    """Both parties accepted the proposal: it becomes the decision (their acceptance carried
    over, so the case then closes at once) and is executed."""
    now = timezone.now()
    DISPUTE.check(dispute.status, DisputeStatus.RESOLVED, who=AGREEMENT, subject=dispute)
    proposal.superseded_at = now
    proposal.save(update_fields=["superseded_at"])
    decision = DisputeResolution.objects.create(
        dispute=dispute,
        client_organization_id=dispute.client_organization_id,
        supplier_organization_id=dispute.supplier_organization_id,
        kind=ResolutionKind.DECISION,
        outcome=proposal.outcome,
        release_amount=proposal.release_amount,
        refund_amount=proposal.refund_amount,
        currency=proposal.currency,
        reason=proposal.reason,
        decided_by_id=proposal.decided_by_id,
        proposal=proposal,
        client_answer=Answer.ACCEPTED,
        client_answered_at=now,
        supplier_answer=Answer.ACCEPTED,
        supplier_answered_at=now,
    )
    _execute(dispute, decision, actor=actor, who=AGREEMENT)
    dispute_move(
        dispute=dispute,
        to_status=DisputeStatus.CLOSED,
        actor=actor,
        who=AGREEMENT,
        reason="Both parties accepted the mediator's proposal.",
    )
    return decision
