"""Celery tasks of the KYC context: each takes ids and calls one service."""

from datetime import date
from uuid import UUID

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.preview_sandbox import PreviewOutcome
from apps.core.task_bases import SystemTask, TenantTask
from apps.kyc import services


@shared_task(base=TenantTask)
def kyc_document_check(document_id: str, organization_id: str) -> str:
    return services.document_run_checks(document_id=UUID(document_id)).status


@shared_task(base=TenantTask)
def kyc_expiry_sweep_of(*, organization_id: str, today: str) -> dict:
    return services.documents_expiry_sweep(today=date.fromisoformat(today))


@shared_task(base=SystemTask)
def kyc_expiry_sweep(today: str | None = None) -> int:
    """The daily beat job: one sweep per organization with documents expired or expiring."""
    today = date.fromisoformat(today) if today else timezone.localdate()
    with kyc_expiry_sweep.discover(reason="kyc: daily expiry sweep over every organization", audit=True):
        expired, expiring = services.documents_due(today=today)
    organization_ids = sorted({organization_id for _document_id, organization_id in expired + expiring})
    calls = [{"organization_id": organization_id, "today": today.isoformat()} for organization_id in organization_ids]
    return kyc_expiry_sweep.fan_out(kyc_expiry_sweep_of, calls)


@shared_task(base=TenantTask)
def kyc_document_preview_resubmit(*, document_id: str, organization_id: str) -> str:
    return services.document_preview_request(document_id=UUID(document_id), again=True).preview_status


@shared_task(base=SystemTask)
def kyc_previews_resubmit() -> int:
    """The beat job's safety net: ask again for every preview that no worker will draw; returns how many."""
    with kyc_previews_resubmit.discover(reason="kyc: previews no worker will draw, in every organization", audit=True):
        waiting = services.document_previews_waiting()
    calls = [
        {"document_id": document_id, "organization_id": organization_id} for document_id, organization_id in waiting
    ]
    return kyc_previews_resubmit.fan_out(kyc_document_preview_resubmit, calls)


@shared_task(base=TenantTask)
def kyc_send_expiry_warning(document_id: str, organization_id: str) -> int:
    return services.document_send_expiry_warning(document_id=UUID(document_id))


# The child process is stopped at KYC_PREVIEW_TIMEOUT_SECONDS; the task's own limits are the
# net under that (reading the file, storage). Routed to the documents queue (config/celery.py).
# Not atomic: the service reads the file and stores the drawing in two short transactions,
# each in the organization's scope, and none stays open while the child process draws.
@shared_task(
    base=TenantTask,
    atomic=False,
    soft_time_limit=settings.KYC_PREVIEW_TIMEOUT_SECONDS + 10,
    time_limit=settings.KYC_PREVIEW_TIMEOUT_SECONDS + 20,
)
def kyc_document_render_preview(document_id: str, organization_id: str) -> str:
    try:
        return services.document_render_preview(organization_id=UUID(organization_id), document_id=UUID(document_id))
    except SoftTimeLimitExceeded:
        with tenant_scope(UUID(organization_id)):  # a non-atomic task: the third short transaction
            outcome = PreviewOutcome(None, "Drawing the preview took longer than the task's time limit.")
            return services.document_preview_store(document_id=UUID(document_id), outcome=outcome).preview_status
