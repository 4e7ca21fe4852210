"""Notifications: what the platform tells a person, on which channels, and what became of it.

- `Notification`: one event told to one person (unique per event and recipient). It is the
  in-app notification (listed, read, deleted by its person) and the parent of the deliveries
  on the other channels. Its title and body are rendered once, in the person's language.
- `Delivery`: the notification on one channel (e-mail, SMS, web push), unique per
  notification and channel, so a relayed-again event never sends twice. Its status moves
  queued → sent → delivered, or failed / bounced; it waits (`due_at`) for quiet hours to end,
  for its digest, or for its next retry.
- `DeliveryAttempt`: one try of a delivery: the provider's id, the outcome, the error.
- `NotificationPreference`: a person's choice for one type: channels on or off, digest.
- `NotificationSettings`: a person's quiet hours (in their time zone).
- `NotificationTemplate`: staff's text for a type, channel and language, replacing the default.
- `PushSubscription`: a browser's web-push subscription.
- `PhoneVerification`: a code sent by SMS to confirm a person's phone.
- `FannedOutEvent`: the mark that an outbox event was turned into notifications, written in the
  same transaction, so the relay's at-least-once delivery tells nobody twice.

Visibility: everything of a person is theirs alone (Personal); the fan-out, which runs while it
relays some organization's event, may add rows for anyone (open insert) but never read them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.rls import Personal


class Channel(models.TextChoices):
    IN_APP = "in_app", "In-app"
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PUSH = "push", "Web push"


# The channels that leave the platform: each is a Delivery of the notification.
OUTBOUND_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PUSH)


class Language(models.TextChoices):
    EN = "en", "English"
    RU = "ru", "Russian"


class Digest(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    HOURLY = "hourly", "Hourly digest"
    DAILY = "daily", "Daily digest"


class Notification(models.Model):
    row_visibility = Personal(open_insert=True)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64, help_text="The notification type (apps.notifications.catalogue).")
    # The outbox event told; unique with the person, so a relayed-again event adds nothing.
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=64)
    # The organization the person was told as a member of (none for their own account's events).
    organization_id = models.UUIDField(null=True, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    # Where the client can take the person: the event's aggregate.
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    # False when the person switched the in-app channel off for the type: the row only carries
    # the other channels' deliveries and is not listed.
    in_app = models.BooleanField(default=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Deleted by the person: hidden, kept so a relayed-again event is still known.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id", "user"], name="notification_event_user_unique")]
        indexes = [
            # The inbox: a person's listed notifications, newest first; and the unread count.
            models.Index(
                fields=["user", "-created_at", "-id"],
                name="notification_inbox_idx",
                condition=Q(in_app=True, deleted_at__isnull=True),
            ),
            models.Index(
                fields=["user"],
                name="notification_unread_idx",
                condition=Q(in_app=True, deleted_at__isnull=True, read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} to {self.user_id}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"


class Delivery(models.Model):
    row_visibility = Personal(open_insert=True)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # The address when it was queued: an e-mail address, a phone number; empty for push (every
    # subscription of the person at sending time).
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    # When it may be sent: now, after quiet hours, at its digest, or at its next retry.
    due_at = models.DateTimeField()
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.IMMEDIATE)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_notification_channel_unique")
        ]
        indexes = [
            # The sweep: queued deliveries that are due.
            models.Index(fields=["due_at"], name="delivery_queued_due_idx", condition=Q(status="queued")),
            models.Index(fields=["user", "created_at"], name="delivery_user_idx"),
            models.Index(fields=["provider_id"], name="delivery_provider_idx", condition=~Q(provider_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status} ({self.notification_id})"


class DeliveryAttempt(models.Model):
    row_visibility = Personal(open_insert=True)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempted_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["delivery", "number"]
        indexes = [models.Index(fields=["user", "attempted_at"], name="delivery_attempt_user_idx")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status}"


class NotificationPreference(models.Model):
    """A person's choice for one type; no row means the type's defaults."""

    row_visibility = Personal()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    push = models.BooleanField(default=True)
    digest = models.CharField(max_length=10, choices=Digest.choices, default=Digest.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "type"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.type}"


class NotificationSettings(models.Model):
    """A person's quiet hours: from `quiet_start` to `quiet_end` in their time zone (may pass
    midnight), e-mail, SMS and push wait; in-app notifications are stored at once."""

    row_visibility = Personal()

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: quiet {self.quiet_start}-{self.quiet_end}"


class NotificationTemplate(models.Model):
    """Staff's subject and body for a type, channel and language (Jinja2, sandboxed, over the
    event's payload). Checked when saved; without one the type's default text is used."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8, choices=Language.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField(max_length=5000)
    is_active = models.BooleanField(default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["type", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["type", "channel", "language"], name="notification_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.type} / {self.channel} / {self.language}"


class PushSubscription(models.Model):
    row_visibility = Personal()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    endpoint = models.URLField(max_length=1000)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "endpoint"], name="push_subscription_unique")]

    def __str__(self) -> str:
        return f"push {self.id} of {self.user_id}"


class PhoneVerification(models.Model):
    row_visibility = Personal()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=128)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="phone_verification_user_idx")]

    def __str__(self) -> str:
        return f"{self.phone} for {self.user_id}"


class FannedOutEvent(models.Model):
    """An outbox event already turned into notifications (no personal data: ids and counts)."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=64)
    notifications = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}: {self.notifications}"
