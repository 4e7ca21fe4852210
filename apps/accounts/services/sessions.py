"""Sign-in sessions: password (and second factor) sign-in, refresh-token rotation with
reuse detection, sign-out.

A session's rows are the user's own (row-level security class Personal): each use
case acts in the user's scope once it knows the user. Refusals that must be
recorded (failures counted towards lockout, a reused refresh token revoking its
session) raise errors with `keeps_changes`, after the recording block has ended.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.accounts import events
from apps.accounts.models import AuthSession, RefreshToken
from apps.accounts.services.lockout import (
    lockout_record_failure,
    lockout_record_success,
    lockout_seconds_left,
)
from apps.accounts.services.security import browser_is_known, security_event_publish
from apps.accounts.services.two_factor import has_two_factor, second_factor_verify
from apps.accounts.tokens import (
    TokenRejected,
    issue_access_token,
    mark_session_revoked,
    new_refresh_token,
    refresh_token_hash,
)
from apps.core.audit import audit_record
from apps.core.context import Client, client_var, system_scope, user_scope
from apps.core.errors import DomainError, ErrorCode

User = get_user_model()
CHALLENGE_SALT = "apps.accounts.2fa-challenge"


class InvalidCredentials(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_TOKEN_INVALID
    keeps_changes = True  # the failure counts towards lockout


class AccountLocked(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_ACCOUNT_LOCKED
    keeps_changes = True

    def __init__(self, seconds_left: int):
        super().__init__(
            "Too many failed sign-ins: sign-in is locked for a while. Try again later or ask an administrator.",
            headers={"Retry-After": str(seconds_left)},
            details={"retry_after_seconds": seconds_left},
        )


class TwoFactorRequired(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_2FA_REQUIRED
    keeps_changes = True  # the password was right: what checking it wrote (a rehash) stays


class RefreshTokenReused(TokenRejected):
    keeps_changes = True  # the session it belonged to stays revoked


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    session_id: UUID
    access_expires_in: int
    refresh_expires_at: datetime


def _client() -> Client:
    return client_var.get()


# --- Starting a session ------------------------------------------------------------------


def session_start(*, user, method: str = AuthSession.Method.PASSWORD) -> IssuedTokens:
    """Open a session for a user who has proven who they are; returns its first tokens."""
    now = timezone.now()
    client = _client()
    raw_refresh, digest = new_refresh_token()
    with user_scope(user.id):
        session = AuthSession.objects.create(
            user=user,
            method=method,
            ip_address=client.ip_address,
            user_agent=client.user_agent[:500],
            last_used_at=now,
            expires_at=now + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        )
        RefreshToken.objects.create(session=session, user=user, token_hash=digest)
    return _tokens(user, session, raw_refresh)


def _tokens(user, session: AuthSession, raw_refresh: str) -> IssuedTokens:
    return IssuedTokens(
        access=issue_access_token(user, session_id=session.id),
        refresh=raw_refresh,
        session_id=session.id,
        access_expires_in=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        refresh_expires_at=session.expires_at,
    )


def _signed_in(user, request, method: str) -> IssuedTokens:
    lockout_record_success(user=user)
    known_browser = browser_is_known(user_id=user.id)
    with transaction.atomic():  # the session and its event commit together
        tokens = session_start(user=user, method=method)
        security_event_publish(events.SignedIn, user_id=user.id, method=method, new_device=not known_browser)
    # Django's own receivers update last_login; ours writes the audit row.
    user_logged_in.send(sender=User, request=request, user=user)
    return tokens


def _refuse_if_locked(*, email: str, user) -> None:
    seconds_left = lockout_seconds_left(email=email, ip=_client().ip_address, user=user)
    if seconds_left:
        raise AccountLocked(seconds_left)


def _failed(*, email: str, user, message: str) -> None:
    if lockout_record_failure(email=email, ip=_client().ip_address, user=user):
        raise AccountLocked(int(settings.LOGIN_LOCKOUT_DURATION.total_seconds()))
    raise InvalidCredentials(message)


def login_with_password(*, email: str, password: str, request) -> IssuedTokens:
    """Sign in with email and password.

    Raises InvalidCredentials or AccountLocked (401), or TwoFactorRequired (401) with a
    short-lived challenge for login_with_second_factor when the user has 2FA on.
    """
    email = email.strip().lower()
    known = User.objects.filter(email__iexact=email).first()
    _refuse_if_locked(email=email, user=known)
    # Django's ModelBackend hashes the password for unknown addresses too, so a
    # wrong address takes as long as a wrong password.
    user = authenticate(request, username=email, password=password)
    if user is None:
        _failed(email=email, user=known, message="The email address or password is incorrect.")
    if has_two_factor(user):
        # The failure count stays as it is: wrong codes count towards the lockout across
        # challenges. Reset here, a right password would buy four more guesses each time,
        # without end; only a completed sign-in resets it (_signed_in).
        raise TwoFactorRequired(
            "Enter the code from your authenticator app, or a backup code.",
            details={"challenge": _challenge_issue(user), "expires_in": settings.TWO_FACTOR_CHALLENGE_MAX_AGE},
        )
    return _signed_in(user, request, AuthSession.Method.PASSWORD)


def _challenge_issue(user) -> str:
    return signing.dumps({"user": str(user.id), "nonce": secrets.token_hex(16)}, salt=CHALLENGE_SALT)


def two_factor_challenge_claims(challenge) -> tuple[str, str] | None:
    """(user id, nonce) of a genuine, unexpired challenge, else None: what the verify-2fa
    throttles count by (apps.accounts.api.throttles). Checks the signature only."""
    if not isinstance(challenge, str) or not challenge:
        return None
    try:
        return _challenge_read(challenge)
    except TokenRejected:
        return None


def _challenge_read(challenge: str) -> tuple[str, str]:
    try:
        claims = signing.loads(challenge, salt=CHALLENGE_SALT, max_age=settings.TWO_FACTOR_CHALLENGE_MAX_AGE)
    except signing.SignatureExpired as error:
        raise TokenRejected(
            "The sign-in challenge has expired; sign in again.", code=ErrorCode.AUTH_TOKEN_EXPIRED
        ) from error
    except signing.BadSignature as error:
        raise TokenRejected("The sign-in challenge is invalid.") from error
    return claims["user"], claims["nonce"]


def login_with_second_factor(*, challenge: str, code: str, request) -> IssuedTokens:
    """Finish a sign-in that needs a second factor: a TOTP code or a backup code (once each)."""
    user_id, nonce = _challenge_read(challenge)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise TokenRejected("The sign-in challenge is invalid.")
    _refuse_if_locked(email=user.email, user=user)
    # Every code tried counts, the right one included: past the limit the challenge is void
    # whatever comes next, and a new one needs the password again.
    attempts_key = f"auth:2fa-challenge-attempts:{nonce}"
    attempts = cache.incr_from_zero(attempts_key, timeout=settings.TWO_FACTOR_CHALLENGE_MAX_AGE)
    if attempts > settings.TWO_FACTOR_CHALLENGE_MAX_ATTEMPTS:
        raise TokenRejected("Too many codes were tried on this sign-in challenge; sign in again.")
    with transaction.atomic():
        method = second_factor_verify(user=user, code=code)
        if method is not None and not cache.add(f"auth:2fa-challenge-used:{nonce}", 1, timeout=3600):
            # Undo the verification (a backup code stays unused): this challenge is spent.
            transaction.set_rollback(True)
            method, spent = None, True
        else:
            spent = False
    if spent:
        raise TokenRejected("This sign-in challenge was already used; sign in again.")
    if method is None:
        _failed(email=user.email, user=user, message="The code is incorrect.")
    return _signed_in(user, request, method)


# --- Refresh ----------------------------------------------------------------------------


def session_refresh(*, refresh_token: str) -> IssuedTokens:
    """Rotate a refresh token: the presented one is spent, a new pair is issued.

    A spent token presented again means two parties hold it: the session is revoked
    (audited) and both lose it.
    """
    digest = refresh_token_hash(refresh_token)
    # Nobody is known yet: find the row by the hash of a secret only its holder has.
    with system_scope(reason="auth.refresh looks up a refresh token by hash", audit=False):
        record = RefreshToken.objects.select_related("user").filter(token_hash=digest).first()
    if record is None or not record.user.is_active:
        raise TokenRejected("The refresh token is invalid.")
    user, now = record.user, timezone.now()
    with user_scope(user.id):
        session = AuthSession.objects.select_for_update().get(pk=record.session_id)
        token = RefreshToken.objects.select_for_update().get(pk=record.pk)
        if session.revoked_at is not None:
            verdict = "revoked"
        elif session.expires_at <= now:
            verdict = "expired"
        elif token.rotated_at is not None:
            _revoke(session, reason="refresh_token_reuse", actor_id=None)
            verdict = "reused"
        else:
            verdict = "ok"
            token.rotated_at = now
            token.save(update_fields=["rotated_at"])
            raw_refresh, new_digest = new_refresh_token()
            RefreshToken.objects.create(session=session, user=user, token_hash=new_digest)
            session.last_used_at = now
            session.expires_at = now + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
            session.save(update_fields=["last_used_at", "expires_at"])
    if verdict == "revoked":
        raise TokenRejected("The session has been signed out; sign in again.")
    if verdict == "expired":
        raise TokenRejected("The refresh token has expired; sign in again.", code=ErrorCode.AUTH_TOKEN_EXPIRED)
    if verdict == "reused":
        raise RefreshTokenReused("The refresh token was already used; the session has been signed out.")
    return _tokens(user, session, raw_refresh)


# --- Sign-out ---------------------------------------------------------------------------


def _revoke(session: AuthSession, *, reason: str, actor_id: UUID | None) -> None:
    session.revoked_at = timezone.now()
    session.revoked_reason = reason
    session.save(update_fields=["revoked_at", "revoked_reason"])
    # At once, not on commit: should this transaction roll back, the session merely
    # looks signed out a little early (it can refresh); never the reverse.
    mark_session_revoked(session.id)
    audit_record(
        action="auth.session_revoked",
        resource_type="auth_session",
        resource_id=session.id,
        actor_id=actor_id or session.user_id,
        new_values={"reason": reason, "user_id": str(session.user_id)},
    )


@transaction.atomic
def session_revoke(*, user_id: UUID, session_id: UUID, reason: str = "signed_out") -> AuthSession:
    """Sign one of the user's sessions out; its access tokens stop working at once."""
    from apps.core.errors import NotFound

    with user_scope(user_id):
        session = AuthSession.objects.select_for_update().filter(pk=session_id, user_id=user_id).first()
        if session is None or session.revoked_at is not None:
            raise NotFound("Session not found.")
        _revoke(session, reason=reason, actor_id=user_id)
    return session


@transaction.atomic
def sessions_revoke_all(*, user_id: UUID, reason: str, keep_session_id: UUID | None = None) -> int:
    """Sign out every live session of the user but `keep_session_id`; returns how many."""
    with user_scope(user_id):
        live = AuthSession.objects.select_for_update().filter(user_id=user_id, revoked_at__isnull=True)
        if keep_session_id is not None:
            live = live.exclude(pk=keep_session_id)
        sessions = list(live.order_by("pk"))
        for session in sessions:
            _revoke(session, reason=reason, actor_id=user_id)
    return len(sessions)
