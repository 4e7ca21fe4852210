"""Evidence put before the mediator: a statement or a file (checked like every upload), added by
a party of the case; immutable once added. Evidence from the side whose answer is awaited is that answer:
it puts the case (back) under review. (Links to the platform's own records, and
staff's evidence, come with the rest of issue 19.)"""

from __future__ import annotations

import hashlib
import logging
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from apps.core.actors import Actor
from apps.core.errors import InvalidStateTransition, ValidationFailed
from apps.core.services import outbox_publish
from apps.core.uploads import Upload, upload_checked
from apps.disputes.events import DisputeEvidenceAdded
from apps.disputes.models import ENDED, DisputeEvidence, DisputeStatus, EvidenceKind
from apps.disputes.selectors import dispute_for_actor
from apps.disputes.services.cases import dispute_move, event_fields
from apps.disputes.services.previews import evidence_preview_request
from apps.disputes.transitions import ANSWER

logger = logging.getLogger(__name__)

AWAITING_AN_ANSWER = (DisputeStatus.CREATED, DisputeStatus.AWAITING_RESPONSE)


@transaction.atomic
def evidence_add(
    *, actor: Actor, dispute_id: UUID, statement: str = "", upload: Upload | None = None
) -> DisputeEvidence:
    """Add a statement or a file to an open case as the actor's side. Refused (422) once the
    case is resolved, closed or withdrawn. Publishes `dispute.evidence_added`."""
    statement = (statement or "").strip()
    limit = settings.DISPUTES["MAX_STATEMENT_CHARACTERS"]
    if upload is None and not statement:
        raise ValidationFailed(
            "Write a statement or attach a file.", details={"statement": ["This field is required."]}
        )
    if len(statement) > limit:
        raise ValidationFailed(
            f"A statement is at most {limit:,} characters.", details={"statement": [f"At most {limit}."]}
        )
    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id, for_update=True)
    if dispute.status in (*ENDED, DisputeStatus.RESOLVED):
        raise InvalidStateTransition(
            f"The dispute is {dispute.get_status_display().lower()}: no more evidence.",
            details={"status": dispute.status},
        )
    side = dispute.side_of(actor.organization_id)
    evidence = DisputeEvidence(
        dispute=dispute,
        client_organization_id=dispute.client_organization_id,
        supplier_organization_id=dispute.supplier_organization_id,
        kind=EvidenceKind.FILE if upload is not None else EvidenceKind.STATEMENT,
        added_by_side=side,
        added_by_id=actor.user_id,
        statement=statement,
    )
    if upload is not None:
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
    logger.info("dispute.evidence_added", extra={"dispute_id": str(dispute.id), "evidence_id": str(evidence.id)})
    return evidence
