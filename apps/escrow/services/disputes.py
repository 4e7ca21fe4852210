"""Disputes of an escrow: opening one freezes it; a resolution moves what it decides and unfreezes the rest."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from apps.core.lifecycle import move
from apps.core.services import outbox_publish
from apps.escrow import events
from apps.escrow.locks import lock_escrow
from apps.escrow.models import (
    Escrow,
    EscrowStatus,
)
from apps.escrow.services.escrows import refund_to_client, release_to_supplier, set_refund_payment_status
from apps.escrow.services.steps import (
    as_money,
    auto_release_delay,
    check_funds,
    escrow_audit,
    event_fields,
    parse_amount,
    require_order_reach,
    settle_if_empty,
    status_after_money_moved,
)
from apps.escrow.transitions import ESCROW, check_operation
from apps.tenancy.roles import Actor

S = EscrowStatus


# --- dispute ------------------------------------------------------------------------------------


@transaction.atomic
def escrow_dispute(*, actor: Actor, escrow_id: UUID, reason: str) -> Escrow:
    """Freeze the escrow: nothing is released or refunded until the dispute is resolved.
    Either party may open it. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    require_order_reach(escrow, actor, "dispute:create")
    if actor.organization_id not in (escrow.client_organization_id, escrow.supplier_organization_id):
        raise PermissionDenied("Only a party of the escrow may dispute it.")
    if not reason.strip():
        raise ValidationFailed("Say why.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"reason": ["Required."]})
    check_operation(escrow.status, "dispute")
    escrow.status_before_dispute = escrow.status
    escrow.disputed_at = timezone.now()
    move(escrow, S.DISPUTED, transitions=ESCROW, actor=actor, reason=reason)
    escrow.save(update_fields=["status", "status_before_dispute", "disputed_at", "updated_at"])
    escrow_audit(escrow, "escrow.disputed", actor_id=actor.user_id, new={"reason": reason})
    outbox_publish(events.EscrowDisputed(**event_fields(escrow), reason=reason))
    return escrow


@transaction.atomic
def escrow_resolve_dispute(
    *, escrow_id: UUID, release_amount=Decimal(0), refund_amount=Decimal(0), note: str, resolved_by_id: UUID | None
) -> Escrow:
    """End a dispute (the disputes context, or platform staff, decide): release part or all
    to the supplier, refund part or all to the client, and unfreeze what is left.
    Together never more than is held (422 INSUFFICIENT_FUNDS). Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    check_operation(escrow.status, "resolve_dispute")
    release = (
        Decimal(0)
        if not release_amount
        else parse_amount(release_amount, currency=escrow.currency, field="release_amount")
    )
    refund = (
        Decimal(0)
        if not refund_amount
        else parse_amount(refund_amount, currency=escrow.currency, field="refund_amount")
    )
    check_funds(escrow, release + refund)
    if release:
        release_to_supplier(
            escrow, release, actor_id=resolved_by_id, automatic=False, reason=f"Dispute resolution: {note}"
        )
    if refund:
        refund_to_client(escrow, refund, actor_id=resolved_by_id, reason=f"Dispute resolution: {note}")
    after = status_after_money_moved(escrow, last_operation="release" if release else "refund")
    reason = f"Dispute resolved: {note}"
    move(escrow, after, transitions=ESCROW, actor=Actor(user_id=resolved_by_id), reason=reason)
    escrow.status_before_dispute = ""
    if escrow.held_amount and escrow.delivered_at:
        # What the resolution left held gets the whole window again: the clock does not run
        # while the escrow is frozen, and a release straight after the resolution would
        # overrule it.
        escrow.auto_release_at = timezone.now() + auto_release_delay()
    settle_if_empty(escrow)
    escrow.save()
    if refund:
        set_refund_payment_status(escrow)
    escrow_audit(
        escrow,
        "escrow.dispute_resolved",
        actor_id=resolved_by_id,
        new={"released": as_money(escrow, release), "refunded": as_money(escrow, refund), "note": note},
    )
    outbox_publish(
        events.EscrowDisputeResolved(
            **event_fields(escrow), released=as_money(escrow, release), refunded=as_money(escrow, refund), note=note
        )
    )
    return escrow
