"""Two-factor authentication: a TOTP authenticator (django-otp's TOTPDevice) and ten
single-use backup codes (BackupCodeDevice, stored as keyed hashes)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import segno
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import events
from apps.accounts.models import AuthSession, BackupCodeDevice
from apps.accounts.services.security import security_event_publish
from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import DomainError, ErrorCode, ValidationFailed

BACKUP_CODE_COUNT = 10
# Unambiguous characters only (no 0/O, 1/I/L): codes are typed from paper.
BACKUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class TotpEnrollment:
    otpauth_uri: str
    secret_base32: str
    qr_svg: str


def has_two_factor(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _new_backup_code() -> str:
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def totp_enable_start(*, user) -> TotpEnrollment:
    """Begin enrolment: a new, unconfirmed authenticator whose secret is shown once."""
    if has_two_factor(user):
        raise DomainError(
            "Two-factor authentication is already on; turn it off first to enrol a new authenticator.",
            code=ErrorCode.INVALID_STATE_TRANSITION,
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    uri = device.config_url
    return TotpEnrollment(
        otpauth_uri=uri,
        secret_base32=_base32_secret(device),
        qr_svg=segno.make(uri, error="m").svg_inline(scale=4),
    )


def _base32_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode().rstrip("=")


@transaction.atomic
def totp_enable_confirm(*, user, code: str) -> list[str]:
    """Confirm enrolment with a current code; returns the backup codes, shown this once."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise DomainError("Start two-factor enrolment first.", code=ErrorCode.INVALID_STATE_TRANSITION)
    if not device.verify_token(code.strip()):
        raise ValidationFailed("The code is incorrect.", details={"code": ["Incorrect or expired code."]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(action="auth.2fa_enabled", resource_type="user", resource_id=user.id, actor_id=user.id)
    return backup_codes_regenerate(user=user)


@transaction.atomic
def totp_provision(*, user) -> tuple[str, list[str]]:
    """Give an operator-made account (the demo platform admin) a confirmed authenticator
    at once; returns its otpauth URI, handed to its owner out of band, and fresh backup
    codes. An existing authenticator is kept."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        audit_record(
            action="auth.2fa_enabled", resource_type="user", resource_id=user.id, new_values={"provisioned": True}
        )
    return device.config_url, backup_codes_regenerate(user=user)


def second_factor_match(*, user, code: str):
    """The user's device that accepts the code (authenticator or backup codes), or None.

    A backup code is spent by the check that accepts it; an authenticator code cannot
    be used twice either (django-otp remembers the last time step).
    """
    code = (code or "").strip()
    if not code:
        return None
    if code.isdigit():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device if device is not None and device.verify_token(code) else None
    backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
    return backup if backup is not None and backup.verify_token(code) else None


def second_factor_verify(*, user, code: str) -> str | None:
    """The sign-in method the code proves, or None (see second_factor_match)."""
    device = second_factor_match(user=user, code=code)
    if device is None:
        return None
    if isinstance(device, TOTPDevice):
        return AuthSession.Method.PASSWORD_TOTP
    return AuthSession.Method.PASSWORD_BACKUP_CODE


@transaction.atomic
def backup_codes_regenerate(*, user) -> list[str]:
    """Replace the user's backup codes with ten new ones (the old ones stop working)."""
    if not has_two_factor(user):
        raise DomainError("Two-factor authentication is not on.", code=ErrorCode.INVALID_STATE_TRANSITION)
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    BackupCodeDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.create(
        user=user, name="Backup codes", confirmed=True, code_hashes=[BackupCodeDevice.hash_code(c) for c in codes]
    )
    audit_record(action="auth.backup_codes_regenerated", resource_type="user", resource_id=user.id, actor_id=user.id)
    return codes


@transaction.atomic
@transaction.atomic
def totp_disable(*, user, code: str) -> None:
    """Turn two-factor off; needs a current authenticator code or a backup code."""
    if not has_two_factor(user):
        raise DomainError("Two-factor authentication is not on.", code=ErrorCode.INVALID_STATE_TRANSITION)
    if second_factor_verify(user=user, code=code) is None:
        raise ValidationFailed("The code is incorrect.", details={"code": ["Incorrect or expired code."]})
    TOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    audit_record(action="auth.2fa_disabled", resource_type="user", resource_id=user.id, actor_id=user.id)
    security_event_publish(events.TwoFactorDisabled, user_id=user.id, by_staff=False)


@transaction.atomic
def two_factor_reset(*, user_id, actor: Actor) -> bool:
    """Platform staff turn a user's two-factor off (a lost phone, no backup codes left);
    the user enrols again. True when there was something to turn off."""
    removed, _ = TOTPDevice.objects.filter(user_id=user_id).delete()
    removed_codes, _ = BackupCodeDevice.objects.filter(user_id=user_id).delete()
    if removed or removed_codes:
        audit_record(action="auth.2fa_reset", resource_type="user", resource_id=user_id, actor=actor)
        security_event_publish(events.TwoFactorDisabled, user_id=user_id, by_staff=True)
    return bool(removed or removed_codes)
