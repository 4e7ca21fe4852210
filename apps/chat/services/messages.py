"""Sending, editing and deleting messages: moderated before they are stored, numbered under
the thread's lock, published through the outbox and pushed to the thread's sockets on commit.

REST and WebSocket callers run these same functions (apps/chat/api, apps/chat/socket.py), so a
message is checked, limited and moderated the same way whichever way it comes in.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chat import live
from apps.chat.events import MessageSent
from apps.chat.models import Message, MessageAttachment, MessageVersion, Thread, ThreadKind
from apps.chat.moderation import Moderated, moderate
from apps.chat.selectors import message_for_actor, message_with_attachments, thread_for_actor
from apps.chat.services.threads import display_name_of, participant_join, party_columns
from apps.core.actors import Actor
from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition, RateLimited, ValidationFailed
from apps.core.services import outbox_publish
from apps.core.text import has_control_or_format_characters
from apps.core.throttling import rate_limit_consume

logger = logging.getLogger(__name__)

CONTACTS_MASKED_NOTICE = (
    "Contact details are hidden until you have a deal with this organization; keep the conversation on the platform."
)


def _chat_settings() -> dict:
    return settings.CHAT


def message_text_check(text: str, *, has_attachments: bool) -> str:
    """The text as it will be stored (ends stripped), or ValidationFailed saying what is wrong."""
    text = (text or "").strip()
    limit = _chat_settings()["MAX_MESSAGE_CHARACTERS"]
    if not text and not has_attachments:
        raise ValidationFailed(
            "Write something or attach a file.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={"text": ["This field is required."]},
        )
    if len(text) > limit:
        raise ValidationFailed(
            f"A message is at most {limit:,} characters; this one has {len(text):,}.",
            details={"text": [f"Ensure this field has no more than {limit} characters."]},
        )
    # Newlines and tabs are text; other control and invisible formatting characters hide what is said.
    if has_control_or_format_characters(text.replace("\n", " ").replace("\t", " ").replace("\r", " ")):
        raise ValidationFailed(
            "The message contains control or invisible formatting characters.",
            details={"text": ["Remove control or invisible formatting characters."]},
        )
    return text


def _deal_exists(thread: Thread) -> bool:
    """Whether the two organizations have a deal (an order between them, which an accepted
    offer makes): then contact details are theirs to exchange."""
    if thread.kind == ThreadKind.ORDER:
        return True
    from apps.orders.selectors import organizations_have_traded

    return organizations_have_traded(
        organization_id=thread.party_a_organization_id, other_organization_id=thread.party_b_organization_id
    )


def message_moderate(*, thread: Thread, text: str) -> Moderated:
    """The text as the thread's other party will see it (contacts masked before a deal, profanity always)."""
    mask_contacts = _chat_settings()["MASK_CONTACTS_BEFORE_DEAL"] and not _deal_exists(thread)
    return moderate(text, mask_contacts=mask_contacts)


def moderation_notice(message: Message) -> str:
    """What the sender is told about their own message's moderation ("" when nothing changed)."""
    kinds = set(message.moderation_findings or ())
    notices = []
    if kinds - {"profanity"}:
        notices.append(CONTACTS_MASKED_NOTICE)
    if "profanity" in kinds:
        notices.append("Offensive words were hidden.")
    return " ".join(notices)


def _rate_limit(actor: Actor) -> None:
    wait = rate_limit_consume(scope="chat_message", identity=str(actor.user_id))
    if wait is not None:
        raise RateLimited("You are sending messages too fast; wait a moment.", retry_after=wait)


def _pending_attachments(*, actor: Actor, thread: Thread, attachment_ids: Sequence[UUID]) -> list[MessageAttachment]:
    maximum = _chat_settings()["MAX_ATTACHMENTS"]
    ids = list(dict.fromkeys(attachment_ids))
    if len(ids) > maximum:
        raise ValidationFailed(
            f"A message carries at most {maximum} attachments.", details={"attachment_ids": [f"At most {maximum}."]}
        )
    if not ids:
        return []
    found = list(
        MessageAttachment.objects.select_for_update()
        .filter(pk__in=ids, thread=thread, uploaded_by_id=actor.user_id, message__isnull=True)
        .order_by("created_at", "id")
    )
    missing = sorted(str(attachment_id) for attachment_id in set(ids) - {a.id for a in found})
    if missing:
        raise ValidationFailed(
            "Attach only files you uploaded to this thread and have not sent yet.",
            details={"attachment_ids": [f"Unknown or already sent: {', '.join(missing)}."]},
        )
    return found


@transaction.atomic
def message_send(*, actor: Actor, thread_id: UUID, text: str = "", attachment_ids: Sequence[UUID] = ()) -> Message:
    """Send a message to the thread: checked, rate-limited per user, moderated, numbered next
    in the thread under its row lock (so history order is commit order), with the attachments
    the sender uploaded to the thread. The sender's read marker moves to it.

    Publishes `chat.message_sent`; after commit the thread's sockets get `message.sent`."""
    text = message_text_check(text, has_attachments=bool(attachment_ids))
    thread = thread_for_actor(actor=actor, thread_id=thread_id, for_update=True)
    _rate_limit(actor)
    attachments = _pending_attachments(actor=actor, thread=thread, attachment_ids=attachment_ids)
    moderated = message_moderate(thread=thread, text=text)
    now = timezone.now()
    seq = thread.last_seq + 1
    message = Message.objects.create(
        thread=thread,
        **party_columns(thread),
        seq=seq,
        sender_id=actor.user_id,
        sender_organization_id=actor.organization_id,
        sender_name=display_name_of(actor.user_id)[:200],
        body=moderated.text,
        original_body=text if moderated.changed else "",
        moderation_findings=sorted({finding.kind for finding in moderated.findings}),
    )
    if attachments:
        MessageAttachment.objects.filter(pk__in=[a.pk for a in attachments]).update(message=message)
    Thread.objects.filter(pk=thread.pk).update(last_seq=seq, last_message_at=now, last_activity_at=now)
    participant_join(thread=thread, actor=actor, read_up_to=seq)
    outbox_publish(
        MessageSent(
            organization_id=actor.organization_id,
            thread_id=str(thread.id),
            thread_kind=thread.kind,
            subject_id=str(thread.subject_id or ""),
            party_organization_ids=[str(thread.party_a_organization_id), str(thread.party_b_organization_id)],
            message_id=str(message.id),
            seq=seq,
            sender_id=str(actor.user_id),
            sender_organization_id=str(actor.organization_id),
            recipient_organization_id=str(thread.other_party_id(actor.organization_id)),
            attachment_count=len(attachments),
            contacts_masked=moderated.contacts_masked,
        )
    )
    message = message_with_attachments(message_id=message.id)
    live.thread_push_on_commit(thread.id, live.message_content("message.sent", message))
    logger.info(
        "chat.message_sent",
        extra={"thread_id": str(thread.id), "message_id": str(message.id), "moderated": moderated.changed},
    )
    return message


def _own_message_for_change(*, actor: Actor, message_id: UUID) -> Message:
    """The actor's own message, locked; refused when it was deleted or hidden meanwhile."""
    message = message_for_actor(actor=actor, message_id=message_id, for_update=True)
    if message.sender_id != actor.user_id or actor.user_id is None:
        # Another person's message: they may read it, not change it.
        raise DomainError(
            "Only the sender can change a message.", code=ErrorCode.RBAC_PERMISSION_DENIED, status_code=403
        )
    if message.is_deleted:
        raise InvalidStateTransition("The message was deleted.", details={"state": "deleted"})
    if message.is_hidden:
        raise InvalidStateTransition("The message was hidden by a moderator.", details={"state": "hidden"})
    return message


@transaction.atomic
def message_edit(*, actor: Actor, message_id: UUID, text: str) -> Message:
    """Replace the text of the actor's own message within the edit window, moderated again;
    the previous text is kept as a version (for staff). The thread's sockets get `message.updated`.

    Locks the message row: an edit and a delete of the same message run one after the other,
    and the second sees what the first did."""
    message = _own_message_for_change(actor=actor, message_id=message_id)
    window = _chat_settings()["EDIT_WINDOW"]
    if timezone.now() - message.created_at > window:
        minutes = int(window.total_seconds() // 60)
        raise DomainError(
            f"A message can be edited for {minutes} minutes after it is sent.",
            code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION,
            details={"edit_window_minutes": minutes},
        )
    has_attachments = message.attachments.exists()
    text = message_text_check(text, has_attachments=has_attachments)
    moderated = message_moderate(thread=message.thread, text=text)
    MessageVersion.objects.create(
        message=message,
        **party_columns(message.thread),
        body=message.body,
        original_body=message.original_body,
        moderation_findings=message.moderation_findings,
        written_at=message.edited_at or message.created_at,
        replaced_by_id=actor.user_id,
    )
    message.body = moderated.text
    message.original_body = text if moderated.changed else ""
    message.moderation_findings = sorted({finding.kind for finding in moderated.findings})
    message.edited_at = timezone.now()
    message.save(update_fields=["body", "original_body", "moderation_findings", "edited_at"])
    message = message_with_attachments(message_id=message.id)
    live.thread_push_on_commit(message.thread_id, live.message_content("message.updated", message))
    return message


@transaction.atomic
def message_delete(*, actor: Actor, message_id: UUID) -> Message:
    """Delete the actor's own message: it shows as deleted to everyone; its text and files stay
    for staff and disputes until the retention period ends (`messages_purge_deleted`)."""
    message = _own_message_for_change(actor=actor, message_id=message_id)
    message.deleted_at = timezone.now()
    message.deleted_by_id = actor.user_id
    message.save(update_fields=["deleted_at", "deleted_by"])
    message = message_with_attachments(message_id=message.id)
    live.thread_push_on_commit(message.thread_id, live.message_content("message.deleted", message))
    return message


def _purge_cutoff(now=None):
    return (now or timezone.now()) - _chat_settings()["DELETED_RETENTION"]


def messages_purge_due_organizations(*, now=None) -> list[UUID]:
    """The first parties of threads with deleted messages past retention (the beat's bypass scope)."""
    return list(
        Message.objects.filter(deleted_at__lt=_purge_cutoff(now), purged_at__isnull=True)
        .values_list("party_a_organization_id", flat=True)
        .distinct()
    )


def messages_purge_deleted(*, now=None, batch: int = 500) -> int:
    """Erase the text, versions and files of the scope's messages deleted longer ago than the
    retention period (CHAT["DELETED_RETENTION"]); the message stays, shown as deleted.
    Returns how many were purged."""
    cutoff = _purge_cutoff(now)
    purged = 0
    while True:
        with transaction.atomic():
            due = list(
                Message.objects.select_for_update(skip_locked=True)
                .filter(deleted_at__lt=cutoff, purged_at__isnull=True)
                .order_by("deleted_at")[:batch]
            )
            if not due:
                return purged
            ids = [message.id for message in due]
            attachments = MessageAttachment.objects.filter(message_id__in=ids)
            files = [(attachment.file.storage, attachment.file.name) for attachment in attachments if attachment.file]
            attachments.delete()
            # Files go once the rows are gone for good; a rollback keeps both.
            transaction.on_commit(lambda files=files: [storage.delete(name) for storage, name in files])
            MessageVersion.objects.filter(message_id__in=ids).delete()
            Message.objects.filter(pk__in=ids).update(
                body="", original_body="", moderation_findings=[], purged_at=timezone.now()
            )
            purged += len(ids)
            logger.info("chat.deleted_messages_purged", extra={"count": len(ids)})
