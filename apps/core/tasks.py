"""Outbox relay tasks: the fast path after commit, and the beat safety net; and the storage sweep."""

from celery import shared_task
from django.conf import settings

from apps.core import services
from apps.core.task_bases import SystemTask, TenantTask


# Not atomic: `organization_id` is None for the platform's own events, which only the bypass
# scope sees, so the relay service opens the scope itself (its docstring says why).
@shared_task(base=TenantTask, atomic=False)
def outbox_relay(*, organization_id: str | None, event_ids: list[str] | None = None) -> int:
    return services.outbox_relay(organization_id=organization_id, event_ids=event_ids)


@shared_task(base=SystemTask)
def outbox_relay_pending() -> int:
    """Beat safety net: one relay per organization that has events left unpublished."""
    with outbox_relay_pending.discover(reason="outbox.find_pending"):
        organization_ids = services.outbox_pending_organizations(older_than=settings.OUTBOX_RELAY_STALE_AFTER)
    return outbox_relay_pending.fan_out(outbox_relay, organization_ids)


@shared_task(base=SystemTask)
def storage_orphans_sweep() -> dict:
    return services.storage_orphans_sweep()
