"""Files sent in a thread: uploaded one per request, checked by their bytes, size and name like
every other upload (apps.core.uploads), stored privately, then named by the message that sends
them. Uploads never sent are swept."""

from __future__ import annotations

import hashlib
import logging
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.chat.models import MessageAttachment
from apps.chat.selectors import thread_for_actor
from apps.chat.services.threads import party_columns
from apps.core.actors import Actor
from apps.core.uploads import Upload, upload_checked

logger = logging.getLogger(__name__)


@transaction.atomic
def attachment_upload(*, actor: Actor, thread_id: UUID, upload: Upload) -> MessageAttachment:
    """Store a checked file in the thread for the actor's next message (not visible in the
    thread until a message sends it)."""
    thread = thread_for_actor(actor=actor, thread_id=thread_id)
    content_type = upload_checked(upload, max_bytes=settings.CHAT["MAX_ATTACHMENT_BYTES"])
    attachment = MessageAttachment(
        thread=thread,
        **party_columns(thread),
        uploaded_by_id=actor.user_id,
        filename=upload.name[:255],
        content_type=content_type,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
    )
    attachment.file.save(upload.name, ContentFile(upload.data), save=False)
    attachment.save()
    logger.info("chat.attachment_uploaded", extra={"thread_id": str(thread.id), "attachment_id": str(attachment.id)})
    return attachment


def _unsent_cutoff(now=None):
    return (now or timezone.now()) - settings.CHAT["UNSENT_ATTACHMENT_TTL"]


def attachments_unsent_organizations(*, now=None) -> list[UUID]:
    """The first parties of threads holding uploads never sent in time (the beat's bypass scope)."""
    return list(
        MessageAttachment.objects.filter(message__isnull=True, created_at__lt=_unsent_cutoff(now))
        .values_list("party_a_organization_id", flat=True)
        .distinct()
    )


def attachments_sweep_unsent(*, now=None) -> int:
    """Delete the scope's uploads no message sent within CHAT["UNSENT_ATTACHMENT_TTL"]; their
    files go after commit. Returns how many went."""
    cutoff = _unsent_cutoff(now)
    with transaction.atomic():
        stale = list(
            MessageAttachment.objects.select_for_update(skip_locked=True).filter(
                message__isnull=True, created_at__lt=cutoff
            )[:1000]
        )
        files = [(attachment.file.storage, attachment.file.name) for attachment in stale if attachment.file]
        MessageAttachment.objects.filter(pk__in=[attachment.pk for attachment in stale]).delete()
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
    return len(stale)
