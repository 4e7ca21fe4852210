"""Writes of the KYC context: uploads, automated checks, staff review, expiry.

An upload is validated at once (file type by magic bytes, size, name, number
check digits): bad input is refused with 400 and nothing is stored. What needs
more than the request (agreement with the organization's record, the same tax
id verified elsewhere, expiry) runs in the Celery task `kyc_document_check`,
which records every check with its result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.core.errors import ErrorCode, NotFound, ValidationFailed
from apps.core.lifecycle import move
from apps.core.services import outbox_publish
from apps.core.uploads import CheckResult, file_checks, sniff_content_type
from apps.kyc import events, tasks
from apps.kyc.checks import DocumentType, expiry_check, number_checks
from apps.kyc.models import (
    DocumentStatus,
    KycDocument,
    Level,
    OrganizationVerification,
    PreviewStatus,
    VerificationStatus,
)
from apps.kyc.transitions import DOCUMENT, VERIFICATION
from apps.tenancy import services as tenancy
from apps.tenancy.selectors import organization_get

# Checks whose failure rejects a document outright; the others only flag it for a person.
HARD_CHECKS_PREFIXES = ("inn", "ogrn", "bic", "bank_account", "file", "pdf", "not_expired", "filename", "fields")

# What each document type must carry besides the file (number, fields).
REQUIRED_DATA = {
    DocumentType.INN: ("number",),
    DocumentType.OGRN: ("number",),
    DocumentType.BANK_DETAILS: ("bic", "account"),
    DocumentType.INSURANCE_CERTIFICATE: ("insurer", "policy_number"),
}


@dataclass(frozen=True)
class Upload:
    """A file as the API received it."""

    name: str
    data: bytes
    content_type: str | None


def required_documents(level: str) -> list[str]:
    """The document types a level needs (settings.KYC_LEVEL_REQUIREMENTS)."""
    return list(settings.KYC_LEVEL_REQUIREMENTS[level])


# --- Upload --------------------------------------------------------------------------------


def _refuse_failures(results: list[CheckResult], *, field: str) -> None:
    failed = [result.message for result in results if not result.passed]
    if failed:
        raise ValidationFailed(failed[0], details={field: failed})


ACCEPTED_CONTENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def _validate_upload(*, document_type: str, upload: Upload, number: str, fields: dict) -> None:
    # A client that names one of the accepted types must be right about it; a generic one
    # (application/octet-stream, text/plain from some tools) says nothing, the bytes decide.
    declared = upload.content_type if upload.content_type in ACCEPTED_CONTENT_TYPES else None
    _refuse_failures(
        file_checks(
            data=upload.data,
            filename=upload.name,
            declared_content_type=declared,
            max_bytes=settings.KYC_MAX_FILE_BYTES,
        ),
        field="file",
    )
    data = {"number": number, **fields}
    missing = [name for name in REQUIRED_DATA.get(document_type, ()) if not str(data.get(name) or "").strip()]
    if missing:
        raise ValidationFailed(
            f"A {DocumentType(document_type).label} needs: {', '.join(missing)}.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={name: ["Required for this document type."] for name in missing},
        )
    _refuse_failures(number_checks(document_type, number, fields), field="number")


def _verification_for_update(organization_id: UUID) -> OrganizationVerification:
    verification, _ = OrganizationVerification.objects.select_for_update().get_or_create(
        organization_id=organization_id
    )
    return verification


def _move_verification(verification: OrganizationVerification, target: str, *, actor: Actor, note="") -> None:
    if verification.status == target:
        return
    move(verification, target, transitions=VERIFICATION, actor=actor, reason=note)
    now = timezone.now()
    if target == VerificationStatus.PENDING:
        verification.submitted_at = now
    if target in (VerificationStatus.VERIFIED, VerificationStatus.REJECTED):
        verification.decided_at, verification.decided_by_id = now, actor.user_id
    if note:
        verification.note = note
    verification.save()
    # Features that follow the KYC gate (escrow) default to on or off by this status.
    tenancy.feature_cache_forget(organization_id=verification.organization_id)
    outbox_publish(
        events.VerificationChanged(
            organization_id=verification.organization_id,
            status=verification.status,
            verified_level=verification.verified_level,
        )
    )


def _audit(document: KycDocument, action: str, actor: Actor, values: dict | None = None) -> None:
    tenancy.audit_record(
        action=action,
        resource_type="kyc_document",
        resource_id=document.id,
        new_values={"status": document.status, "document_type": document.document_type, **(values or {})},
        organization_id=document.organization_id,
        actor_id=actor.user_id,
    )


def _document_event(event_class, document: KycDocument, **extra):
    return event_class(
        organization_id=document.organization_id,
        document_id=str(document.id),
        document_type=document.document_type,
        status=document.status,
        **extra,
    )


def _store(
    *,
    organization_id: UUID,
    actor: Actor,
    document_type: str,
    upload: Upload,
    number: str,
    fields: dict,
    issued_on: date | None,
    expires_on: date | None,
    previous: KycDocument | None,
) -> KycDocument:
    _validate_upload(document_type=document_type, upload=upload, number=number, fields=fields)
    document = KycDocument(
        organization_id=organization_id,
        document_type=document_type,
        original_filename=upload.name[:255],
        content_type=sniff_content_type(upload.data[:16]) or "",
        size_bytes=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        number=number.strip(),
        fields={key: str(value).strip() for key, value in fields.items()},
        issued_on=issued_on,
        expires_on=expires_on,
        uploaded_by_id=actor.user_id,
        previous_version=previous,
        version=previous.version + 1 if previous else 1,
        preview_status=PreviewStatus.PENDING,
    )
    document.file.save(upload.name, ContentFile(upload.data), save=False)
    try:
        document.save()
        verification = _verification_for_update(organization_id)
        if verification.status != VerificationStatus.PENDING:
            _move_verification(verification, VerificationStatus.PENDING, actor=actor)
        _audit(document, "kyc.document_uploaded", actor, {"version": document.version})
        outbox_publish(_document_event(events.DocumentUploaded, document))
    except BaseException:
        document.file.delete(save=False)  # the row is not there: neither is its file
        raise
    document_id, org_id = str(document.id), str(organization_id)
    transaction.on_commit(lambda: tasks.kyc_document_check.delay(document_id, org_id))
    transaction.on_commit(lambda: tasks.kyc_document_render_preview.delay(document_id, org_id))
    return document


@transaction.atomic
def document_upload(
    *,
    organization_id: UUID,
    actor: Actor,
    document_type: str,
    upload: Upload,
    number: str = "",
    fields: dict | None = None,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> KycDocument:
    """Store a KYC document after the checks a request can make; the rest run in a task."""
    return _store(
        organization_id=organization_id,
        actor=actor,
        document_type=document_type,
        upload=upload,
        number=number,
        fields=fields or {},
        issued_on=issued_on,
        expires_on=expires_on,
        previous=None,
    )


@transaction.atomic
def document_resubmit(
    *,
    organization_id: UUID,
    actor: Actor,
    previous_document_id: UUID,
    upload: Upload,
    number: str = "",
    fields: dict | None = None,
    issued_on: date | None = None,
    expires_on: date | None = None,
) -> KycDocument:
    """A new version of a document; the old one is kept, marked superseded, never overwritten."""
    previous = (
        KycDocument.objects.select_for_update().filter(pk=previous_document_id, organization_id=organization_id).first()
    )
    if previous is None:
        raise NotFound("Document not found.")
    move(previous, DocumentStatus.SUPERSEDED, transitions=DOCUMENT, actor=actor, save=["updated_at"])
    return _store(
        organization_id=organization_id,
        actor=actor,
        document_type=previous.document_type,
        upload=upload,
        number=number,
        fields=fields or {},
        issued_on=issued_on,
        expires_on=expires_on,
        previous=previous,
    )


# --- Automated checks (Celery) ---------------------------------------------------------------


def _agreement_checks(document: KycDocument) -> list[CheckResult]:
    """The document's numbers against the organization's own record."""
    organization = organization_get(organization_id=document.organization_id)
    pairs = {DocumentType.INN: ("tax_id", "tax id"), DocumentType.OGRN: ("registration_number", "registration number")}
    if document.document_type not in pairs:
        return []
    attribute, label = pairs[document.document_type]
    recorded = getattr(organization, attribute)
    if not recorded:
        return [CheckResult("matches_organization", False, f"The organization has no {label} on record to compare.")]
    if recorded.strip() != document.number:
        return [
            CheckResult(
                "matches_organization",
                False,
                f"The document says {document.number}; the organization's record says {recorded}.",
            )
        ]
    return [CheckResult("matches_organization", True, f"The {label} matches the organization's record.")]


def _duplicate_check(document: KycDocument) -> tuple[list[CheckResult], list[dict]]:
    """The same tax id verified for another organization: a person must look (not a reject).

    Returns the results the organization sees and the findings only platform staff see:
    which organizations hold the tax id is another tenant's business, so the uploader's
    result says only that a reviewer will look (any organization could otherwise map tax
    ids to organization ids by uploading them).
    """
    if document.document_type != DocumentType.INN:
        return [], []
    with system_scope(reason="kyc: is this tax id verified for another organization"):
        others = (
            KycDocument.objects.filter(
                document_type=DocumentType.INN, number=document.number, status=DocumentStatus.APPROVED
            )
            .exclude(organization_id=document.organization_id)
            .values_list("organization_id", flat=True)
            .distinct()
        )
        others = sorted(str(organization_id) for organization_id in others)
    if others:
        result = CheckResult(
            "unique_tax_id", False, f"The tax id {document.number} needs a manual review before it can be accepted."
        )
        finding = {
            "check": "unique_tax_id",
            "message": f"The tax id {document.number} is already verified for another organization.",
            "organization_ids": others,
        }
        return [result], [finding]
    return [CheckResult("unique_tax_id", True, "No other organization is verified with this tax id.")], []


def _is_hard(result: CheckResult) -> bool:
    return result.name.startswith(HARD_CHECKS_PREFIXES)


@transaction.atomic
def document_run_checks(*, document_id: UUID) -> KycDocument:
    """Run every automated check on a stored document and record the results.

    A failed hard check (number, file, expiry) rejects the document with the reasons;
    a failed soft one (agreement with the record, a duplicate tax id) flags it for the
    reviewer. Runs again harmlessly (a task may be delivered twice).
    """
    document = KycDocument.objects.select_for_update().get(pk=document_id)
    if document.status != DocumentStatus.CHECKING:
        return document
    with document.file.open("rb") as stored:
        data = stored.read()
    duplicate_results, staff_findings = _duplicate_check(document)
    results = [
        *file_checks(
            data=data,
            filename=document.original_filename,
            declared_content_type=None,
            max_bytes=settings.KYC_MAX_FILE_BYTES,
        ),
        *number_checks(document.document_type, document.number, document.fields),
        *([expiry_check(document.expires_on, timezone.localdate())] if document.expires_on else []),
        *_agreement_checks(document),
        *duplicate_results,
    ]
    failed_hard = [result for result in results if not result.passed and _is_hard(result)]
    document.check_results = [result.as_dict() for result in results]
    document.staff_findings = staff_findings
    document.checks_completed_at = timezone.now()
    document.flagged_for_review = any(not result.passed and not _is_hard(result) for result in results)
    target = DocumentStatus.REJECTED if failed_hard else DocumentStatus.PENDING_REVIEW
    if failed_hard:
        document.review_note = "Rejected by the automated checks: " + " ".join(r.message for r in failed_hard)
    system = Actor.system(organization_id=document.organization_id)
    move(document, target, transitions=DOCUMENT, actor=system, reason=document.review_note if failed_hard else "")
    document.save()
    _audit(document, "kyc.document_checked", system, {"failed": [r.name for r in results if not r.passed]})
    outbox_publish(
        _document_event(
            events.DocumentChecked, document, passed=not failed_hard, flagged_for_review=document.flagged_for_review
        )
    )
    return document


# --- Staff review ----------------------------------------------------------------------------


def _approved_types(organization_id: UUID) -> set[str]:
    return set(
        KycDocument.objects.filter(organization_id=organization_id, status=DocumentStatus.APPROVED).values_list(
            "document_type", flat=True
        )
    )


def _level_reached(approved: set[str]) -> str:
    reached = ""
    for level in Level.values:  # basic, enhanced, premium: each needs more
        if set(required_documents(level)) <= approved:
            reached = level
    return reached


def _settle_verification(verification: OrganizationVerification, *, actor: Actor) -> None:
    """After a decision: the level the approved documents reach, and the status it means."""
    approved = _approved_types(verification.organization_id)
    reached = _level_reached(approved)
    if verification.verified_level != reached:
        verification.verified_level = reached
        verification.save(update_fields=["verified_level", "updated_at"])
        tenancy.organization_set_verification_level(
            organization_id=verification.organization_id, level=reached or "none", actor=actor
        )
    if set(required_documents(verification.target_level)) <= approved:
        _move_verification(verification, VerificationStatus.VERIFIED, actor=actor)


@transaction.atomic
def document_review(*, document_id: UUID, actor: Actor, approve: bool, reason: str = "") -> KycDocument:
    """Platform staff approve or reject a document (a reason is required to reject)."""
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationFailed(
            "Say why the document is rejected: the organization sees the reason.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={"reason": ["Required when rejecting."]},
        )
    document = KycDocument.objects.select_for_update().filter(pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.")
    target = DocumentStatus.APPROVED if approve else DocumentStatus.REJECTED
    move(document, target, transitions=DOCUMENT, actor=actor, reason=reason)
    document.reviewer_id, document.reviewed_at, document.review_note = actor.user_id, timezone.now(), reason
    document.save()
    _audit(document, f"kyc.document_{'approved' if approve else 'rejected'}", actor, {"reason": reason})
    outbox_publish(_document_event(events.DocumentReviewed, document, reason=reason))

    verification = _verification_for_update(document.organization_id)
    if verification.status in (VerificationStatus.PENDING, VerificationStatus.VERIFIED):
        _move_verification(verification, VerificationStatus.IN_REVIEW, actor=actor)
    if not approve and document.document_type in required_documents(verification.target_level):
        _move_verification(verification, VerificationStatus.REJECTED, actor=actor, note=reason)
        _settle_level_only(verification, actor=actor)
    else:
        _settle_verification(verification, actor=actor)
    return document


def _settle_level_only(verification: OrganizationVerification, *, actor: Actor) -> None:
    reached = _level_reached(_approved_types(verification.organization_id))
    if verification.verified_level != reached:
        verification.verified_level = reached
        verification.save(update_fields=["verified_level", "updated_at"])
        tenancy.organization_set_verification_level(
            organization_id=verification.organization_id, level=reached or "none", actor=actor
        )


@transaction.atomic
def verification_set_target_level(*, organization_id: UUID, actor: Actor, level: str) -> OrganizationVerification:
    """The organization asks for a level; more documents may now be needed."""
    if level not in Level.values:
        raise ValidationFailed(f"Unknown level {level!r}.", details={"target_level": [f"One of {Level.values}."]})
    verification = _verification_for_update(organization_id)
    verification.target_level = level
    verification.save(update_fields=["target_level", "updated_at"])
    needs_more = not set(required_documents(level)) <= _approved_types(organization_id)
    if verification.status == VerificationStatus.VERIFIED and needs_more:
        _move_verification(verification, VerificationStatus.PENDING, actor=actor)
    elif verification.status == VerificationStatus.IN_REVIEW and not needs_more:
        _move_verification(verification, VerificationStatus.VERIFIED, actor=actor)
    return verification


# --- Expiry (Celery beat, daily) ---------------------------------------------------------------


@transaction.atomic
def document_expire(*, document_id: UUID) -> KycDocument:
    """An approved document reached its expiry date: expired, and re-verification needed."""
    document = KycDocument.objects.select_for_update().get(pk=document_id)
    if document.status != DocumentStatus.APPROVED:
        return document
    system = Actor.system(organization_id=document.organization_id)
    move(document, DocumentStatus.EXPIRED, transitions=DOCUMENT, actor=system, save=["updated_at"])
    _audit(document, "kyc.document_expired", system, {"expires_on": str(document.expires_on)})
    outbox_publish(_document_event(events.DocumentExpired, document, expires_on=str(document.expires_on)))
    verification = _verification_for_update(document.organization_id)
    _settle_level_only(verification, actor=system)
    if verification.status == VerificationStatus.VERIFIED and document.document_type in required_documents(
        verification.target_level
    ):
        _move_verification(
            verification,
            VerificationStatus.PENDING,
            actor=system,
            note=f"{document.get_document_type_display()} expired.",
        )
    return document


@transaction.atomic
def document_warn_expiring(*, document_id: UUID) -> KycDocument:
    """Tell the organization, once, that an approved document expires soon."""
    document = KycDocument.objects.select_for_update().get(pk=document_id)
    if document.expiry_warned_at is not None or document.status != DocumentStatus.APPROVED:
        return document
    document.expiry_warned_at = timezone.now()
    document.save(update_fields=["expiry_warned_at", "updated_at"])
    outbox_publish(_document_event(events.DocumentExpiring, document, expires_on=str(document.expires_on)))
    document_id_text, organization_id = str(document.id), str(document.organization_id)
    transaction.on_commit(lambda: tasks.kyc_send_expiry_warning.delay(document_id_text, organization_id))
    return document


def documents_due(*, today: date) -> tuple[list[tuple[UUID, UUID]], list[tuple[UUID, UUID]]]:
    """(expired, expiring within the warning window) approved documents, as (id, organization id),
    of what the caller's scope sees: every organization under the beat task's bypass scope,
    one organization in its own."""
    warn_until = today + timedelta(days=settings.KYC_EXPIRY_WARNING_DAYS)
    approved = KycDocument.objects.filter(status=DocumentStatus.APPROVED, expires_on__isnull=False)
    expired = list(approved.filter(expires_on__lt=today).values_list("id", "organization_id"))
    expiring = list(
        approved.filter(expires_on__gte=today, expires_on__lte=warn_until, expiry_warned_at__isnull=True).values_list(
            "id", "organization_id"
        )
    )
    return expired, expiring


def documents_expiry_sweep(*, today: date | None = None) -> dict:
    """Expire what is past its date, warn what expires within the window, in the current
    organization (the beat task runs it once per organization, in that one's scope).

    Each document in a savepoint of the task's transaction.
    """
    today = today or timezone.localdate()
    expired, expiring = documents_due(today=today)
    for document_id, _organization_id in expired:
        document_expire(document_id=document_id)
    for document_id, _organization_id in expiring:
        document_warn_expiring(document_id=document_id)
    return {"expired": len(expired), "warned": len(expiring)}


def document_send_expiry_warning(*, document_id: UUID) -> int:
    """Email the organization's admins that a document expires soon; returns how many got it."""
    from django.core.mail import send_mail

    from apps.tenancy.selectors import organization_admin_emails

    document = KycDocument.objects.filter(pk=document_id).first()
    if document is None or document.expires_on is None:
        return 0
    recipients = organization_admin_emails(organization_id=document.organization_id)
    if recipients:
        send_mail(
            f"Your {document.get_document_type_display()} expires on {document.expires_on:%Y-%m-%d}",
            f"The {document.get_document_type_display()} your organization submitted for verification expires on "
            f"{document.expires_on:%Y-%m-%d}. Upload its renewal (POST /api/v1/kyc/resubmit) before then, or "
            "the verification lapses and trading stops until it is renewed.",
            settings.DEFAULT_FROM_EMAIL,
            recipients,
        )
    return len(recipients)
