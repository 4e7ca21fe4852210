"""The escrow around its money: proof of delivery starts the auto-release clock, a cancelled
order closes an unfunded escrow, and a settled one is closed at the end of its life."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.lifecycle import move
from apps.core.services import outbox_publish
from apps.escrow import events
from apps.escrow.locks import lock_escrow
from apps.escrow.models import (
    Escrow,
    EscrowStatus,
)
from apps.escrow.services.steps import (
    _auto_release_delay,
    _event_fields,
)
from apps.escrow.transitions import ESCROW, check_operation

S = EscrowStatus


# --- delivery, cancellation, closing, and the beat jobs ---------------------------------------


@transaction.atomic
def escrow_record_delivery(*, order_id: UUID, delivered_at: datetime) -> Escrow | None:
    """Proof of delivery of the order: the escrow releases itself AUTO_RELEASE_DAYS later
    unless the client releases or disputes first. Idempotent: the first proof counts."""
    escrow = Escrow.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
    if escrow is None or escrow.delivered_at is not None:
        return escrow
    escrow.delivered_at = delivered_at
    if escrow.status in (S.FUNDED, S.PARTIALLY_RELEASED, S.DISPUTED):  # disputed: counts once resolved
        escrow.auto_release_at = delivered_at + _auto_release_delay()
    escrow.save(update_fields=["delivered_at", "auto_release_at", "updated_at"])
    return escrow


@transaction.atomic
def escrow_cancel(*, actor: Actor, order_id: UUID, reason: str) -> Escrow | None:
    """Close the unfunded escrow of a cancelled order. A funded one stays: its money is
    refunded by the supplier or through a dispute, never silently."""
    escrow = Escrow.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
    if escrow is None or escrow.status != S.CREATED:
        return escrow
    escrow.closed_at = timezone.now()
    move(escrow, S.CLOSED, transitions=ESCROW, actor=actor, reason=reason)
    escrow.save(update_fields=["status", "closed_at", "updated_at"])
    outbox_publish(events.EscrowClosed(**_event_fields(escrow), reason=reason))
    return escrow


@transaction.atomic
def escrow_close(*, actor: Actor, escrow_id: UUID, reason: str) -> Escrow:
    """Close a settled escrow (nothing held any more): the end of its life."""
    escrow = lock_escrow(escrow_id)
    check_operation(escrow.status, "close")
    escrow.closed_at = timezone.now()
    move(escrow, S.CLOSED, transitions=ESCROW, actor=actor, reason=reason)
    escrow.save(update_fields=["status", "closed_at", "updated_at"])
    outbox_publish(events.EscrowClosed(**_event_fields(escrow), reason=reason))
    return escrow
