"""Writes of the accounts context (sign-up, sessions and 2FA come with the accounts issue)."""

from django.contrib.auth import get_user_model
from django.db import transaction

User = get_user_model()


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
):
    """Create a user; the password is validated by the caller's policy (None = unusable)."""
    return User.objects.create_user(
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )


def user_get_by_email(*, email: str):
    return User.objects.filter(email__iexact=email.strip()).first()
