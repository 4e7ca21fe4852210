"""Uploaded files of the orders context (purchase invoices, return photos), checked as KYC
files are: by their bytes, size and name, before anything is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from apps.core.errors import ValidationFailed
from apps.core.uploads import JPEG, PDF, PNG, file_checks, sniff_content_type

DOCUMENT_TYPES = {PDF, JPEG, PNG}
IMAGE_TYPES = {JPEG, PNG}


@dataclass(frozen=True)
class Upload:
    """A file as the API received it."""

    name: str
    data: bytes
    content_type: str | None

    @property
    def sniffed_type(self) -> str:
        return sniff_content_type(self.data[:16]) or ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_upload(upload: Upload, *, field: str, accepted: set[str]) -> None:
    """Refuse (400) a file that fails any KYC file check or is not of an `accepted` type."""
    # A client that names one of the accepted types must be right about it; a generic one
    # (application/octet-stream) says nothing, the bytes decide.
    declared = upload.content_type if upload.content_type in DOCUMENT_TYPES else None
    results = file_checks(
        data=upload.data, filename=upload.name, declared_content_type=declared, max_bytes=settings.KYC_MAX_FILE_BYTES
    )
    failed = [result.message for result in results if not result.passed]
    if not failed and upload.sniffed_type not in accepted:
        failed = [f"{upload.name!r} is not one of the accepted types ({', '.join(sorted(accepted))})."]
    if failed:
        raise ValidationFailed(failed[0], details={field: failed})
