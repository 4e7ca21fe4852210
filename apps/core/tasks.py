"""Outbox relay tasks: the fast path after commit, and the beat safety net."""

from celery import shared_task
from django.conf import settings

from apps.core import services


@shared_task(acks_late=True, autoretry_for=(Exception,), retry_backoff=True, retry_jitter=True, max_retries=8)
def outbox_relay(*, organization_id: str | None, event_ids: list[str] | None = None) -> int:
    return services.outbox_relay(organization_id=organization_id, event_ids=event_ids)


@shared_task(acks_late=True)
def outbox_relay_pending() -> int:
    delivered = 0
    for organization_id in services.outbox_pending_organizations(older_than=settings.OUTBOX_RELAY_STALE_AFTER):
        delivered += services.outbox_relay(organization_id=organization_id)
    return delivered


@shared_task(acks_late=True)
def storage_orphans_sweep() -> dict:
    return services.storage_orphans_sweep()
