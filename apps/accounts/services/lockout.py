"""Sign-in lockout: too many failures lock the account, and the address they come from.

A known account counts consecutive failures in the database (`failed_login_count`,
`locked_until`: visible to platform staff only, who can unlock it; the user's own
password reset lifts it too). Wrong second factors count with wrong passwords, and
only a completed sign-in resets the count. An unknown
address is counted the same way in Redis, so that "locked" never tells a caller
whether an address is registered. Failures per client IP are counted in Redis
within the lockout window, across accounts (password spraying).
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.core.audit import audit_record

User = get_user_model()


def _email_key(kind: str, email: str) -> str:
    return f"auth:{kind}:email:{hashlib.sha256(email.encode()).hexdigest()}"


def _ip_key(kind: str, ip: str) -> str:
    return f"auth:{kind}:ip:{ip}"


def _window_seconds() -> int:
    return int(settings.LOGIN_LOCKOUT_DURATION.total_seconds())


def _count(key: str) -> int:
    return cache.incr_from_zero(key, timeout=_window_seconds())


def _lock_mark(key: str) -> None:
    until = timezone.now() + settings.LOGIN_LOCKOUT_DURATION
    cache.set(key, until.timestamp(), timeout=_window_seconds())


def _seconds_left(until_timestamp: float | None) -> int:
    if not until_timestamp:
        return 0
    return max(0, math.ceil(until_timestamp - timezone.now().timestamp()))


def lockout_seconds_left(*, email: str, ip: str | None, user) -> int:
    """How long sign-in stays refused for this account or address (0: not locked)."""
    if user is not None:
        account = _seconds_left(user.locked_until.timestamp()) if user.locked_until else 0
    else:
        account = _seconds_left(cache.get(_email_key("locked", email)))
    address = _seconds_left(cache.get(_ip_key("locked", ip))) if ip else 0
    return max(account, address)


@transaction.atomic
def lockout_record_failure(*, email: str, ip: str | None, user) -> bool:
    """Count one failed sign-in; True when it locked the account or the address."""
    locked = False
    if user is not None:
        User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
        user.refresh_from_db(fields=["failed_login_count", "locked_until"])
        if user.failed_login_count >= settings.LOGIN_LOCKOUT_THRESHOLD:
            user.locked_until = timezone.now() + settings.LOGIN_LOCKOUT_DURATION
            user.failed_login_count = 0
            user.save(update_fields=["locked_until", "failed_login_count", "updated_at"])
            audit_record(
                action="auth.account_locked",
                resource_type="user",
                resource_id=user.id,
                actor_id=user.id,
                new_values={"locked_until": user.locked_until.isoformat()},
            )
            locked = True
    elif _count(_email_key("failures", email)) >= settings.LOGIN_LOCKOUT_THRESHOLD:
        _lock_mark(_email_key("locked", email))
        cache.delete(_email_key("failures", email))
        locked = True
    if ip and _count(_ip_key("failures", ip)) >= settings.LOGIN_LOCKOUT_THRESHOLD_PER_IP:
        _lock_mark(_ip_key("locked", ip))
        cache.delete(_ip_key("failures", ip))
        audit_record(action="auth.address_locked", resource_type="ip", resource_id=ip)
        locked = True
    return locked


def lockout_record_success(*, user) -> None:
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)


def lockout_clear(*, user) -> None:
    """Forget the account's failures and lock (unlock, password reset)."""
    user.failed_login_count, user.locked_until = 0, None
    user.save(update_fields=["failed_login_count", "locked_until", "updated_at"])
    cache.delete_many([_email_key("failures", user.email), _email_key("locked", user.email)])
