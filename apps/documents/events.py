"""Domain events of the documents context (payloads are built here only)."""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class DocumentEvent(DomainEvent):
    aggregate_type = "generated_document"
    document_id: str
    order_id: str
    document_type: str
    version: int
    status: str
    # The order's two parties: the live feed, notifications and webhooks tell both.
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.document_id


@dataclass(frozen=True, kw_only=True)
class DocumentRequested(DocumentEvent):
    event_type = "document.requested"


@dataclass(frozen=True, kw_only=True)
class DocumentReady(DocumentEvent):
    event_type = "document.ready"
    sha256: str


@dataclass(frozen=True, kw_only=True)
class DocumentFailed(DocumentEvent):
    event_type = "document.failed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class DocumentSigned(DocumentEvent):
    event_type = "document.signed"
    signature_sha256: str
