"""Short-lived signed download links: the link itself is the permission (as an S3
presigned URL is), and it names the tenant whose scope reads the file's row."""

from __future__ import annotations

from uuid import UUID

from django.core import signing

from apps.core.errors import NotFound


def download_token(*, salt: str, record_id: UUID, organization_id: UUID) -> str:
    return signing.dumps({"document": str(record_id), "organization": str(organization_id)}, salt=salt)


def read_download_token(token: str, *, salt: str, max_age: int) -> tuple[UUID, UUID]:
    """(record id, organization id) of a valid, unexpired link; 404 NOT_FOUND otherwise."""
    try:
        claims = signing.loads(token, salt=salt, max_age=max_age)
        return UUID(claims["document"]), UUID(claims["organization"])
    except (signing.BadSignature, KeyError, ValueError, TypeError) as error:
        raise NotFound("The link is invalid or has expired.") from error


def personal_download_token(*, salt: str, record_id: UUID, user_id: UUID) -> str:
    """A link to a file that belongs to a person rather than an organization (a personal
    data export): it names the user whose scope reads the file's row."""
    return signing.dumps({"record": str(record_id), "user": str(user_id)}, salt=salt)


def read_personal_download_token(token: str, *, salt: str, max_age: int) -> tuple[UUID, UUID]:
    """(record id, user id) of a valid, unexpired personal link; 404 NOT_FOUND otherwise."""
    try:
        claims = signing.loads(token, salt=salt, max_age=max_age)
        return UUID(claims["record"]), UUID(claims["user"])
    except (signing.BadSignature, KeyError, ValueError, TypeError) as error:
        raise NotFound("The link is invalid or has expired.") from error
