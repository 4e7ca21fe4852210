"""Celery tasks of the documents context (queue `documents`): each takes ids and calls one service."""

from uuid import UUID

from celery import shared_task

from apps.core.task_bases import TenantTask
from apps.documents import services


@shared_task(base=TenantTask)
def document_render(document_id: str, organization_id: str) -> str:
    return services.document_render(document_id=UUID(document_id)).status
