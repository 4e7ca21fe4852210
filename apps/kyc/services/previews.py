"""Writes of the KYC context: previews of uploaded documents, drawn by a worker.

The web process never draws: an upload (apps.kyc.services.documents) marks its preview
pending and queues `kyc_document_render_preview` (documents queue), which draws it in a
limited child process (apps.core.preview_sandbox, shared with disputes, within KYC's own
limits: `document_preview_limits`); the beat job `kyc_previews_resubmit` asks again for what
no worker will draw.
"""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.preview_sandbox import PreviewLimits, PreviewOutcome, render_in_sandbox
from apps.core.uploads import sniff_content_type
from apps.kyc import tasks
from apps.kyc.models import KycDocument, PreviewStatus


def document_preview_limits() -> PreviewLimits:
    """The sandbox's limits for a KYC document's preview (settings KYC_PREVIEW_*)."""
    return PreviewLimits(
        timeout_seconds=settings.KYC_PREVIEW_TIMEOUT_SECONDS,
        memory_bytes=settings.KYC_PREVIEW_MEMORY_BYTES,
        max_pages=settings.KYC_PREVIEW_MAX_PAGES,
        max_pixels=settings.KYC_PREVIEW_MAX_PIXELS,
        max_width=settings.KYC_PREVIEW_MAX_WIDTH,
    )


@transaction.atomic
def document_preview_request(*, document_id: UUID, again: bool = False) -> KycDocument:
    """Ask a worker to draw the document's preview: one never requested, or (`again`) one
    still pending whose task was lost."""
    document = KycDocument.objects.select_for_update().get(pk=document_id)
    asked_before = again and document.preview_status == PreviewStatus.PENDING
    if document.preview_status != PreviewStatus.NOT_REQUESTED and not asked_before:
        return document
    document.preview_status = PreviewStatus.PENDING
    document.save(update_fields=["preview_status", "updated_at"])
    document_id_text, organization_id = str(document.id), str(document.organization_id)
    transaction.on_commit(lambda: tasks.kyc_document_render_preview.delay(document_id_text, organization_id))
    return document


def document_previews_waiting(*, now=None) -> list[tuple[UUID, UUID]]:
    """(document id, organization id) of every preview that no worker will draw: the documents
    stored before previews moved to a worker (never requested) and pending ones left behind by
    a lost enqueue or a dead worker (pending longer than KYC_PREVIEW_RESUBMIT_AFTER, well past
    the task's own time limit). Reads every tenant: the beat task calls it in its bypass scope,
    then asks again for each in its organization's scope. A preview drawn twice is stored once:
    the task does nothing for a document no longer pending."""
    stale_before = (now or timezone.now()) - settings.KYC_PREVIEW_RESUBMIT_AFTER
    return list(
        KycDocument.objects.filter(
            Q(preview_status=PreviewStatus.NOT_REQUESTED)
            | Q(preview_status=PreviewStatus.PENDING, updated_at__lt=stale_before)
        )
        .order_by("updated_at")
        .values_list("id", "organization_id")[: settings.KYC_PREVIEW_RESUBMIT_BATCH]
    )


def document_render_preview(*, organization_id: UUID, document_id: UUID) -> str:
    """Draw a pending preview in a limited child process and store it; returns the preview status.

    Not one transaction: the drawing may take KYC_PREVIEW_TIMEOUT_SECONDS, and no row lock or
    open transaction waits for it. The file is read in one scope, the result stored in another:
    so it opens the organization's scope itself, once per short transaction (its task is a
    non-atomic TenantTask).
    """
    with tenant_scope(organization_id):
        document = KycDocument.objects.filter(pk=document_id).only("id", "preview_status", "file").first()
        if document is None or document.preview_status != PreviewStatus.PENDING:
            return document.preview_status if document else ""
        with document.file.open("rb") as stored:
            data = stored.read()
        content_type = sniff_content_type(data[:16]) or ""
    outcome = render_in_sandbox(
        data=data,
        content_type=content_type,
        limits=document_preview_limits(),
        log_context={"document_id": str(document_id), "organization_id": str(organization_id)},
    )
    with tenant_scope(organization_id):
        return document_preview_store(document_id=document_id, outcome=outcome).preview_status


@transaction.atomic
def document_preview_store(*, document_id: UUID, outcome: PreviewOutcome) -> KycDocument:
    """Record a drawn preview (stored privately beside the document) or why there is none."""
    document = KycDocument.objects.select_for_update().get(pk=document_id)
    if document.preview_status != PreviewStatus.PENDING:
        return document  # a second delivery of the task found it done
    if outcome.png is None:
        document.preview_status, document.preview_note = PreviewStatus.UNAVAILABLE, outcome.reason[:300]
        document.save(update_fields=["preview_status", "preview_note", "updated_at"])
        return document
    document.preview_file.save("preview.png", ContentFile(outcome.png), save=False)
    document.preview_status, document.preview_note = PreviewStatus.READY, ""
    document.save(update_fields=["preview_file", "preview_status", "preview_note", "updated_at"])
    return document
