"""A person's in-app notifications: read, read all, delete (their own rows: Personal RLS)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.errors import NotFound
from apps.notifications.models import Notification


def _listed(user_id: UUID):
    return Notification.objects.filter(user_id=user_id, in_app=True, deleted_at__isnull=True)


def _own(user_id: UUID, notification_id: UUID) -> Notification:
    notification = _listed(user_id).select_for_update().filter(id=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


@transaction.atomic
def notification_mark_read(*, user_id: UUID, notification_id: UUID) -> Notification:
    """Mark one notification read (reading it again keeps the first time)."""
    notification = _own(user_id, notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user_id: UUID) -> int:
    """Mark every unread notification read; returns how many were unread."""
    return _listed(user_id).filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_delete(*, user_id: UUID, notification_id: UUID) -> None:
    """Hide the notification from its person. The row stays (deleted_at) so that the same event,
    relayed again, is still known and not told twice."""
    notification = _own(user_id, notification_id)
    notification.deleted_at = timezone.now()
    notification.save(update_fields=["deleted_at"])
