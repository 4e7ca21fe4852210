"""Celery tasks of the documents context (queue `documents`): each takes ids and calls one service."""

from uuid import UUID

from celery import shared_task

from apps.core.context import tenant_scope
from apps.documents import services


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_jitter=True, max_retries=5)
def document_render(document_id: str, organization_id: str) -> str:
    with tenant_scope(UUID(organization_id)):
        return services.document_render(document_id=UUID(document_id)).status
