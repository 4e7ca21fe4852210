"""From an outbox event to notifications: the consumer the relay calls for every event.

One call tells everyone the event concerns: it resolves the recipients (a read-only look
across organizations), reads their contacts and preferences, renders each text once per
language, and writes in one savepoint the in-app notifications, the deliveries of the other
channels and the mark that the event was fanned out. Then, on commit, it pushes the in-app
notifications to each person's live feed and hands the deliveries due now to the workers.

At least once in, exactly once out: the relay may hand the same event again (another consumer
failed, a worker died); the mark, written with the notifications, makes the second call do
nothing, and the unique (event, person) and (notification, channel) keys stand behind it.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from apps.accounts.selectors import user_contacts
from apps.core.context import system_scope
from apps.notifications import live, policy
from apps.notifications.catalogue import NotificationType, types_for_event
from apps.notifications.models import (
    Channel,
    Delivery,
    Digest,
    FannedOutEvent,
    Language,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationTemplate,
    PushSubscription,
)
from apps.notifications.recipients import recipients_of
from apps.notifications.rendering import Rendered, TemplateRefused, render, render_default

logger = logging.getLogger(__name__)

LANGUAGES = frozenset(Language.values)


class Texts:
    """Each type's text per channel and language, rendered once over the event's payload."""

    def __init__(self, kinds: Iterable[NotificationType], context: dict):
        self.context = context
        self.templates = {
            (row.type, row.channel, row.language): row
            for row in NotificationTemplate.objects.filter(type__in=[kind.key for kind in kinds], is_active=True)
        }
        self.rendered: dict[tuple[str, str, str], Rendered] = {}

    def get(self, kind: NotificationType, channel: str, language: str) -> Rendered:
        key = (kind.key, channel, language)
        if key not in self.rendered:
            self.rendered[key] = self._render(kind, channel, language)
        return self.rendered[key]

    def _render(self, kind: NotificationType, channel: str, language: str) -> Rendered:
        template = self.templates.get((kind.key, channel, language))
        if template is not None:
            try:
                return render(subject=template.subject, body=template.body, context=self.context)
            except TemplateRefused as refused:
                logger.warning(
                    "notifications.template_fallback",
                    extra={"type": kind.key, "channel": channel, "language": language, "error": str(refused)},
                )
        text = render_default(type_key=kind.key, language=language, context=self.context)
        if channel in (Channel.SMS, Channel.PUSH):
            # Short channels say the subject; the body is for reading in full.
            return Rendered(subject=text.subject, body=text.subject)
        return text


def template_context(event) -> dict:
    """What a template sees: the event's payload (plain JSON values) and when it happened."""
    created_at = getattr(event, "created_at", None)
    return {
        **event.payload,
        "event_type": event.event_type,
        "occurred_at": created_at.isoformat() if created_at else "",
    }


def event_fan_out(*, event) -> int:
    """Tell everyone the event concerns; returns how many notifications were written (0 when the
    event tells nobody or was fanned out before)."""
    kinds = [kind for kind in types_for_event(event.event_type) if kind.when is None or kind.when(event.payload)]
    if not kinds:
        return 0
    # A savepoint: should anything here fail, none of it stays, and the relay retries the event.
    with transaction.atomic():
        if FannedOutEvent.objects.filter(event_id=event.id).exists():
            return 0
        return _fan_out(event, kinds, now=timezone.now())


def _fan_out(event, kinds: list[NotificationType], *, now) -> int:
    with system_scope(reason=f"notifications: who hears of {event.event_type}", audit=False):
        # Reads only: the recipients across organizations and what they chose.
        recipients = recipients_of(kinds, event)
        user_ids = list(recipients)
        contacts = user_contacts(user_ids=user_ids)
        preferences = {
            (row.user_id, row.type): row
            for row in NotificationPreference.objects.filter(user_id__in=user_ids, type__in=[k.key for k in kinds])
        }
        quiet = {row.user_id: row for row in NotificationSettings.objects.filter(user_id__in=user_ids)}
        with_push = set(
            PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True).distinct()
        )
    texts = Texts(kinds, template_context(event))
    available = policy.configured_channels()
    notifications: list[Notification] = []
    deliveries: list[Delivery] = []
    for user_id in sorted(recipients, key=str):
        kind, organization_id = recipients[user_id]
        contact = contacts.get(user_id)
        if contact is None or not contact.is_active:
            continue
        preference = preferences.get((user_id, kind.key))
        channels = policy.chosen_channels(kind, preference) & available
        language = contact.language if contact.language in LANGUAGES else Language.EN
        addresses = {
            Channel.EMAIL: contact.email,
            Channel.SMS: contact.phone,
            Channel.PUSH: "push" if user_id in with_push else "",
        }
        outbound = [
            channel
            for channel in (Channel.EMAIL, Channel.SMS, Channel.PUSH)
            if channel in channels and addresses[channel]
        ]
        if Channel.IN_APP not in channels and not outbound:
            continue
        in_app = texts.get(kind, Channel.IN_APP, language)
        notification = Notification(
            id=uuid.uuid4(),
            user_id=user_id,
            type=kind.key,
            event_id=event.id,
            event_type=event.event_type,
            organization_id=organization_id,
            title=in_app.subject,
            body=in_app.body,
            subject_type=event.aggregate_type,
            subject_id=event.aggregate_id,
            in_app=Channel.IN_APP in channels,
        )
        notifications.append(notification)
        digest = policy.digest_of(kind, preference)
        settings_row = quiet.get(user_id)
        waits_until = None
        if settings_row is not None and not kind.mandatory:
            waits_until = policy.quiet_until(
                quiet_start=settings_row.quiet_start,
                quiet_end=settings_row.quiet_end,
                time_zone=contact.timezone,
                now=now,
            )
        for channel in outbound:
            if digest != Digest.IMMEDIATE and channel != Channel.EMAIL:
                continue  # a digested type does not interrupt
            due_at = waits_until or now
            if digest != Digest.IMMEDIATE:
                due_at = max(due_at, policy.digest_due(digest=digest, time_zone=contact.timezone, now=now))
            text = texts.get(kind, channel, language)
            deliveries.append(
                Delivery(
                    id=uuid.uuid4(),
                    notification_id=notification.id,
                    user_id=user_id,
                    channel=channel,
                    address="" if channel == Channel.PUSH else addresses[channel],
                    language=language,
                    subject=text.subject,
                    body=text.body,
                    due_at=due_at,
                    digest=digest,
                )
            )
    # Plain inserts with ids made here (no RETURNING): rows addressed to others may be written in
    # this scope, never read back. A duplicate cannot pass the mark; should one race past it,
    # the unique keys fail the savepoint and the relay's retry finds the mark.
    Notification.objects.bulk_create(notifications)
    Delivery.objects.bulk_create(deliveries)
    FannedOutEvent.objects.create(event_id=event.id, event_type=event.event_type, notifications=len(notifications))
    _after_commit(notifications, deliveries, now=now)
    logger.info(
        "notifications.fanned_out",
        extra={
            "event_id": str(event.id),
            "event_type": event.event_type,
            "notifications": len(notifications),
            "deliveries": len(deliveries),
        },
    )
    return len(notifications)


def _after_commit(notifications: list[Notification], deliveries: list[Delivery], *, now) -> None:
    listed = [notification for notification in notifications if notification.in_app]
    due: dict[str, list[list[str]]] = defaultdict(list)
    for delivery in deliveries:
        if delivery.due_at <= now:
            due[delivery.channel].append([str(delivery.user_id), str(delivery.id)])

    def push_and_send():
        live.notifications_push(listed)
        from apps.notifications.tasks import deliveries_enqueue

        deliveries_enqueue(due)

    transaction.on_commit(push_and_send)
