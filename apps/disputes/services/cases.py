"""Opening a dispute, and the moves of its status: the parties' (the answer that puts it under
review, the opener's withdrawal) and the mediator's (apps/disputes/services/mediation.py and
resolutions.py build on `dispute_move`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import DomainError, ErrorCode, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.services import number_next
from apps.disputes.events import DisputeOpened, DisputeStatusChanged
from apps.disputes.models import ENDED, Dispute, DisputeStatus, Outcome, ReasonCategory, Side
from apps.disputes.selectors import acting_for_staff, dispute_for_actor, own_customer_id
from apps.disputes.transitions import DISPUTE, OPENER, STAFF

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DisputeInput:
    order_id: UUID
    reason_category: str
    description: str
    outcome_requested: str
    amount_claimed: Decimal | None = None


def acting_organization_id(dispute: Dispute, actor: Actor) -> UUID:
    """Whose rows an audit entry or event of the actor's move goes in: the acting party's, or
    (staff mediate for no organization) the organization that opened the case."""
    return actor.organization_id or dispute.opened_by_organization_id


def event_fields(dispute: Dispute, *, organization_id: UUID) -> dict:
    """The fields every dispute event carries; the row belongs to the acting organization."""
    return {
        "organization_id": organization_id,
        "dispute_id": str(dispute.id),
        "number": dispute.number,
        "order_id": str(dispute.order_id),
        "party_organization_ids": [str(dispute.client_organization_id), str(dispute.supplier_organization_id)],
    }


def _checked(data: DisputeInput) -> DisputeInput:
    errors = {}
    if data.reason_category not in ReasonCategory.values:
        errors["reason_category"] = [f"One of {', '.join(ReasonCategory.values)}."]
    if data.outcome_requested not in Outcome.values:
        errors["outcome_requested"] = [f"One of {', '.join(Outcome.values)}."]
    if not (data.description or "").strip():
        errors["description"] = ["This field is required."]
    if data.amount_claimed is not None:
        try:
            if Decimal(data.amount_claimed) <= 0:
                errors["amount_claimed"] = ["Claim more than zero, or leave it out."]
        except (InvalidOperation, TypeError):
            errors["amount_claimed"] = ["A decimal amount."]
    if errors:
        code = (
            ErrorCode.VALIDATION_FIELD_REQUIRED
            if errors.get("description") == ["This field is required."] and len(errors) == 1
            else ErrorCode.VALIDATION_FIELD_INVALID
        )
        raise ValidationFailed("The dispute has invalid or missing fields.", code=code, details=errors)
    return data


@transaction.atomic
def dispute_open(*, actor: Actor, data: DisputeInput) -> Dispute:
    """Open a case about an order of which the actor's organization is a party, against the
    other party: the order's escrow, when it holds money, is frozen (escrow_dispute) in the same
    transaction; the counterparty's response window starts. One open case per order.

    The amount claimed may not exceed what the escrow holds (or, paid outside escrow, the
    order's total). Publishes `dispute.opened`."""
    from apps.escrow.selectors import escrow_may_be_disputed, escrow_of_order
    from apps.escrow.services import escrow_dispute
    from apps.orders.selectors import order_get

    data = _checked(data)
    order = order_get(organization_id=actor.organization_id, order_id=data.order_id, customer_id=own_customer_id(actor))
    side = Side.CLIENT if order.client_organization_id == actor.organization_id else Side.SUPPLIER
    escrow = escrow_of_order(organization_id=actor.organization_id, order_id=order.id)
    holding = escrow is not None and escrow_may_be_disputed(escrow)
    ceiling, currency = (escrow.held_amount, escrow.currency) if holding else (order.total_amount, order.currency)
    if data.amount_claimed is not None and Decimal(data.amount_claimed) > ceiling:
        raise DomainError(
            f"The claim is more than {'the escrow holds' if holding else 'the order is worth'} ({ceiling} {currency}).",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"amount_claimed": [f"At most {ceiling}."], "held": str(ceiling), "currency": currency},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                number=number_next(organization_id=actor.organization_id, name="dispute", prefix="DSP"),
                order=order,
                order_number=order.number,
                escrow_id=escrow.id if holding else None,
                client_organization_id=order.client_organization_id,
                supplier_organization_id=order.supplier_organization_id,
                client_organization_name=order.client_organization_name,
                supplier_organization_name=order.supplier_organization_name,
                opened_by_side=side,
                opened_by_organization_id=actor.organization_id,
                opened_by_id=actor.user_id,
                reason_category=data.reason_category,
                description=data.description.strip(),
                amount_claimed=data.amount_claimed,
                currency=currency,
                outcome_requested=data.outcome_requested,
                status_changed_at=now,
                response_side=Side.SUPPLIER if side == Side.CLIENT else Side.CLIENT,
                response_due_at=now + settings.DISPUTES["RESPONSE_WINDOW"],
            )
    except IntegrityError as error:
        raise DomainError(
            "This order already has an open dispute.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"order_id": ["An open dispute exists for this order."]},
        ) from error
    history_record(dispute, transitions=DISPUTE, from_status="", to_status=DisputeStatus.CREATED, actor=actor)
    if holding:
        escrow_dispute(actor=actor, escrow_id=escrow.id, reason=f"Dispute {dispute.number}: {dispute.description}")
    outbox_publish_opened(dispute, escrow_frozen=holding)
    logger.info("dispute.opened", extra={"dispute_id": str(dispute.id), "escrow_frozen": holding})
    return dispute


def outbox_publish_opened(dispute: Dispute, *, escrow_frozen: bool) -> None:
    from apps.core.services import outbox_publish

    outbox_publish(
        DisputeOpened(
            **event_fields(dispute, organization_id=dispute.opened_by_organization_id),
            opened_by_side=dispute.opened_by_side,
            reason_category=dispute.reason_category,
            amount_claimed=str(dispute.amount_claimed) if dispute.amount_claimed is not None else None,
            currency=dispute.currency,
            escrow_frozen=escrow_frozen,
            response_due_at=dispute.response_due_at.isoformat(),
        )
    )


def party_role(dispute: Dispute, actor: Actor) -> str:
    """The actor's part in the transition table for a move it asks for: staff's, the opener's,
    or none."""
    if acting_for_staff(actor):
        return STAFF
    return OPENER if dispute.side_of(actor.organization_id) == dispute.opened_by_side else "counterparty"


def dispute_move(*, dispute: Dispute, to_status: str, actor: Actor, who: str, reason: str = "") -> Dispute:
    """Move the (locked) dispute along its table as `who`; history, audit and event together."""
    from_status = dispute.status
    organization_id = acting_organization_id(dispute, actor)
    dispute.status_changed_at = timezone.now()
    if to_status != DisputeStatus.AWAITING_RESPONSE and to_status != DisputeStatus.CREATED:
        dispute.response_side, dispute.response_due_at = "", None
    move(
        dispute,
        to_status,
        transitions=DISPUTE,
        actor=actor,
        who=who,
        reason=reason,
        save=["status_changed_at", "response_side", "response_due_at", "response_reminded_at", "updated_at"],
        audit={
            "action": "dispute.status_changed",
            "resource_type": "dispute",
            "organization_id": organization_id,
        },
        event=lambda: DisputeStatusChanged(
            **event_fields(dispute, organization_id=organization_id),
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        ),
    )
    return dispute


# Moves that need more than a status and a reason.
SERVICES_OF_THEIR_OWN = {
    DisputeStatus.AWAITING_RESPONSE: "Asking a side for information needs `side` and the question (`reason`).",
    DisputeStatus.RESOLVED: "A case is resolved with POST /api/v1/disputes/{id}/resolution (the amounts).",
}


@transaction.atomic
def dispute_change_status(*, actor: Actor, dispute_id: UUID, status: str, reason: str = "") -> Dispute:
    """Move a case as the actor: the opener withdraws it before it is resolved (a frozen escrow
    goes back to holding); staff put it under review or in mediation, and close a resolved case
    (after reviewing an appeal). Asking a side for information (`awaiting_response`) and
    resolving have their own services, with what they need. 422 INVALID_STATE_TRANSITION for
    any move that is not the actor's."""
    from apps.escrow.services import escrow_resolve_dispute

    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    if status not in DisputeStatus.values:
        raise ValidationFailed(
            f"Unknown status {status!r}.", details={"status": [f"One of {', '.join(DisputeStatus.values)}."]}
        )
    who = party_role(dispute, actor)
    if status in SERVICES_OF_THEIR_OWN:
        # Legal or not, say so first; a legal move still needs what its own service takes.
        DISPUTE.check(dispute.status, status, who=who, subject=dispute)
        raise ValidationFailed(SERVICES_OF_THEIR_OWN[status], details={"status": [SERVICES_OF_THEIR_OWN[status]]})
    dispute_move(dispute=dispute, to_status=status, actor=actor, who=who, reason=reason.strip())
    if status == DisputeStatus.WITHDRAWN and dispute.escrow_id is not None:
        # Nothing decided, nothing moved: the escrow goes back to where it was before the case.
        escrow_resolve_dispute(actor=actor, escrow_id=dispute.escrow_id, note=f"Dispute {dispute.number} withdrawn")
    return dispute


@transaction.atomic
def dispute_freeze_funded_escrow(*, order_id: UUID, escrow_id: UUID) -> Dispute | None:
    """The order's escrow was funded while a case about the order is open that froze nothing
    (nothing was held when it was opened): freeze it now for the case, as the system, so that
    neither a release nor the automatic one pays out what the case is about. Nothing for an
    order without such a case, a case already resolved, or a second delivery of the event
    (the case then names its escrow). Locks the case, then the escrow."""
    from apps.core.context import current_organization_id
    from apps.escrow.selectors import escrow_may_be_disputed, escrow_of_order
    from apps.escrow.services import escrow_dispute

    organization_id = current_organization_id()
    dispute = (
        Dispute.objects.select_for_update()
        .filter(order_id=order_id, escrow_id__isnull=True)
        .exclude(status__in=[*ENDED, DisputeStatus.RESOLVED])
        .first()
    )
    escrow = escrow_of_order(organization_id=organization_id, order_id=order_id) if dispute else None
    if dispute is None or escrow is None or escrow.id != escrow_id or not escrow_may_be_disputed(escrow):
        return None
    actor = Actor.system(organization_id=organization_id)
    escrow_dispute(actor=actor, escrow_id=escrow.id, reason=f"Dispute {dispute.number}, open when it was funded")
    dispute.escrow_id = escrow.id
    dispute.save(update_fields=["escrow_id", "updated_at"])
    logger.info("dispute.escrow_frozen_on_funding", extra={"dispute_id": str(dispute.id), "escrow_id": str(escrow.id)})
    return dispute
