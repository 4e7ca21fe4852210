"""Reads of the KYC context (row-level security limits them to the current organization)."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings

from apps.core.errors import NotFound
from apps.kyc.models import DocumentStatus, KycDocument, Level, OrganizationVerification, VerificationStatus

# What lists show: everything but the review internals they don't.
LIST_FIELDS = (
    "id",
    "organization_id",
    "document_type",
    "status",
    "original_filename",
    "content_type",
    "size_bytes",
    "number",
    "fields",
    "issued_on",
    "expires_on",
    "check_results",
    "checks_completed_at",
    "flagged_for_review",
    "review_note",
    "reviewed_at",
    "previous_version_id",
    "version",
    "created_at",
)


def document_list(*, organization_id: UUID, status: str | None = None, document_type: str | None = None):
    queryset = KycDocument.objects.filter(organization_id=organization_id).only(*LIST_FIELDS)
    if status:
        queryset = queryset.filter(status=status)
    if document_type:
        queryset = queryset.filter(document_type=document_type)
    return queryset.order_by("-created_at", "-id")


def document_get(*, organization_id: UUID, document_id: UUID) -> KycDocument:
    document = KycDocument.objects.filter(organization_id=organization_id, pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.")
    return document


def verification_status(*, organization_id: UUID) -> dict:
    """The verification, and per level which documents it needs and which are approved."""
    verification = OrganizationVerification.objects.filter(organization_id=organization_id).first()
    latest = {}
    for document in (
        KycDocument.objects.filter(organization_id=organization_id)
        .exclude(status=DocumentStatus.SUPERSEDED)
        .only("id", "document_type", "status", "created_at")
        .order_by("created_at")
    ):
        latest[document.document_type] = document
    levels = []
    for level in Level.values:
        needed = settings.KYC_LEVEL_REQUIREMENTS[level]
        documents = [
            {
                "document_type": document_type,
                "status": latest[document_type].status if document_type in latest else "missing",
                "document_id": latest[document_type].id if document_type in latest else None,
            }
            for document_type in needed
        ]
        levels.append(
            {
                "level": level,
                "complete": all(d["status"] == DocumentStatus.APPROVED for d in documents),
                "documents": documents,
            }
        )
    return {
        "status": verification.status if verification else VerificationStatus.NOT_STARTED,
        "target_level": verification.target_level if verification else Level.BASIC,
        "verified_level": (verification.verified_level if verification else "") or None,
        "submitted_at": verification.submitted_at if verification else None,
        "decided_at": verification.decided_at if verification else None,
        "note": verification.note if verification else "",
        "levels": levels,
    }
