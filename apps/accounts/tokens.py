"""Access tokens (JWT, HS256 by default) for the API and WebSockets, and the opaque
refresh tokens behind them.

An access token names its user (`sub`) and its sign-in session (`sid`), and every
request checks that session is still open, so a revoked session's access tokens stop
working at once. Two ways, one truth (`AuthSession.revoked_at`):
- an API request reads the session in the query that reads its user and memberships
  (`signed_access_claims` here, `selectors.live_session_q` in that query): no round
  trip of its own, and no Redis on the path;
- the other readers (`access_token_claims`: the back-office with a token) check a
  revocation mark in Redis, written at revocation and kept as long as an access token
  can live (ACCESS_TOKEN_LIFETIME). Should the mark be lost (Redis flushed), those
  tokens still die within their lifetime, 15 minutes at most; refresh is checked
  against the database and never comes back for a revoked session.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from apps.core.errors import DomainError, ErrorCode

REVOKED_SESSION_KEY = "auth:revoked-session:{}"


class TokenRejected(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_TOKEN_INVALID


def issue_access_token(user, *, session_id: uuid.UUID) -> str:
    token = AccessToken.for_user(user)
    token["sid"] = str(session_id)
    return str(token)


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored in its place."""
    raw = secrets.token_urlsafe(48)
    return raw, refresh_token_hash(raw)


def refresh_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def mark_session_revoked(session_id: uuid.UUID) -> None:
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    cache.set(REVOKED_SESSION_KEY.format(session_id), 1, timeout=int(lifetime.total_seconds()) + 5)


def _decode(raw: str) -> AccessToken:
    try:
        return AccessToken(raw)
    except TokenError as exc:
        expired = "expired" in str(exc).lower()
        raise TokenRejected(
            "The access token has expired." if expired else "The access token is invalid.",
            code=ErrorCode.AUTH_TOKEN_EXPIRED if expired else ErrorCode.AUTH_TOKEN_INVALID,
        ) from exc


def session_id_of(raw: str) -> uuid.UUID:
    """The sign-in session a valid access token belongs to."""
    try:
        return uuid.UUID(str(_decode(raw).get("sid")))
    except ValueError as exc:
        raise TokenRejected("The access token is invalid.") from exc


class AccessClaims(NamedTuple):
    user_id: uuid.UUID
    session_id: uuid.UUID


SESSION_SIGNED_OUT = "The session of this access token has been signed out."


def signed_access_claims(raw: str) -> AccessClaims:
    """The user and session a validly signed, unexpired access token names; TokenRejected (401)
    otherwise. The session may have been revoked since: the caller checks it is live, in its
    own read of the user (`selectors.live_session_q`) or with `access_token_claims`."""
    token = _decode(raw)
    try:
        return AccessClaims(uuid.UUID(str(token.get("sub"))), uuid.UUID(str(token.get("sid"))))
    except ValueError as exc:
        raise TokenRejected("The access token is invalid.") from exc


def access_token_claims(raw: str) -> AccessClaims:
    """The user and session a valid access token of a live session names; TokenRejected (401) otherwise.

    Checks the signature, the expiry and the session's revocation mark (Redis), on every
    call: nothing here is cached. Whether the user exists and is active is the caller's
    to check (user_from_access_token).
    """
    claims = signed_access_claims(raw)
    if cache.get(REVOKED_SESSION_KEY.format(claims.session_id)):
        raise TokenRejected(SESSION_SIGNED_OUT)
    return claims


def user_from_access_token(raw: str):
    """The active user a valid, unrevoked access token names; TokenRejected (401) otherwise.

    The user carries `auth_session_id`, the session the token belongs to.
    """
    claims = access_token_claims(raw)
    user = get_user_model().objects.filter(id=claims.user_id, is_active=True).first()
    if user is None:
        raise TokenRejected("The access token is invalid.")
    user.auth_session_id = claims.session_id
    return user
