"""Evidence put before the mediator: a statement, a file (checked like every upload), or a link to
a record the platform already holds about the case's order (a tracking event, a generated
document, a chat message, a photo of a return), added by a party of the case or by staff;
immutable once added. Evidence from the side whose answer is awaited is that answer: it puts the
case (back) under review. Staff's evidence never is."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from apps.core.actors import Actor
from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition, ValidationFailed
from apps.core.services import outbox_publish
from apps.core.uploads import Upload, upload_checked
from apps.disputes.events import DisputeEvidenceAdded
from apps.disputes.models import ENDED, Dispute, DisputeEvidence, DisputeStatus, EvidenceKind, LinkedRecord
from apps.disputes.selectors import dispute_for_actor
from apps.disputes.services.cases import dispute_move, event_fields
from apps.disputes.services.previews import evidence_preview_request
from apps.disputes.transitions import ANSWER

logger = logging.getLogger(__name__)

AWAITING_AN_ANSWER = (DisputeStatus.CREATED, DisputeStatus.AWAITING_RESPONSE)
STAFF_SIDE = "staff"


@dataclass(frozen=True)
class EvidenceLink:
    """A record of the platform to put before the mediator: its kind (LinkedRecord) and id."""

    type: str
    id: UUID


def linked_record_summary(*, dispute: Dispute, link: EvidenceLink, organization_id: UUID | None) -> dict:
    """What the linked record says now, as its own context summarises it; 422 on `link` when it
    is not a record of the case's order (or of the case's chat) that the organization sees.
    The same answer whether it does not exist or is another's: existence is not leaked."""
    from apps.chat.selectors import message_of_subject
    from apps.documents.selectors import document_of_order
    from apps.orders.selectors import return_photo_of_order
    from apps.tracking.selectors import tracking_event_of_order

    order_id = dispute.order_id
    summary = None
    if link.type == LinkedRecord.TRACKING_EVENT:
        summary = tracking_event_of_order(organization_id=organization_id, order_id=order_id, event_id=link.id)
    elif link.type == LinkedRecord.DOCUMENT:
        summary = document_of_order(organization_id=organization_id, order_id=order_id, document_id=link.id)
    elif link.type == LinkedRecord.CHAT_MESSAGE:
        summary = message_of_subject(
            organization_id=organization_id,
            message_id=link.id,
            subjects=[("order", order_id), ("dispute", dispute.id)],
        )
    elif link.type == LinkedRecord.RETURN_PHOTO:
        summary = return_photo_of_order(organization_id=organization_id, order_id=order_id, photo_id=link.id)
    else:
        raise ValidationFailed(
            f"Unknown kind of record {link.type!r}.",
            details={"link": [f"type: one of {', '.join(LinkedRecord.values)}."]},
        )
    if summary is None:
        label = LinkedRecord(link.type).label.lower()
        raise DomainError(
            f"No {label} {link.id} of order {dispute.order_number} that you may link.",
            code=ErrorCode.VALIDATION_FIELD_INVALID,
            details={"link": [f"Not a {label} of order {dispute.order_number} (or of this case) that you can see."]},
        )
    return summary


def _checked_statement(statement: str) -> str:
    statement = (statement or "").strip()
    limit = settings.DISPUTES["MAX_STATEMENT_CHARACTERS"]
    if len(statement) > limit:
        raise ValidationFailed(
            f"A statement is at most {limit:,} characters.", details={"statement": [f"At most {limit}."]}
        )
    return statement


@transaction.atomic
def evidence_add(
    *,
    actor: Actor,
    dispute_id: UUID,
    statement: str = "",
    upload: Upload | None = None,
    link: EvidenceLink | None = None,
) -> DisputeEvidence:
    """Add a statement, a file or a link to one of the order's records (each with an optional
    statement) to an open case, as the actor's side ("staff" for platform staff). A link keeps
    what the record said then (`linked_summary`): records change or go, the evidence does not.
    Refused (422) once the case is resolved, closed or withdrawn, and (422 on `link`) for a
    record that is not the order's. Publishes `dispute.evidence_added`."""
    statement = _checked_statement(statement)
    if upload is None and link is None and not statement:
        raise ValidationFailed(
            "Write a statement, attach a file or link a record.", details={"statement": ["This field is required."]}
        )
    if upload is not None and link is not None:
        raise ValidationFailed(
            "Attach a file or link a record, not both: add them as two pieces of evidence.",
            details={"link": ["Not with a file."]},
        )
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    if dispute.status in (*ENDED, DisputeStatus.RESOLVED):
        raise InvalidStateTransition(
            f"The dispute is {dispute.get_status_display().lower()}: no more evidence.",
            details={"status": dispute.status},
        )
    side = STAFF_SIDE if actor.is_staff else dispute.side_of(actor.organization_id)
    evidence = DisputeEvidence(
        dispute=dispute,
        client_organization_id=dispute.client_organization_id,
        supplier_organization_id=dispute.supplier_organization_id,
        kind=EvidenceKind.STATEMENT,
        added_by_side=side,
        added_by_id=actor.user_id,
        statement=statement,
    )
    if link is not None:
        evidence.kind = EvidenceKind.LINK
        evidence.linked_type, evidence.linked_id = link.type, link.id
        evidence.linked_summary = linked_record_summary(
            dispute=dispute, link=link, organization_id=None if actor.is_staff else actor.organization_id
        )
    elif upload is not None:
        evidence.kind = EvidenceKind.FILE
        evidence.content_type = upload_checked(upload, max_bytes=settings.DISPUTES["MAX_EVIDENCE_BYTES"])
        evidence.filename, evidence.size = upload.name[:255], len(upload.data)
        evidence.sha256 = hashlib.sha256(upload.data).hexdigest()
        evidence.file.save(upload.name, ContentFile(upload.data), save=False)
        evidence_preview_request(evidence=evidence)
    evidence.save()
    outbox_publish(
        DisputeEvidenceAdded(
            **event_fields(dispute, organization_id=actor.organization_id),
            evidence_id=str(evidence.id),
            kind=evidence.kind,
            added_by_side=side,
        )
    )
    if dispute.status in AWAITING_AN_ANSWER and side == dispute.response_side:
        # The awaited answer: the case goes (back) under review.
        dispute_move(dispute=dispute, to_status=DisputeStatus.UNDER_REVIEW, actor=actor, who=ANSWER, reason="answered")
    logger.info(
        "dispute.evidence_added",
        extra={"dispute_id": str(dispute.id), "evidence_id": str(evidence.id), "kind": evidence.kind},
    )
    return evidence
