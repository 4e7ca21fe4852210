"""Reports of messages and what staff do with them: hide the message (with a reason, audited)
or dismiss the report. Staff act from the back-office queue (apps/chat/admin.py)."""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.chat import live
from apps.chat.events import MessageHidden
from apps.chat.models import Message, MessageReport, ReportStatus
from apps.chat.selectors import message_for_actor, message_with_attachments
from apps.chat.services.threads import party_columns
from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import InvalidStateTransition, ValidationFailed
from apps.core.services import outbox_publish

logger = logging.getLogger(__name__)


@transaction.atomic
def message_report(*, actor: Actor, message_id: UUID, reason: str) -> tuple[MessageReport, bool]:
    """Report a message of the other side to the platform's moderators; (report, created). A
    second report of the same message by the same user returns the first."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say what is wrong with the message.", details={"reason": ["This field is required."]})
    if len(reason) > 2000:
        raise ValidationFailed(
            "Keep the reason under 2,000 characters.", details={"reason": ["At most 2000 characters."]}
        )
    message = message_for_actor(actor=actor, message_id=message_id)
    if message.sender_id == actor.user_id:
        raise ValidationFailed("You cannot report your own message.", details={"message_id": ["Your own message."]})
    existing = MessageReport.objects.filter(message=message, reporter_id=actor.user_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = MessageReport.objects.create(
                message=message,
                thread_id=message.thread_id,
                **party_columns(message.thread),
                reporter_id=actor.user_id,
                reporter_organization_id=actor.organization_id,
                reason=reason,
            )
    except IntegrityError:  # the same user, twice at once: the other call's report stands
        return MessageReport.objects.get(message=message, reporter_id=actor.user_id), False
    Message.objects.filter(pk=message.pk).update(report_count=F("report_count") + 1)
    logger.info("chat.message_reported", extra={"message_id": str(message.id), "report_id": str(report.id)})
    return report, True


@transaction.atomic
def message_hide(*, actor: Actor, message_id: UUID, reason: str) -> Message:
    """Staff hide a message: it shows as hidden by a moderator to both parties; its text stays
    for staff. Every open report of it is closed as `hidden`. Audited; call in the staff scope."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give the reason for hiding the message.", details={"reason": ["This field is required."]}
        )
    message = Message.objects.select_for_update().select_related("thread").filter(pk=message_id).first()
    if message is None:
        raise ValidationFailed("No such message.", details={"message_id": ["Not found."]})
    if message.is_hidden:
        raise InvalidStateTransition("The message is already hidden.", details={"state": "hidden"})
    now = timezone.now()
    message.hidden_at, message.hidden_by_id, message.hidden_reason = now, actor.user_id, reason
    message.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    MessageReport.objects.filter(message=message, status=ReportStatus.OPEN).update(
        status=ReportStatus.HIDDEN, decided_at=now, decided_by_id=actor.user_id, decision_note=reason
    )
    thread = message.thread
    audit_record(
        action="chat.message_hidden",
        resource_type="chat_message",
        resource_id=message.id,
        new_values={"reason": reason, "thread_id": str(thread.id)},
        organization_id=message.sender_organization_id,
        actor=actor,
    )
    outbox_publish(
        MessageHidden(
            organization_id=message.sender_organization_id,
            thread_id=str(thread.id),
            thread_kind=thread.kind,
            subject_id=str(thread.subject_id or ""),
            party_organization_ids=[str(thread.party_a_organization_id), str(thread.party_b_organization_id)],
            message_id=str(message.id),
        )
    )
    message = message_with_attachments(message_id=message.id)
    live.thread_push_on_commit(thread.id, live.message_content("message.hidden", message))
    return message


@transaction.atomic
def report_dismiss(*, actor: Actor, report_id: UUID, note: str = "") -> MessageReport:
    """Staff close a report without action (the message stays as it is). Audited."""
    report = MessageReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise ValidationFailed("No such report.", details={"report_id": ["Not found."]})
    if report.status != ReportStatus.OPEN:
        raise InvalidStateTransition(f"The report is already {report.get_status_display().lower()}.")
    report.status, report.decided_at = ReportStatus.DISMISSED, timezone.now()
    report.decided_by_id, report.decision_note = actor.user_id, note.strip()
    report.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    audit_record(
        action="chat.report_dismissed",
        resource_type="chat_message_report",
        resource_id=report.id,
        new_values={"note": report.decision_note, "message_id": str(report.message_id)},
        organization_id=report.reporter_organization_id,
        actor=actor,
    )
    return report
