"""What the KYC context holds about one person, for their personal data export
(docs/accounts.md, "Personal data"). Called inside the audited all-tenants scope.

Only what the person did (the documents they uploaded, described, not the files: those
are their organization's evidence). An erasure changes nothing here.
"""

from __future__ import annotations

from uuid import UUID

from apps.kyc.models import KycDocument


def documents_uploaded_by_person(*, user_id: UUID) -> list[dict]:
    return list(
        KycDocument.objects.filter(uploaded_by_id=user_id)
        .order_by("created_at", "id")
        .values("id", "organization_id", "document_type", "status", "original_filename", "size_bytes", "created_at")
    )
