"""Reads of the accounts context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.accounts.models import AuthSession, ErasureRequest, PersonalDataExport, User


def session_is_live(*, user_id: UUID, session_id: UUID) -> bool:
    """Whether the sign-in session is still open: not signed out or revoked, not expired, and
    its user still active. An access token is checked when it is presented; a connection that
    outlives that moment (the live feed) asks this again to learn of a sign-out since."""
    return AuthSession.objects.filter(
        pk=session_id,
        user_id=user_id,
        user__is_active=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()


def live_session_q(*, session_id: UUID, user_path: str, now: datetime | None = None) -> Q:
    """The condition `session_is_live` checks, on the user reached by `user_path` (e.g.
    "user__" from a row that points to the user), for a query that reads the user anyway:
    the session is checked in that query, at no round trip of its own."""
    return Q(
        **{
            f"{user_path}auth_sessions__id": session_id,
            f"{user_path}auth_sessions__revoked_at__isnull": True,
            f"{user_path}auth_sessions__expires_at__gt": now or timezone.now(),
        }
    )


def session_list(*, user_id: UUID) -> QuerySet[AuthSession]:
    """The user's live sessions, most recently used first (row-level security: own rows only)."""
    return AuthSession.objects.filter(user_id=user_id, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_used_at", "-id"
    )


def personal_data_export_latest(*, user_id: UUID) -> PersonalDataExport | None:
    """The person's most recent personal data export, or None (row-level security: own rows)."""
    return PersonalDataExport.objects.filter(user_id=user_id).order_by("-requested_at").first()


def erasure_request_current(*, user_id: UUID) -> ErasureRequest | None:
    """The person's most recent erasure request, or None."""
    return ErasureRequest.objects.filter(user_id=user_id).order_by("-requested_at").first()


@dataclass(frozen=True)
class Contact:
    """How to reach a person: what the notifications fan-out reads of each recipient."""

    user_id: UUID
    email: str
    phone: str  # only a confirmed number; empty otherwise
    language: str
    timezone: str
    is_active: bool
    is_staff: bool


def user_contacts(*, user_ids) -> dict[UUID, Contact]:
    rows = User.objects.filter(id__in=user_ids).values_list(
        "id", "email", "phone", "phone_verified_at", "language", "timezone", "is_active", "is_staff"
    )
    return {
        row[0]: Contact(
            user_id=row[0],
            email=row[1],
            phone=row[2] if row[3] else "",
            language=row[4],
            timezone=row[5],
            is_active=row[6],
            is_staff=row[7],
        )
        for row in rows
    }


def active_staff_ids() -> list[UUID]:
    return list(User.objects.filter(is_staff=True, is_active=True).order_by("id").values_list("id", flat=True))
