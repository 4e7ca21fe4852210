"""The mediator's work on a case: who mediates it, and asking a side for information with a
deadline. Staff act in the all-tenants scope (apps.core.context.system_scope), opened by the
API view or the back-office page that calls these."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.disputes.events import DisputeMediatorAssigned
from apps.disputes.models import Dispute, DisputeStatus, Side
from apps.disputes.selectors import acting_for_staff, dispute_for_actor
from apps.disputes.services.cases import acting_organization_id, dispute_move, event_fields
from apps.disputes.transitions import DISPUTE, STAFF

logger = logging.getLogger(__name__)


def _staff_only(actor: Actor, what: str) -> None:
    if not acting_for_staff(actor):
        raise PermissionDenied(f"Only platform staff {what}.")


@transaction.atomic
def dispute_assign_mediator(*, actor: Actor, dispute_id: UUID, mediator_id: UUID | None = None) -> Dispute:
    """Make a member of the platform staff (the actor, when `mediator_id` is None) the case's
    mediator; audited, and published (`dispute.mediator_assigned`: the parties learn someone
    took the case). Refused (400) for someone who is not active staff, or a case that is over."""
    _staff_only(actor, "assign mediators")
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    mediator_id = mediator_id or actor.user_id
    mediator = get_user_model().objects.filter(pk=mediator_id, is_staff=True, is_active=True).first()
    if mediator is None:
        raise ValidationFailed(
            "A mediator is an active member of the platform staff.", details={"mediator_id": ["Not platform staff."]}
        )
    if dispute.status in (DisputeStatus.CLOSED, DisputeStatus.WITHDRAWN):
        raise ValidationFailed(
            f"The dispute is {dispute.get_status_display().lower()}.", details={"status": [dispute.status]}
        )
    before = dispute.mediator_id
    dispute.mediator, dispute.mediator_assigned_at = mediator, timezone.now()
    dispute.save(update_fields=["mediator", "mediator_assigned_at", "updated_at"])
    audit_record(
        action="dispute.mediator_assigned",
        resource_type="dispute",
        resource_id=str(dispute.id),
        organization_id=acting_organization_id(dispute, actor),
        actor_id=actor.user_id,
        old_values={"mediator_id": str(before) if before else None},
        new_values={"mediator_id": str(mediator.pk)},
    )
    outbox_publish(
        DisputeMediatorAssigned(**event_fields(dispute, organization_id=acting_organization_id(dispute, actor)))
    )
    logger.info("dispute.mediator_assigned", extra={"dispute_id": str(dispute.id), "mediator_id": str(mediator.pk)})
    return dispute


@transaction.atomic
def dispute_request_information(
    *, actor: Actor, dispute_id: UUID, side: str, question: str, due_at: datetime | None = None
) -> Dispute:
    """The mediator asks one side for information: the case waits for that side's answer (its
    evidence) until `due_at` (by default the response window from now); the deadline job
    reminds it and sends the case back to mediation if nothing comes. The question is the
    move's reason, in the history the parties read."""
    _staff_only(actor, "ask the parties for information")
    errors = {}
    if side not in Side.values:
        errors["side"] = [f"One of {', '.join(Side.values)}."]
    question = (question or "").strip()
    if not question:
        errors["reason"] = ["The question to the side: required."]
    now = timezone.now()
    if due_at is not None and due_at <= now:
        errors["due_at"] = ["A time in the future."]
    if errors:
        raise ValidationFailed("The request for information is incomplete.", details=errors)
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    DISPUTE.check(dispute.status, DisputeStatus.AWAITING_RESPONSE, who=STAFF, subject=dispute)
    dispute.response_side = side
    dispute.response_due_at = due_at or now + settings.DISPUTES["RESPONSE_WINDOW"]
    dispute.response_reminded_at = None  # a new deadline gets its own reminder
    return dispute_move(
        dispute=dispute, to_status=DisputeStatus.AWAITING_RESPONSE, actor=actor, who=STAFF, reason=question
    )
