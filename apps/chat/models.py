"""Chat: conversations between the two organizations of a deal.

- `Thread`: one conversation about a subject (an order, one carrier's offer on an RFQ, a
  dispute, a service order) or direct between two organizations that have traded. Its two
  parties are organizations; `last_seq` numbers its messages.
- `ThreadParticipant`: a user who wrote in the thread or was added to it, with the last
  message they have read (`last_read_seq`): unread counts are `last_seq - last_read_seq`.
- `Message`: text, moderated before it is stored; `seq` is its place in the thread, given
  under the thread's row lock, so the history's order is the order of commits and a page read
  while others write never shifts. Edited (previous versions kept in `MessageVersion`),
  deleted (soft) and hidden by staff; the original text stays for staff and disputes.
- `MessageAttachment`: a checked file of a message, downloaded through a short-lived link.
- `MessageReport`: a user's report of a message, worked by staff from the back-office queue.

Visibility: a thread is its two parties' (shared by parties); everything under it carries the
parties' columns copied from the thread (derived), so no policy joins.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.rls import Derived, SharedByParties

PARTIES = ("party_a_organization_id", "party_b_organization_id")


class ThreadKind(models.TextChoices):
    ORDER = "order", "Order"
    RFQ = "rfq", "RFQ"
    DISPUTE = "dispute", "Dispute"
    SERVICE_ORDER = "service_order", "Service order"
    DIRECT = "direct", "Direct"


class Thread(models.Model):
    """A conversation of two organizations about one subject (or none: direct)."""

    row_visibility = SharedByParties(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=ThreadKind.choices)
    # The order, RFQ, dispute or service order talked about; none for a direct thread.
    subject_id = models.UUIDField(null=True, blank=True)
    title = models.CharField(max_length=300, help_text="What the thread is about, e.g. 'Order ORD-2026-000123'.")
    # Party A opened the thread's subject (the order's client, the RFQ's shipper); for a direct
    # thread the organization with the smaller id, so a pair has one direct thread.
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # The names when the thread opened: row-level security does not let a party read the other's row.
    party_a_name = models.CharField(max_length=200)
    party_b_name = models.CharField(max_length=200)
    # The subject's customer (an order placed for a person): the `:own` grants see the thread.
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The seq of the newest message (0: none yet); messages are numbered 1, 2, ... under a row lock.
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # What the lists sort by: the last message's time, or the opening while there is none.
    last_activity_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_id", "party_a_organization", "party_b_organization"],
                condition=Q(subject_id__isnull=False),
                name="chat_thread_subject_parties_unique",
            ),
            models.UniqueConstraint(
                fields=["party_a_organization", "party_b_organization"],
                condition=Q(kind="direct"),
                name="chat_thread_direct_pair_unique",
            ),
            models.CheckConstraint(
                condition=Q(kind="direct", subject_id__isnull=True) | (~Q(kind="direct") & Q(subject_id__isnull=False)),
                name="chat_thread_subject_matches_kind",
            ),
        ]
        indexes = [
            # One per party, in the list's order: each arm of the two-party list walks one
            # (apps/core/visibility.py party_page, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["party_a_organization", "last_activity_at", "id"], name="chat_thread_a_activity_idx"),
            models.Index(fields=["party_b_organization", "last_activity_at", "id"], name="chat_thread_b_activity_idx"),
            models.Index(fields=["party_b_organization", "party_a_organization"], name="chat_thread_b_a_idx"),
            models.Index(fields=["kind", "subject_id"], name="chat_thread_subject_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def party_name(self, organization_id) -> str:
        return self.party_a_name if str(organization_id) == str(self.party_a_organization_id) else self.party_b_name

    def other_party_id(self, organization_id):
        if str(organization_id) == str(self.party_a_organization_id):
            return self.party_b_organization_id
        return self.party_a_organization_id


class ThreadParticipant(models.Model):
    """A user in a thread (wrote or was added), and how far they have read."""

    row_visibility = Derived(*PARTIES)

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="participants")
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The party the user speaks for (one of the thread's two).
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    display_name = models.CharField(max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="chat_participant_thread_user_unique"),
        ]
        indexes = [
            models.Index(fields=["user", "thread"], name="chat_participant_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.user_id} in {self.thread_id}"


class Message(models.Model):
    """One message of a thread, as moderation let it through; the original kept for staff."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(help_text="The message's place in its thread: 1, 2, ...")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    sender_name = models.CharField(max_length=200, blank=True)
    # What the parties see: the text after moderation.
    body = models.TextField(blank=True)
    # What the sender wrote, kept only when moderation changed it: for staff and disputes.
    original_body = models.TextField(blank=True)
    # The kinds moderation found ("phone", "email", "link", "handle", "profanity").
    moderation_findings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.TextField(blank=True)
    # Set when the retention period after a deletion has passed and the content was erased.
    purged_at = models.DateTimeField(null=True, blank=True)
    report_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-seq"]
        constraints = [
            # Also the history's index: a page is a walk down (thread, seq) from the cursor.
            models.UniqueConstraint(fields=["thread", "seq"], name="chat_message_thread_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="chat_message_sender_idx"),
            # The retention sweep: deleted messages whose content is still kept.
            models.Index(
                fields=["deleted_at"],
                condition=Q(deleted_at__isnull=False, purged_at__isnull=True),
                name="chat_message_to_purge_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.thread_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class MessageVersion(models.Model):
    """A message's text before an edit (what the parties saw and what was written): for staff."""

    row_visibility = Derived(*PARTIES)

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="versions")
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    body = models.TextField(blank=True)
    original_body = models.TextField(blank=True)
    moderation_findings = models.JSONField(default=list, blank=True)
    written_at = models.DateTimeField(help_text="When this text was written (sent or last edited).")
    replaced_at = models.DateTimeField(auto_now_add=True)
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self) -> str:
        return f"version of {self.message_id} replaced at {self.replaced_at:%Y-%m-%d %H:%M}"


def attachment_path(attachment: MessageAttachment, filename: str) -> str:
    # Our own name: the sender's file name is kept only as data (`filename`).
    suffix = PurePosixPath(filename).suffix.lower()
    return f"chat/{attachment.party_a_organization_id}/{attachment.thread_id}/{attachment.id}{suffix}"


class MessageAttachment(models.Model):
    """A file of a message, checked by its bytes before it was stored.

    Uploaded on its own first (one file per request keeps every request within the upload
    body limit), then named by the message that sends it; an upload never sent is swept."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None while uploaded and not yet sent: a message names up to five uploads of its sender.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The sweep of uploads never sent.
            models.Index(fields=["created_at"], condition=Q(message__isnull=True), name="chat_attachment_unsent_idx"),
        ]

    def __str__(self) -> str:
        return self.filename


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    HIDDEN = "hidden", "Message hidden"
    DISMISSED = "dismissed", "Dismissed"


class MessageReport(models.Model):
    """A user's report of a message: the back-office queue staff work through."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    party_a_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    party_b_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reporter_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "reporter"], name="chat_report_message_reporter_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="chat_report_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"report of {self.message_id} ({self.status})"
