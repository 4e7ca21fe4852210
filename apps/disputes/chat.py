"""Threads about a dispute in chat: its two parties talk there, the mediator reads along.
Registered with chat's subject registry from DisputesConfig.ready() (chat never imports disputes)."""

from __future__ import annotations

from uuid import UUID

from apps.chat.subjects import SubjectParties
from apps.core.actors import Actor
from apps.core.errors import ValidationFailed
from apps.disputes.selectors import dispute_for_actor


def dispute_thread_parties(actor: Actor, subject_id: UUID | None, counterparty_id: UUID | None) -> SubjectParties:
    """The case's two parties (the order's client as party A), when the actor's organization is one."""
    if subject_id is None:
        raise ValidationFailed("Name the dispute.", details={"subject_id": ["This field is required."]})
    dispute = dispute_for_actor(actor=actor, dispute_id=subject_id)
    return SubjectParties(
        party_a_id=dispute.client_organization_id,
        party_b_id=dispute.supplier_organization_id,
        party_a_name=dispute.client_organization_name,
        party_b_name=dispute.supplier_organization_name,
        title=f"Dispute {dispute.number} (order {dispute.order_number})",
    )
