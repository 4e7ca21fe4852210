"""KYC: the documents an organization submits and the state of its verification."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Owned
from apps.kyc.checks import DocumentType


class Level(models.TextChoices):
    BASIC = "basic", "Basic"
    ENHANCED = "enhanced", "Enhanced"
    PREMIUM = "premium", "Premium"


class DocumentStatus(models.TextChoices):
    CHECKING = "checking", "Automated checks running"
    PENDING_REVIEW = "pending_review", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    SUPERSEDED = "superseded", "Replaced by a newer version"


class PreviewStatus(models.TextChoices):
    NOT_REQUESTED = "not_requested", "Not requested"  # documents stored before previews moved to a worker
    PENDING = "pending", "Being drawn"
    READY = "ready", "Ready"
    UNAVAILABLE = "unavailable", "Unavailable"


class VerificationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PENDING = "pending", "Pending"
    IN_REVIEW = "in_review", "In review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


def document_upload_path(document: KycDocument, filename: str) -> str:
    # Our own name: the client's file name is kept only as data (original_filename).
    suffix = PurePosixPath(filename).suffix.lower()
    return f"kyc/{document.organization_id}/{document.id}{suffix}"


def preview_upload_path(document: KycDocument, filename: str) -> str:
    return f"kyc/{document.organization_id}/{document.id}-preview.png"


class OrganizationVerification(TimeStampedModel):
    """Where an organization stands in KYC; one row per organization, made on first upload."""

    row_visibility = Owned()

    organization = models.OneToOneField(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="kyc_verification"
    )
    status = models.CharField(max_length=12, choices=VerificationStatus.choices, default=VerificationStatus.NOT_STARTED)
    target_level = models.CharField(max_length=10, choices=Level.choices, default=Level.BASIC)
    verified_level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = "organization verification"

    def __str__(self) -> str:
        return f"KYC of {self.organization_id}: {self.status}"


class KycDocument(models.Model):
    """One uploaded document. A resubmission is a new row pointing at the one it replaces."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="kyc_documents")
    document_type = models.CharField(max_length=24, choices=DocumentType.choices)
    status = models.CharField(max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.CHECKING)
    file = models.FileField(upload_to=document_upload_path, max_length=300)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    number = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=dict, blank=True, help_text="Read from the document: BIC, account, insurer...")
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    check_results = models.JSONField(default=list, blank=True)
    # What the checks found about other tenants (another organization verified with this tax
    # id): shown to platform staff in the back-office only, never in the API or to the uploader.
    staff_findings = models.JSONField(
        default=list, blank=True, help_text="Platform staff only: [{check, message, organization_ids}]."
    )
    checks_completed_at = models.DateTimeField(null=True, blank=True)
    flagged_for_review = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    previous_version = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    version = models.PositiveSmallIntegerField(default=1)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    # Drawn by a worker in a limited child process (apps/core/preview_sandbox.py), stored privately.
    preview_file = models.FileField(upload_to=preview_upload_path, max_length=300, blank=True)
    preview_status = models.CharField(max_length=16, choices=PreviewStatus.choices, default=PreviewStatus.NOT_REQUESTED)
    preview_note = models.CharField(max_length=300, blank=True, help_text="Why there is no preview.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "KYC document"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status"], name="kyc_document_org_status_idx"),
            models.Index(fields=["status", "created_at"], name="kyc_document_queue_idx"),
            models.Index(fields=["status", "expires_on"], name="kyc_document_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_document_type_display()} v{self.version} ({self.status})"


class KycDocumentStatusChange(StatusChange):
    """A document's history: one row per move, written by `move()`."""

    row_visibility = Owned()
    subject = "document"

    document = models.ForeignKey(KycDocument, on_delete=models.CASCADE, related_name="status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta(StatusChange.Meta):
        verbose_name = "KYC document status change"
        indexes = [models.Index(fields=["organization", "document"], name="kyc_doc_change_org_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}


class VerificationStatusChange(StatusChange):
    """An organization verification's history: one row per move, written by `move()`."""

    row_visibility = Owned()
    subject = "verification"

    verification = models.ForeignKey(OrganizationVerification, on_delete=models.CASCADE, related_name="status_changes")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")

    class Meta(StatusChange.Meta):
        verbose_name = "verification status change"
        indexes = [models.Index(fields=["organization", "verification"], name="kyc_verif_change_org_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"organization_id": subject.organization_id}
