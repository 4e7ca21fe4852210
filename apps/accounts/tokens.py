"""Access tokens (JWT, HS256) for the API and WebSockets.

The sign-in, refresh and session endpoints come with the accounts issue; this
module is what every request needs now: read a bearer token into a user.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.errors import DomainError, ErrorCode


class TokenRejected(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_TOKEN_INVALID


def issue_access_token(user) -> str:
    return str(AccessToken.for_user(user))


def user_from_access_token(raw: str):
    """The active user a valid access token names; TokenRejected (401) otherwise."""
    try:
        token = AccessToken(raw)
    except TokenError as exc:
        expired = "expired" in str(exc).lower()
        raise TokenRejected(
            "The access token has expired." if expired else "The access token is invalid.",
            code=ErrorCode.AUTH_TOKEN_EXPIRED if expired else ErrorCode.AUTH_TOKEN_INVALID,
        ) from exc
    try:
        user_id = uuid.UUID(str(token.get("sub")))
    except ValueError as exc:
        raise TokenRejected("The access token is invalid.") from exc
    user = get_user_model().objects.filter(id=user_id, is_active=True).first()
    if user is None:
        raise TokenRejected("The access token is invalid.")
    return user
