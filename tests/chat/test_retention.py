"""The chat beat jobs: a deleted message's content is erased once the retention period has
passed (the message keeps its place, shown as deleted), and uploads never sent are deleted."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from apps.chat import services
from apps.chat.models import Message, MessageAttachment, MessageVersion
from apps.chat.tasks import chat_purge_deleted, chat_sweep_unsent_attachments
from apps.core.context import system_scope, tenant_scope
from tests.beat import run_beat_job
from tests.chat.factories import send

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(side, thread) -> MessageAttachment:
    with tenant_scope(side.org.id, user_id=side.user.id):
        return services.attachment_upload(
            actor=side.actor(), thread_id=thread.id, upload=services.Upload(name="dock.png", data=_png())
        )


def _age(model, pk, field: str, by: timedelta) -> None:
    with system_scope(reason="test: age a row"):
        row = model.objects.get(pk=pk)
        model.objects.filter(pk=pk).update(**{field: getattr(row, field) - by})


def test_a_deleted_message_is_erased_after_the_retention_period_and_not_before(carrier, thread, settings):
    kept_message = send(carrier, thread, "deleted yesterday")
    old_message = send(carrier, thread, "deleted long ago")
    attachment = _upload(carrier, thread)
    with tenant_scope(carrier.org.id, user_id=carrier.user.id):
        services.message_edit(actor=carrier.actor(), message_id=old_message.id, text="deleted long ago, edited")
        with system_scope(reason="test: attach"):
            MessageAttachment.objects.filter(pk=attachment.pk).update(message=old_message)
        for message in (kept_message, old_message):
            services.message_delete(actor=carrier.actor(), message_id=message.id)
    _age(Message, old_message.id, "deleted_at", settings.CHAT["DELETED_RETENTION"] + timedelta(days=1))

    purged = run_beat_job(chat_purge_deleted)

    assert purged == [1]
    with system_scope(reason="test: staff read"):
        old, kept = Message.objects.get(pk=old_message.id), Message.objects.get(pk=kept_message.id)
        assert (old.body, old.purged_at is not None) == ("", True)
        assert not MessageVersion.objects.filter(message_id=old.id).exists()
        assert not MessageAttachment.objects.filter(message_id=old.id).exists()
        assert kept.body == "deleted yesterday" and kept.purged_at is None
    assert run_beat_job(chat_purge_deleted) == []  # nothing left to do


def test_an_upload_never_sent_is_deleted_with_its_file(carrier, thread, settings, django_capture_on_commit_callbacks):
    stale, fresh = _upload(carrier, thread), _upload(carrier, thread)
    _age(MessageAttachment, stale.id, "created_at", settings.CHAT["UNSENT_ATTACHMENT_TTL"] + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        swept = run_beat_job(chat_sweep_unsent_attachments)

    assert swept == [1]
    with system_scope(reason="test: read uploads"):
        assert list(MessageAttachment.objects.values_list("id", flat=True)) == [fresh.id]
    assert not default_storage.exists(stale.file.name)
    assert default_storage.exists(fresh.file.name)
