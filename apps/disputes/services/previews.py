"""Previews of a case's evidence files for the mediation page: a PNG thumbnail of an image, or of
a PDF's first page, drawn by a worker (`evidence_preview_render` task, documents queue), never in
a request and never in the worker's own process.

A file evidence is stored with its preview pending (`evidence_preview_request`, called by
`evidence_add` before it saves); the task draws it on commit, in the limited child process KYC
uses too (apps.core.preview_sandbox, within DISPUTES["PREVIEW_*"]). The files come from the
parties: whatever one does (a decompression bomb, a damaged PDF, the memory or time limit), the
preview is recorded as failed and logged; the worker goes on. The beat job
`disputes_previews_resubmit` asks again for a preview whose task was lost.
"""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.context import current_organization_id, tenant_scope
from apps.core.preview_sandbox import PreviewLimits, PreviewOutcome, render_in_sandbox
from apps.core.previews import PREVIEWABLE_CONTENT_TYPES
from apps.disputes.models import DisputeEvidence, PreviewStatus

logger = logging.getLogger(__name__)


def evidence_preview_limits() -> PreviewLimits:
    """The sandbox's limits for an evidence preview (settings DISPUTES["PREVIEW_*"])."""
    disputes = settings.DISPUTES
    return PreviewLimits(
        timeout_seconds=disputes["PREVIEW_TIMEOUT_SECONDS"],
        memory_bytes=disputes["PREVIEW_MEMORY_BYTES"],
        max_pages=disputes["PREVIEW_MAX_PAGES"],
        max_pixels=disputes["PREVIEW_MAX_PIXELS"],
        max_width=disputes["PREVIEW_MAX_WIDTH"],
    )


def evidence_preview_request(*, evidence: DisputeEvidence) -> None:
    """Mark a file evidence (not saved yet) as waiting for its preview, and ask a worker to draw
    it once the evidence is committed (a rolled-back upload asks for nothing)."""
    evidence.preview_status, evidence.preview_requested_at = PreviewStatus.PENDING, timezone.now()
    _render_on_commit(evidence_id=evidence.id, organization_id=evidence.client_organization_id)


def _render_on_commit(*, evidence_id: UUID, organization_id: UUID) -> None:
    from apps.disputes import tasks

    evidence_id_text, organization_id_text = str(evidence_id), str(organization_id)
    transaction.on_commit(lambda: tasks.evidence_preview_render.delay(evidence_id_text, organization_id_text))


@transaction.atomic
def evidence_preview_resubmit(*, evidence_id: UUID) -> DisputeEvidence | None:
    """Ask a worker again for a preview still pending (its task lost); nothing for one drawn
    meanwhile. The task is a no-op once the preview is no longer pending, so asking twice
    draws and stores it once."""
    still_pending = DisputeEvidence.objects.filter(pk=evidence_id, preview_status=PreviewStatus.PENDING)
    if still_pending.update(preview_requested_at=timezone.now()):
        evidence = still_pending.get()
        _render_on_commit(evidence_id=evidence.id, organization_id=evidence.client_organization_id)
        return evidence
    return DisputeEvidence.objects.filter(pk=evidence_id).first()


def evidence_previews_waiting(*, now: datetime | None = None) -> list[tuple[UUID, UUID]]:
    """(evidence id, client organization id) of previews no worker will draw: pending longer
    than DISPUTES["PREVIEW_RESUBMIT_AFTER"] after a worker was last asked (a lost enqueue or a
    dead worker; well past the task's own time limit), oldest first, at most
    DISPUTES["PREVIEW_RESUBMIT_BATCH"]. Reads every tenant: the beat task calls it in its
    bypass scope, then asks again for each in its organization's scope (which restarts its
    clock, so a slow queue is not flooded with repeats)."""
    stale_before = (now or timezone.now()) - settings.DISPUTES["PREVIEW_RESUBMIT_AFTER"]
    return list(
        DisputeEvidence.objects.filter(preview_status=PreviewStatus.PENDING)
        # Evidence added before the request time was kept counts from when it was added.
        .filter(Q(preview_requested_at__lt=stale_before) | Q(preview_requested_at=None, created_at__lt=stale_before))
        .order_by(F("preview_requested_at").asc(nulls_first=True), "created_at")
        .values_list("id", "client_organization_id")[: settings.DISPUTES["PREVIEW_RESUBMIT_BATCH"]]
    )


def evidence_preview_render(*, evidence_id: UUID, organization_id: UUID | None = None) -> DisputeEvidence | None:
    """Draw a pending evidence preview in the sandbox and store it: `ready` with the PNG stored
    beside the file, `none` for a type without preview (decided before any drawing), `failed`
    (logged) when the file cannot or may not be drawn. Does nothing to an evidence no longer
    pending (a second delivery of the task). A stored file that cannot be read raises (OSError:
    the task retries).

    Not one transaction: the drawing may take DISPUTES["PREVIEW_TIMEOUT_SECONDS"], and no row
    lock or open transaction waits for it. The file is read in one short transaction, the
    result stored in another, each in the scope of `organization_id` (the evidence's client
    organization; by default the caller's), which it opens itself: its task is a non-atomic
    TenantTask.
    """
    organization_id = organization_id or current_organization_id()
    with tenant_scope(organization_id):
        evidence = DisputeEvidence.objects.filter(pk=evidence_id).first()
        if evidence is None or evidence.preview_status != PreviewStatus.PENDING:
            return evidence
        if evidence.content_type not in PREVIEWABLE_CONTENT_TYPES:
            return evidence_preview_store(evidence_id=evidence_id, outcome=None)
        with evidence.file.open("rb") as stored:
            data = stored.read()
    outcome = render_in_sandbox(
        data=data,
        content_type=evidence.content_type,
        limits=evidence_preview_limits(),
        log_context={"evidence_id": str(evidence_id), "organization_id": str(organization_id)},
    )
    with tenant_scope(organization_id):
        return evidence_preview_store(evidence_id=evidence_id, outcome=outcome)


@transaction.atomic
def evidence_preview_store(*, evidence_id: UUID, outcome: PreviewOutcome | None) -> DisputeEvidence:
    """Record a drawn preview (the PNG stored privately beside the file), or that there is none:
    `outcome` None for a type without preview, an outcome without PNG for a file that could not
    or may not be drawn (logged with the reason). Only while the preview is pending: a second
    delivery of the task changes nothing."""
    evidence = DisputeEvidence.objects.select_for_update().get(pk=evidence_id)
    if evidence.preview_status != PreviewStatus.PENDING:
        return evidence
    log = {
        "evidence_id": str(evidence.id),
        "dispute_id": str(evidence.dispute_id),
        "content_type": evidence.content_type,
    }
    if outcome is None:
        evidence.preview_status = PreviewStatus.NONE
        evidence.save(update_fields=["preview_status"])
        return evidence
    if outcome.png is None:
        # The file is a party's: what it does to the decoders ends in no preview, never in a failed task.
        logger.warning("dispute.evidence_preview_failed", extra={**log, "reason": outcome.reason})
        evidence.preview_status = PreviewStatus.FAILED
        evidence.save(update_fields=["preview_status"])
        return evidence
    evidence.preview.save("preview.png", ContentFile(outcome.png), save=False)
    evidence.preview_status = PreviewStatus.READY
    evidence.save(update_fields=["preview", "preview_status"])
    logger.info("dispute.evidence_preview_ready", extra={**log, "bytes": len(outcome.png)})
    return evidence
