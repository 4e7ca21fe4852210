"""What notifications hold about a person, for the export, and what the erasure forgets.

Both run inside the audited all-tenants scope accounts opens (apps.core.personal_data)."""

from __future__ import annotations

from uuid import UUID

from apps.notifications.models import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    PhoneVerification,
    PushSubscription,
)


def notifications_of_person(*, user_id: UUID, email: str) -> list[dict]:
    return [
        {
            "type": row.type,
            "title": row.title,
            "body": row.body,
            "created_at": row.created_at.isoformat(),
            "read_at": row.read_at.isoformat() if row.read_at else None,
        }
        for row in Notification.objects.filter(user_id=user_id, deleted_at__isnull=True).order_by("created_at")
    ]


def preferences_of_person(*, user_id: UUID, email: str) -> list[dict]:
    rows = [
        {
            "type": row.type,
            "in_app": row.in_app,
            "email": row.email,
            "sms": row.sms,
            "push": row.push,
            "digest": row.digest,
        }
        for row in NotificationPreference.objects.filter(user_id=user_id).order_by("type")
    ]
    quiet = NotificationSettings.objects.filter(user_id=user_id).first()
    if quiet is not None and quiet.quiet_start is not None:
        rows.append({"quiet_hours": {"start": quiet.quiet_start.isoformat(), "end": quiet.quiet_end.isoformat()}})
    rows += [
        {"push_subscription": row.endpoint, "created_at": row.created_at.isoformat()}
        for row in PushSubscription.objects.filter(user_id=user_id).order_by("created_at")
    ]
    return rows


def person_forget(*, user_id: UUID, email: str, replacement: str, actor) -> None:
    """Everything notifications kept of the person goes: the notifications with their deliveries
    (addresses, texts) and attempts, preferences, push subscriptions, phone codes."""
    Notification.objects.filter(user_id=user_id).delete()
    NotificationPreference.objects.filter(user_id=user_id).delete()
    NotificationSettings.objects.filter(user_id=user_id).delete()
    PushSubscription.objects.filter(user_id=user_id).delete()
    PhoneVerification.objects.filter(user_id=user_id).delete()
