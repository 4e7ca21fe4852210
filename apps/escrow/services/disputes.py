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
from apps.escrow.services.escrows import _refund_to_client, _release_to_supplier, _set_refund_payment_status
from apps.escrow.services.steps import (
    _as_money,
    _auto_release_delay,
    _check_funds,
    _event_fields,
    _parse_amount,
    _require_order_reach,
    _settle_if_empty,
    _status_after_money_moved,
    escrow_audit,
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
    _require_order_reach(escrow, actor, "dispute:create")
    if actor.organization_id not in (escrow.client_organization_id, escrow.supplier_organization_id):
        raise PermissionDenied("Only a party of the escrow may dispute it.")
    if not reason.strip():
        raise ValidationFailed("Say why.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"reason": ["Required."]})
    check_operation(escrow.status, "dispute")
    escrow.status_before_dispute = escrow.status
    escrow.disputed_at = timezone.now()
    move(escrow, S.DISPUTED, transitions=ESCROW, actor=actor, reason=reason)
    escrow.save(update_fields=["status", "status_before_dispute", "disputed_at", "updated_at"])
    escrow_audit(escrow, "escrow.disputed", actor=actor, new={"reason": reason})
    outbox_publish(events.EscrowDisputed(**_event_fields(escrow), reason=reason))
    return escrow


@transaction.atomic
def escrow_resolve_dispute(
    *, actor: Actor, escrow_id: UUID, release_amount=Decimal(0), refund_amount=Decimal(0), note: str
) -> Escrow:
    """End a dispute (the disputes context, or platform staff, decide): release part or all
    to the supplier, refund part or all to the client, and unfreeze what is left.
    Together never more than is held (422 INSUFFICIENT_FUNDS). Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    check_operation(escrow.status, "resolve_dispute")
    release = (
        Decimal(0)
        if not release_amount
        else _parse_amount(release_amount, currency=escrow.currency, field="release_amount")
    )
    refund = (
        Decimal(0)
        if not refund_amount
        else _parse_amount(refund_amount, currency=escrow.currency, field="refund_amount")
    )
    _check_funds(escrow, release + refund)
    if release:
        _release_to_supplier(escrow, release, actor=actor, automatic=False, reason=f"Dispute resolution: {note}")
    if refund:
        _refund_to_client(escrow, refund, actor=actor, reason=f"Dispute resolution: {note}")
    after = _status_after_money_moved(escrow, last_operation="release" if release else "refund")
    reason = f"Dispute resolved: {note}"
    move(escrow, after, transitions=ESCROW, actor=actor, reason=reason)
    escrow.status_before_dispute = ""
    if escrow.held_amount and escrow.delivered_at:
        # What the resolution left held gets the whole window again: the clock does not run
        # while the escrow is frozen, and a release straight after the resolution would
        # overrule it.
        escrow.auto_release_at = timezone.now() + _auto_release_delay()
    _settle_if_empty(escrow)
    escrow.save()
    if refund:
        _set_refund_payment_status(escrow)
    escrow_audit(
        escrow,
        "escrow.dispute_resolved",
        actor=actor,
        new={"released": _as_money(escrow, release), "refunded": _as_money(escrow, refund), "note": note},
    )
    outbox_publish(
        events.EscrowDisputeResolved(
            **_event_fields(escrow), released=_as_money(escrow, release), refunded=_as_money(escrow, refund), note=note
        )
    )
    return escrow
