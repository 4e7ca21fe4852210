"""The response window: a reminder before it ends, and mediation when it has passed without an
answer; and the appeal window: a resolved case nobody appealed closes when it ends. Run by
the beat job `disputes-deadlines` (apps/disputes/tasks.py), one task per
organization in its own scope; a case is handled in its client organization's scope."""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import current_organization_id
from apps.core.services import outbox_publish
from apps.disputes.events import DisputeResponseDue
from apps.disputes.models import Dispute, DisputeStatus
from apps.disputes.selectors import disputes_to_close
from apps.disputes.services.cases import dispute_move, event_fields
from apps.disputes.transitions import SYSTEM

logger = logging.getLogger(__name__)

WAITING = (DisputeStatus.CREATED, DisputeStatus.AWAITING_RESPONSE)


def _waiting(now):
    reminder_from = now + settings.DISPUTES["REMINDER_BEFORE"]
    return Dispute.objects.filter(status__in=WAITING, response_due_at__lte=reminder_from)


def disputes_deadline_organizations(*, now=None) -> list[UUID]:
    """Client organizations with a case whose answer is due soon or overdue, or whose appeal
    window has ended (the beat's bypass scope)."""
    now = now or timezone.now()
    waiting = _waiting(now).values_list("client_organization_id", flat=True)
    closing = disputes_to_close(now=now).values_list("client_organization_id", flat=True)
    return sorted(set(waiting) | set(closing))


@transaction.atomic
def disputes_deadlines_apply(*, now=None) -> dict:
    """For the scope's cases (as client): remind the awaited side once before its deadline, send
    an overdue case to mediation (staff are alerted by `dispute.response_due`, overdue), and
    close a resolved case past its appeal window that nobody appealed.
    Idempotent: a case reminded or moved is not touched again."""
    now = now or timezone.now()
    organization_id = current_organization_id()
    actor = Actor.system(organization_id=organization_id)
    counts = {"reminded": 0, "escalated": 0, "closed": 0}
    cases = (
        _waiting(now)
        .filter(client_organization_id=organization_id)
        .select_for_update(skip_locked=True)
        .order_by("response_due_at")
    )
    for dispute in cases:
        due = dispute.response_due_at
        if due <= now:
            outbox_publish(
                DisputeResponseDue(
                    **event_fields(dispute, organization_id=organization_id),
                    stage="overdue",
                    side=dispute.response_side,
                    due_at=due.isoformat(),
                )
            )
            dispute_move(
                dispute=dispute,
                to_status=DisputeStatus.IN_MEDIATION,
                actor=actor,
                who=SYSTEM,
                reason=f"No answer from the {dispute.response_side} by {due:%Y-%m-%d %H:%M} UTC.",
            )
            logger.warning("dispute.escalated_to_mediation", extra={"dispute_id": str(dispute.id)})
            counts["escalated"] += 1
        elif dispute.response_reminded_at is None:
            dispute.response_reminded_at = now
            dispute.save(update_fields=["response_reminded_at", "updated_at"])
            outbox_publish(
                DisputeResponseDue(
                    **event_fields(dispute, organization_id=organization_id),
                    stage="reminder",
                    side=dispute.response_side,
                    due_at=due.isoformat(),
                )
            )
            counts["reminded"] += 1
    closing = (
        disputes_to_close(now=now)
        .filter(client_organization_id=organization_id)
        .select_for_update(skip_locked=True)
        .order_by("appeal_until")
    )
    for dispute in closing:
        dispute_move(
            dispute=dispute,
            to_status=DisputeStatus.CLOSED,
            actor=actor,
            who=SYSTEM,
            reason=f"Nobody appealed by {dispute.appeal_until:%Y-%m-%d %H:%M} UTC.",
        )
        counts["closed"] += 1
    return counts
