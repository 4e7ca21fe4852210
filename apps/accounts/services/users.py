"""Accounts: sign-up, email verification, passwords (change and reset), unlocking."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.accounts import events, tasks
from apps.accounts.services.lockout import lockout_clear
from apps.accounts.services.security import security_event_publish
from apps.accounts.services.sessions import sessions_revoke_all
from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import ValidationFailed
from apps.core.sign_up import sign_up_extensions_check, sign_up_extensions_record

logger = logging.getLogger(__name__)
User = get_user_model()

EMAIL_VERIFICATION_SALT = "apps.accounts.verify-email"


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    email_verified: bool = False,
):
    """Create a user; the password is validated by the caller's policy (None = unusable).

    `email_verified` is for accounts whose address is known good (operator-made ones).
    """
    now = timezone.now()
    return User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
        password_changed_at=now if password else None,
        email_verified_at=now if email_verified else None,
    )


def user_get_by_email(*, email: str):
    return User.objects.filter(email__iexact=email.strip()).first()


def password_check(password: str, *, user=None, field: str = "password") -> None:
    """The password policy (settings.AUTH_PASSWORD_VALIDATORS): ValidationFailed with reasons."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise ValidationFailed(
            "The password does not meet the password policy.", details={field: error.messages}
        ) from error


# --- Sign-up and email verification ---------------------------------------------------------


@transaction.atomic
def user_register(
    *, email: str, password: str, first_name: str = "", last_name: str = "", extras: Mapping[str, str] | None = None
):
    """Sign a person up and send them an email-verification link; returns the new user.

    The answer never says whether the address was taken: for a known address the
    owner gets an email saying someone tried to register with it, nothing else
    changes, and the caller gets None. (Sign-up with an organization is tenancy's
    use case, apps.tenancy.services.user_sign_up, which calls this one.)

    `extras`: the sign-up fields other contexts registered (apps.core.sign_up, e.g. a
    referral code): checked before anything else (a bad one is a 400, taken address or not),
    recorded in this transaction once the user exists.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    password_check(password, user=User(email=email, first_name=first_name, last_name=last_name))
    sign_up_extensions_check(extras)
    if user_get_by_email(email=email) is not None:
        transaction.on_commit(lambda: tasks.send_already_registered.delay(email))
        return None
    user = user_create(email=email, password=password, first_name=first_name, last_name=last_name)
    audit_record(action="user.registered", resource_type="user", resource_id=user.id, actor_id=user.id)
    sign_up_extensions_record(user=user, values=extras)
    token = email_verification_token(user)
    transaction.on_commit(lambda: tasks.send_email_verification.delay(str(user.id), token))
    return user


def email_verification_token(user) -> str:
    """A signed link token for the user's current address (it expires, see user_verify_email)."""
    return signing.dumps({"user": str(user.id), "email": user.email}, salt=EMAIL_VERIFICATION_SALT)


@transaction.atomic
def user_verify_email(*, token: str):
    """Mark the address verified. The token works once, for the address it was made for."""
    invalid = ValidationFailed("The verification link is invalid or has expired.", details={"token": ["Invalid."]})
    try:
        claims = signing.loads(token, salt=EMAIL_VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE)
    except signing.BadSignature as error:
        raise invalid from error
    user = User.objects.select_for_update().filter(id=claims.get("user"), is_active=True).first()
    if user is None or user.email != claims.get("email") or user.email_verified_at is not None:
        raise invalid
    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at", "updated_at"])
    audit_record(action="user.email_verified", resource_type="user", resource_id=user.id, actor_id=user.id)
    return user


# --- Passwords -------------------------------------------------------------------------------


def _set_password(user, password: str) -> None:
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at", "updated_at"])


@transaction.atomic
def password_change(*, user, current_password: str, new_password: str, current_session_id: UUID | None):
    """Change the password; every other session of the user is signed out."""
    if not user.check_password(current_password):
        raise ValidationFailed("The current password is incorrect.", details={"current_password": ["Incorrect."]})
    password_check(new_password, user=user, field="new_password")
    _set_password(user, new_password)
    sessions_revoke_all(user_id=user.id, reason="password_changed", keep_session_id=current_session_id)
    security_event_publish(events.PasswordChanged, user_id=user.id, how="changed")
    audit_record(action="user.password_changed", resource_type="user", resource_id=user.id, actor_id=user.id)
    return user


def password_reset_request(*, email: str) -> None:
    """Queue a reset email. The request does the same work whether the address is known
    or not (the lookup happens in the task), so neither answer nor timing tells."""
    email = email.strip().lower()
    transaction.on_commit(lambda: tasks.send_password_reset.delay(email))


def password_reset_link_parts(user) -> tuple[str, str]:
    """The uid and the single-use token (valid PASSWORD_RESET_TIMEOUT seconds) for a reset link."""
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str):
    """Set a new password from a reset link; the link dies with the old password
    (Django's token covers the password hash), and every session is signed out."""
    invalid = ValidationFailed("The reset link is invalid or has expired.", details={"token": ["Invalid."]})
    try:
        user_id = UUID(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError) as error:
        raise invalid from error
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        raise invalid
    password_check(new_password, user=user, field="new_password")
    _set_password(user, new_password)
    lockout_clear(user=user)
    sessions_revoke_all(user_id=user.id, reason="password_reset")
    security_event_publish(events.PasswordChanged, user_id=user.id, how="reset")
    audit_record(action="user.password_reset", resource_type="user", resource_id=user.id, actor_id=user.id)
    return user


@transaction.atomic
def user_unlock(*, user_id: UUID, actor: Actor):
    """Platform staff lift a sign-in lockout (the user admin's action). Nobody else may:
    an organization's admin who could would let guessing go on five tries at a time.
    The user lifts their own by resetting the password (password_reset_confirm)."""
    user = User.objects.select_for_update().get(pk=user_id)
    was_locked = user.locked_until is not None or user.failed_login_count > 0
    lockout_clear(user=user)
    if was_locked:
        audit_record(
            action="user.unlocked",
            resource_type="user",
            resource_id=user.id,
            actor=actor,
        )
    return user


@transaction.atomic
def user_phone_confirm(*, user_id: UUID, phone: str):
    """Record `phone` as the person's confirmed number (they proved they receive it)."""
    user = User.objects.select_for_update().get(pk=user_id)
    user.phone = phone
    user.phone_verified_at = timezone.now()
    user.save(update_fields=["phone", "phone_verified_at", "updated_at"])
    audit_record(action="user.phone_verified", resource_type="user", resource_id=user.id, actor_id=user.id)
    return user
