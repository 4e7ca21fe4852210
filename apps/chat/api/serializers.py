"""Serializers of chat: threads with the caller's unread count, messages as both parties see them."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.chat.models import Message, MessageAttachment, MessageReport, Thread, ThreadKind, ThreadParticipant
from apps.core.api.fields import StrictCharField
from apps.core.download_links import download_token

DOWNLOAD_SALT = "chat.attachment"
MESSAGE_STATES = ["active", "deleted", "hidden"]
# What a client may open a thread about (service orders come with the field-service context).
OPENABLE_KINDS = [ThreadKind.ORDER, ThreadKind.RFQ, ThreadKind.DISPUTE, ThreadKind.SERVICE_ORDER, ThreadKind.DIRECT]


def attachment_download_url(attachment: MessageAttachment) -> str:
    """A short-lived link to the file; it names a party's scope to read the row in."""
    token = download_token(
        salt=DOWNLOAD_SALT, record_id=attachment.id, organization_id=attachment.party_a_organization_id
    )
    return reverse("chat-attachment-file", args=[token])


class ThreadInput(serializers.Serializer):
    subject_type = serializers.ChoiceField(
        choices=[(kind.value, kind.label) for kind in OPENABLE_KINDS],
        help_text="What the thread is about: an order, an RFQ (one thread per carrier that offered), a "
        "dispute, a service order, or direct (two organizations that have traded).",
    )
    subject_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Its id (not for direct)."
    )
    counterparty_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The other organization: the carrier (an RFQ's owner naming whom to talk to) or the "
        "organization of a direct thread.",
    )


class ThreadPartyOutput(serializers.Serializer):
    organization_id = serializers.UUIDField()
    name = StrictCharField()


class ThreadOutput(serializers.ModelSerializer):
    subject_type = StrictCharField(source="kind", read_only=True)
    parties = serializers.SerializerMethodField()
    unread_count = serializers.IntegerField(read_only=True, help_text="Messages after the last one you read.")
    last_read_seq = serializers.IntegerField(source="my_last_read_seq", read_only=True)

    class Meta:
        model = Thread
        fields = [
            "id",
            "subject_type",
            "subject_id",
            "title",
            "parties",
            "created_at",
            "last_message_at",
            "last_seq",
            "unread_count",
            "last_read_seq",
        ]
        read_only_fields = fields

    @extend_schema_field(ThreadPartyOutput(many=True))
    def get_parties(self, thread) -> list[dict]:
        return [
            {"organization_id": str(thread.party_a_organization_id), "name": thread.party_a_name},
            {"organization_id": str(thread.party_b_organization_id), "name": thread.party_b_name},
        ]


class ParticipantOutput(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    organization_id = serializers.UUIDField(read_only=True)
    name = StrictCharField(source="display_name", read_only=True)

    class Meta:
        model = ThreadParticipant
        fields = ["user_id", "organization_id", "name", "joined_at", "last_read_seq", "last_read_at"]
        read_only_fields = fields


class ThreadDetailOutput(ThreadOutput):
    participants = ParticipantOutput(many=True, read_only=True, help_text="Who takes part and how far each has read.")

    class Meta(ThreadOutput.Meta):
        fields = [*ThreadOutput.Meta.fields, "participants"]
        read_only_fields = fields


class MessageInput(serializers.Serializer):
    text = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=settings.CHAT["MAX_MESSAGE_CHARACTERS"] + 1000,  # the service says how long is too long
        help_text=f"Up to {settings.CHAT['MAX_MESSAGE_CHARACTERS']:,} characters.",
    )
    attachment_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=50,
        help_text=f"Files you uploaded to the thread (.../attachments), up to {settings.CHAT['MAX_ATTACHMENTS']}.",
    )


class MessageUploadInput(serializers.Serializer):
    text = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        max_length=settings.CHAT["MAX_MESSAGE_CHARACTERS"] + 1000,
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=f"Up to {settings.CHAT['MAX_ATTACHMENTS']} PDF, JPEG or PNG files of up to 10 MB each, "
        "within the request's upload limit (upload larger sets one by one to .../attachments).",
    )


class ParticipantInput(serializers.Serializer):
    user_id = serializers.UUIDField(help_text="A member of your organization whose role reads chat.")


class ReadInput(serializers.Serializer):
    message_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Read up to this message; the newest when left out."
    )


class ReportOutput(serializers.ModelSerializer):
    message_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = MessageReport
        fields = ["id", "message_id", "reason", "status", "created_at"]
        read_only_fields = fields


class MessageEditInput(serializers.Serializer):
    text = StrictCharField(
        allow_blank=True, trim_whitespace=False, max_length=settings.CHAT["MAX_MESSAGE_CHARACTERS"] + 1000
    )


class ReportInput(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="What is wrong with the message.")


class AttachmentUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="A PDF, JPEG or PNG of up to 10 MB.")


class AttachmentOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text="Works for a few minutes; list again for a fresh one.")

    class Meta:
        model = MessageAttachment
        fields = ["id", "filename", "content_type", "size", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str | None:
        return attachment_download_url(attachment) if attachment.message_id else None


class SenderOutput(serializers.Serializer):
    user_id = serializers.UUIDField(allow_null=True)
    organization_id = serializers.UUIDField()
    name = StrictCharField()


class ModerationOutput(serializers.Serializer):
    contacts_masked = serializers.BooleanField()
    profanity_masked = serializers.BooleanField()


_DATETIME = serializers.DateTimeField()


def _attachment(attachment: MessageAttachment) -> dict:
    return {
        "id": str(attachment.id),
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "download_url": attachment_download_url(attachment) if attachment.message_id else None,
    }


class MessageOutput(serializers.ModelSerializer):
    """A message as both parties see it: a deleted or hidden one keeps its place, not its content."""

    thread_id = serializers.UUIDField(read_only=True)
    sender = SenderOutput(read_only=True)
    state = serializers.ChoiceField(
        choices=MESSAGE_STATES, read_only=True, help_text="active, deleted (by its sender) or hidden (by a moderator)"
    )
    text = StrictCharField(read_only=True, help_text="Empty when deleted or hidden.")
    edited = serializers.BooleanField(read_only=True)
    attachments = AttachmentOutput(many=True, read_only=True)
    moderation = ModerationOutput(
        read_only=True,
        help_text="What moderation changed: contact details masked (before a deal), offensive words hidden.",
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "thread_id",
            "seq",
            "sender",
            "state",
            "text",
            "edited",
            "edited_at",
            "created_at",
            "attachments",
            "moderation",
        ]
        read_only_fields = fields

    # The fields above describe the schema; a page of 50 is built here at once rather than field
    # by field (DRF's per-field machinery cost 2.8 ms of a page, this 1.2: docs/benchmarks.md).
    # Ids are strings, not UUIDs: the same data goes to the sockets through the channel layer (msgpack).
    def to_representation(self, message) -> dict:
        shown = message.hidden_at is None and message.deleted_at is None
        kinds = set(message.moderation_findings or ())
        return {
            "id": str(message.id),
            "thread_id": str(message.thread_id),
            "seq": message.seq,
            "sender": {
                "user_id": str(message.sender_id) if message.sender_id else None,
                "organization_id": str(message.sender_organization_id),
                "name": message.sender_name,
            },
            "state": "active" if shown else ("hidden" if message.hidden_at is not None else "deleted"),
            "text": message.body if shown else "",
            "edited": message.edited_at is not None,
            "edited_at": _DATETIME.to_representation(message.edited_at) if message.edited_at else None,
            "created_at": _DATETIME.to_representation(message.created_at),
            "attachments": [_attachment(attachment) for attachment in message.attachments.all()] if shown else [],
            "moderation": {"contacts_masked": bool(kinds - {"profanity"}), "profanity_masked": "profanity" in kinds},
        }


class SentMessageOutput(MessageOutput):
    """The sender's own view of what they sent: what moderation did, in a sentence."""

    notice = StrictCharField(read_only=True, help_text="Said to the sender when moderation changed the message.")

    class Meta(MessageOutput.Meta):
        fields = [*MessageOutput.Meta.fields, "notice"]
        read_only_fields = fields

    def to_representation(self, message) -> dict:
        from apps.chat.services import moderation_notice

        return {**super().to_representation(message), "notice": moderation_notice(message)}
