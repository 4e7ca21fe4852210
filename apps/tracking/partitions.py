"""The monthly partitions of the tracking events table: made ahead, dropped past retention.

The application role cannot create or drop tables; migration 0002's SECURITY DEFINER functions
do it for the owner, and these call them."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection
from django.utils import timezone


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def partitions_ensure(*, today: date | None = None, months_ahead: int | None = None) -> int:
    """This month's partition and the next `months_ahead` (TRACKING["PARTITIONS_AHEAD"]),
    made if missing; how many were made."""
    today = today or timezone.now().date()
    ahead = settings.TRACKING["PARTITIONS_AHEAD"] if months_ahead is None else months_ahead
    with connection.cursor() as cursor:
        cursor.execute("SELECT tracking_event_partitions_ensure(%s, %s)", [today, 1 + ahead])
        return cursor.fetchone()[0]


def partitions_drop_expired(*, today: date | None = None, retention_months: int | None = None) -> int:
    """Drop the partitions of months that ended more than `retention_months`
    (TRACKING["RETENTION_MONTHS"]) ago; how many were dropped."""
    today = today or timezone.now().date()
    months = settings.TRACKING["RETENTION_MONTHS"] if retention_months is None else retention_months
    before = _months_before(today.replace(day=1), months)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tracking_event_partitions_drop_before(%s)", [before])
        return cursor.fetchone()[0]


def partition_names() -> list[str]:
    """The partitions there are, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits"
            " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
            " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
            " WHERE parent.relname = 'tracking_trackingevent' ORDER BY child.relname"
        )
        return [name for (name,) in cursor.fetchall()]
