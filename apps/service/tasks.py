"""Tasks of field service: thin wrappers that call its services."""

from __future__ import annotations

from celery import shared_task

from apps.core.task_bases import SystemTask
from apps.service import services


@shared_task(base=SystemTask)
def memberships_expire() -> int:
    """Paid memberships past their end drop to FREE; their experts leave RUSHING."""
    return services.memberships_expire()
