"""A person's choices: channels and digest per type, and quiet hours."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from apps.core.errors import ErrorCode, ValidationFailed
from apps.notifications.catalogue import type_get
from apps.notifications.models import Channel, Digest, NotificationPreference, NotificationSettings

CHANNELS = tuple(Channel.values)
KEEP = object()


def _check(entries: list[dict]) -> None:
    problems: dict[str, list[str]] = {}
    seen = set()
    for index, entry in enumerate(entries):
        key = entry["type"]
        kind = type_get(key)
        where = f"types[{index}]"
        if kind is None or not kind.events:
            problems[where] = [f"Unknown notification type {key!r}."]
            continue
        if key in seen:
            problems[where] = [f"{key!r} is given twice."]
        seen.add(key)
        if kind.mandatory and any(entry.get(channel) is False for channel in (Channel.IN_APP, Channel.EMAIL)):
            problems[where] = [f"{key!r} is a security notification: in-app and e-mail cannot be switched off."]
        digest = entry.get("digest")
        if digest not in (None, Digest.IMMEDIATE) and not kind.digestible:
            problems[where] = [f"{key!r} is not gathered into digests: it is sent as it happens."]
    if problems:
        raise ValidationFailed(
            "Some preferences cannot be set.", code=ErrorCode.VALIDATION_CONSTRAINT_VIOLATION, details=problems
        )


@transaction.atomic
def preferences_update(*, user_id: UUID, types: list[dict] | None = None, quiet_hours=KEEP) -> None:
    """Set the given types' channels and digest (fields left out keep their value or the type's
    default) and, when given, quiet hours ({"start", "end"} local times, or None to turn them off).
    All or nothing: one refused entry changes nothing."""
    entries = types or []
    _check(entries)
    for entry in entries:
        kind = type_get(entry["type"])
        row = NotificationPreference.objects.select_for_update().filter(user_id=user_id, type=kind.key).first()
        if row is None:
            row = NotificationPreference(
                user_id=user_id, type=kind.key, **{c: c in kind.default_channels for c in CHANNELS}
            )
        for channel in CHANNELS:
            if entry.get(channel) is not None:
                setattr(row, channel, entry[channel])
        if entry.get("digest") is not None:
            row.digest = entry["digest"]
        row.save()
    if quiet_hours is not KEEP:
        start, end = (quiet_hours["start"], quiet_hours["end"]) if quiet_hours else (None, None)
        if (start is None) != (end is None) or (start is not None and start == end):
            raise ValidationFailed(
                "Quiet hours need a start and an end that differ.",
                details={"quiet_hours": ["Give both start and end (HH:MM), different, or null to turn them off."]},
            )
        NotificationSettings.objects.update_or_create(
            user_id=user_id, defaults={"quiet_start": start, "quiet_end": end}
        )
