"""The account emails (verification, password reset, a taken address). Sent by Celery
tasks (apps.accounts.tasks) after the request has committed."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

User = get_user_model()


def _link(path: str, **params) -> str:
    return f"{settings.FRONTEND_URL.rstrip('/')}{path}?{urlencode(params)}"


def mail_email_verification(*, user_id: str, token: str) -> bool:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    hours = settings.EMAIL_VERIFICATION_MAX_AGE // 3600
    send_mail(
        "Confirm your email address for Manifest",
        f"Welcome to Manifest.\n\nConfirm your address within {hours} hours:\n"
        f"{_link('/verify-email', token=token)}\n\n"
        "(The page posts the token to POST /api/v1/auth/verify-email.)",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return True


def mail_password_reset(*, email: str) -> bool:
    """Send a reset link if the address belongs to an active account; say nothing otherwise."""
    from apps.accounts.services.users import password_reset_link_parts

    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        return False
    uid, token = password_reset_link_parts(user)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_mail(
        "Reset your Manifest password",
        f"Someone asked to reset the password of this account. The link works once, for {minutes} minutes:\n"
        f"{_link('/reset-password', uid=uid, token=token)}\n\n"
        "If it was not you, ignore this email: your password stays as it is.",
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return True


def mail_already_registered(*, email: str) -> bool:
    send_mail(
        "Someone tried to sign up with your address",
        "Someone tried to create a Manifest account with this email address, which already has one.\n"
        f"If it was you, sign in, or reset your password: {_link('/reset-password')}",
        settings.DEFAULT_FROM_EMAIL,
        [email],
    )
    return True
