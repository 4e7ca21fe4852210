"""Celery tasks of the KYC context: each takes ids and calls one service."""

from uuid import UUID

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.core.context import tenant_scope
from apps.kyc import services
from apps.kyc.sandbox import PreviewOutcome


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def kyc_document_check(document_id: str, organization_id: str) -> str:
    with tenant_scope(UUID(organization_id)):
        return services.document_run_checks(document_id=UUID(document_id)).status


@shared_task
def kyc_expiry_sweep() -> dict:
    return services.documents_expiry_sweep()


@shared_task
def kyc_previews_resubmit() -> int:
    return services.document_previews_resubmit()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def kyc_send_expiry_warning(document_id: str, organization_id: str) -> int:
    with tenant_scope(UUID(organization_id)):
        return services.document_send_expiry_warning(document_id=UUID(document_id))


# The child process is stopped at KYC_PREVIEW_TIMEOUT_SECONDS; the task's own limits are the
# net under that (reading the file, storage). Routed to the documents queue (config/celery.py).
@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=settings.KYC_PREVIEW_TIMEOUT_SECONDS + 10,
    time_limit=settings.KYC_PREVIEW_TIMEOUT_SECONDS + 20,
)
def kyc_document_render_preview(document_id: str, organization_id: str) -> str:
    try:
        return services.document_render_preview(organization_id=UUID(organization_id), document_id=UUID(document_id))
    except SoftTimeLimitExceeded:
        with tenant_scope(UUID(organization_id)):
            outcome = PreviewOutcome(None, "Drawing the preview took longer than the task's time limit.")
            return services.document_preview_store(document_id=UUID(document_id), outcome=outcome).preview_status
