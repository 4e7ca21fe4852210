"""What a person's preferences make of a notification: its channels, and when each may go.

Pure functions of the type, the person's choices and the time, so the fan-out and the tests
ask the same questions.
- Channels: the person's choice for the type, or the type's defaults; a mandatory (security)
  type goes on its default channels and e-mail whatever was chosen.
- Quiet hours (in the person's time zone, possibly across midnight): e-mail, SMS and push wait
  until they end; in-app is stored at once (it makes no noise). Mandatory types do not wait.
- Digest (digestible types only): e-mail waits for the next hour, or for the daily digest hour
  in the person's time zone, and goes in one message with the others; SMS and push are not
  sent for a digested type (the person asked not to be interrupted by it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from apps.notifications.catalogue import NotificationType
from apps.notifications.models import Channel, Digest

ALL_CHANNELS = frozenset(Channel.values)


def configured_channels() -> frozenset[str]:
    """The channels this deployment can send on: SMS needs a gateway, web push a VAPID key."""
    channels = {Channel.IN_APP, Channel.EMAIL}
    if settings.SMS_GATEWAY in settings.SMS_GATEWAYS:
        channels.add(Channel.SMS)
    if settings.WEB_PUSH.get("VAPID_PRIVATE_KEY"):
        channels.add(Channel.PUSH)
    return frozenset(channels)


def chosen_channels(kind: NotificationType, preference) -> frozenset[str]:
    """The channels the notification goes on, before addresses are known."""
    if kind.mandatory or preference is None:
        channels = set(kind.default_channels)
        if kind.mandatory:
            channels |= {Channel.IN_APP, Channel.EMAIL}
        return frozenset(channels)
    return frozenset(channel for channel in ALL_CHANNELS if getattr(preference, channel))


def digest_of(kind: NotificationType, preference) -> str:
    if not kind.digestible or preference is None:
        return Digest.IMMEDIATE
    return preference.digest


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def quiet_until(*, quiet_start: dt.time | None, quiet_end: dt.time | None, time_zone: str, now: dt.datetime):
    """The end of the quiet hours `now` falls in (aware UTC), or None when not quiet."""
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return None
    local = now.astimezone(zone(time_zone))
    clock = local.time().replace(tzinfo=None)
    across_midnight = quiet_start > quiet_end  # e.g. 22:00-07:00
    quiet = (clock >= quiet_start or clock < quiet_end) if across_midnight else quiet_start <= clock < quiet_end
    if not quiet:
        return None
    end = dt.datetime.combine(local.date(), quiet_end, tzinfo=local.tzinfo)
    if end <= local:
        end += dt.timedelta(days=1)
    return end.astimezone(dt.UTC)


def digest_due(*, digest: str, time_zone: str, now: dt.datetime) -> dt.datetime:
    """When a digested e-mail goes: the next full hour, or the next daily digest hour locally."""
    if digest == Digest.HOURLY:
        return (now + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    local = now.astimezone(zone(time_zone))
    hour = settings.NOTIFICATIONS["DAILY_DIGEST_HOUR"]
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due = (local + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return due.astimezone(dt.UTC)
