"""Celery tasks of the KYC context: each takes ids and calls one service."""

from uuid import UUID

from celery import shared_task

from apps.core.context import tenant_scope
from apps.kyc import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def kyc_document_check(document_id: str, organization_id: str) -> str:
    with tenant_scope(UUID(organization_id)):
        return services.document_run_checks(document_id=UUID(document_id)).status


@shared_task
def kyc_expiry_sweep() -> dict:
    return services.documents_expiry_sweep()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def kyc_send_expiry_warning(document_id: str, organization_id: str) -> int:
    with tenant_scope(UUID(organization_id)):
        return services.document_send_expiry_warning(document_id=UUID(document_id))
