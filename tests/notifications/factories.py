"""Rows of the notifications context for API tests, written as their person (Personal RLS).

The fan-out is what writes them in production; these tests are about what a person then does
with their inbox, so the rows are made directly, inside the person's own user scope.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from apps.core.context import system_scope, user_scope
from apps.notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Notification


def notification(user, *, type_key: str = "order.status_changed", created_at=None, **fields) -> Notification:
    """An in-app notification of `user`; `created_at` (an aware datetime) orders the inbox."""
    values = {
        "type": type_key,
        "event_id": uuid.uuid4(),
        "event_type": fields.pop("event_type", type_key),
        "title": fields.pop("title", f"{type_key} for {user.email}"),
        "body": fields.pop("body", "Something happened."),
        "subject_type": fields.pop("subject_type", "order"),
        "subject_id": fields.pop("subject_id", str(uuid.uuid4())),
        **fields,
    }
    with user_scope(user.id):
        row = Notification.objects.create(user_id=user.id, **values)
        if created_at is not None:
            # auto_now_add ignores a given value: set it afterwards to order the inbox.
            Notification.objects.filter(id=row.id).update(created_at=created_at)
            row.created_at = created_at
    return row


def inbox(user, count: int, **fields) -> list[Notification]:
    """`count` notifications of `user`, oldest first, a minute apart."""
    start = timezone.now() - dt.timedelta(hours=1)
    return [notification(user, created_at=start + dt.timedelta(minutes=index), **fields) for index in range(count)]


def delivery(
    parent: Notification, *, channel: str = "email", status: str = DeliveryStatus.SENT, provider_id: str = "", **fields
) -> Delivery:
    """A delivery of `parent` on `channel`; a sent one has an attempt carrying `provider_id`."""
    now = timezone.now()
    with user_scope(parent.user_id):
        row = Delivery.objects.create(
            notification=parent,
            user_id=parent.user_id,
            channel=channel,
            address=fields.pop("address", "person@example.test"),
            subject=parent.title,
            body=parent.body,
            status=status,
            due_at=now,
            attempts=0 if status == DeliveryStatus.QUEUED else 1,
            provider_id=provider_id,
            sent_at=None if status == DeliveryStatus.QUEUED else now,
            **fields,
        )
        if status != DeliveryStatus.QUEUED:
            DeliveryAttempt.objects.create(
                delivery=row, user_id=parent.user_id, number=1, status=status, provider_id=provider_id
            )
    return row


def stored(model, **lookup):
    """The row as the database holds it, whoever it belongs to."""
    with system_scope(reason="test reads the stored row", audit=False):
        return model.objects.get(**lookup)
