"""Domain events of the KYC context (payloads are built here only)."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class DocumentEvent(DomainEvent):
    aggregate_type = "kyc_document"
    document_id: str
    document_type: str
    status: str

    def aggregate_id(self) -> str:
        return self.document_id


@dataclass(frozen=True, kw_only=True)
class DocumentUploaded(DocumentEvent):
    event_type = "kyc.document_uploaded"


@dataclass(frozen=True, kw_only=True)
class DocumentChecked(DocumentEvent):
    event_type = "kyc.document_checked"
    passed: bool
    flagged_for_review: bool


@dataclass(frozen=True, kw_only=True)
class DocumentReviewed(DocumentEvent):
    event_type = "kyc.document_reviewed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class DocumentExpiring(DocumentEvent):
    event_type = "kyc.document_expiring"
    expires_on: str


@dataclass(frozen=True, kw_only=True)
class DocumentExpired(DocumentEvent):
    event_type = "kyc.document_expired"
    expires_on: str


@dataclass(frozen=True, kw_only=True)
class VerificationChanged(DomainEvent):
    event_type = "kyc.verification_changed"
    aggregate_type = "organization"
    status: str
    verified_level: str

    def aggregate_id(self) -> str:
        return str(self.organization_id)
