"""Reads of the notifications context."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from apps.core.errors import NotFound
from apps.notifications.catalogue import listed_types
from apps.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Digest,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationTemplate,
    PushSubscription,
)


def notification_list(
    *, user_id: UUID, unread: bool | None = None, type_key: str | None = None
) -> QuerySet[Notification]:
    """The person's inbox, newest first (the partial inbox index serves it)."""
    rows = Notification.objects.filter(user_id=user_id, in_app=True, deleted_at__isnull=True)
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    if type_key:
        rows = rows.filter(type=type_key)
    return rows.order_by("-created_at", "-id")


def unread_count(*, user_id: UUID) -> int:
    return Notification.objects.filter(
        user_id=user_id, in_app=True, deleted_at__isnull=True, read_at__isnull=True
    ).count()


def notification_detail(*, user_id: UUID, notification_id: UUID) -> Notification:
    """One notification with its deliveries on the other channels and their attempts."""
    notification = (
        notification_list(user_id=user_id)
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.order_by("channel").prefetch_related(
                    Prefetch("attempt_rows", queryset=DeliveryAttempt.objects.order_by("number"))
                ),
            )
        )
        .filter(id=notification_id)
        .first()
    )
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def preferences_of(*, user_id: UUID) -> dict:
    """Every type a person can choose for, with their choice or the type's defaults, and quiet hours."""
    chosen = {row.type: row for row in NotificationPreference.objects.filter(user_id=user_id)}
    settings_row = NotificationSettings.objects.filter(user_id=user_id).first()
    types = []
    for kind in listed_types():
        row = chosen.get(kind.key)
        channels = {
            channel: (getattr(row, channel) if row is not None else channel in kind.default_channels)
            for channel in Channel.values
        }
        if kind.mandatory:
            channels.update({Channel.IN_APP: True, Channel.EMAIL: True})
        types.append(
            {
                "type": kind.key,
                "label": kind.label,
                "category": kind.category,
                "mandatory": kind.mandatory,
                "digestible": kind.digestible,
                **channels,
                "digest": row.digest if row is not None and kind.digestible else Digest.IMMEDIATE,
            }
        )
    quiet = None
    if settings_row is not None and settings_row.quiet_start is not None:
        quiet = {"start": settings_row.quiet_start, "end": settings_row.quiet_end}
    return {"types": types, "quiet_hours": quiet}


def template_list(*, type_key: str | None = None, channel: str | None = None, language: str | None = None):
    rows = NotificationTemplate.objects.all()
    if type_key:
        rows = rows.filter(type=type_key)
    if channel:
        rows = rows.filter(channel=channel)
    if language:
        rows = rows.filter(language=language)
    return rows.order_by("type", "channel", "language", "id")


def template_get(*, template_id: UUID) -> NotificationTemplate:
    template = NotificationTemplate.objects.filter(id=template_id).first()
    if template is None:
        raise NotFound("Template not found.")
    return template


def push_subscription_list(*, user_id: UUID) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user_id=user_id).order_by("created_at", "id")
