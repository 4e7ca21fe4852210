"""Checks other contexts make on the person acting before acts seen beyond their organization.

`require_verified_email` is the one place that says an unverified address may not publish
(an RFQ, a service offering), make an offer, or invite someone: those acts reach other
tenants or other people, and an address nobody proved is no one to answer for them.
Services call it with the acting user's id; the API answers 403 EMAIL_NOT_VERIFIED.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model

from apps.core.errors import DomainError, ErrorCode


class EmailNotVerified(DomainError):
    status_code = 403
    code = ErrorCode.EMAIL_NOT_VERIFIED


def has_verified_email(*, user_id: UUID) -> bool:
    # accounts_user has no row-level security: this reads one flag of the acting user only.
    return get_user_model().objects.filter(pk=user_id, email_verified_at__isnull=False).exists()


def require_verified_email(*, user_id: UUID, action: str) -> None:
    """Raise 403 EMAIL_NOT_VERIFIED unless the user has confirmed their e-mail address."""
    if not has_verified_email(user_id=user_id):
        raise EmailNotVerified(
            "Confirm your e-mail address first: follow the link we sent you (POST /api/v1/auth/verify-email).",
            details={"action": action},
        )
