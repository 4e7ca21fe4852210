"""Tasks of platform integrations, all on the `sync` queue (config/celery.py routes apps.integrations.*).

The sync and push tasks are not atomic: their services call the platform between short
transactions, each in the organization's scope, and schedule their own retries (backoff, the
platform's Retry-After, the circuit breaker); only a database error reaches Celery's retry."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.integrations.models import SyncTrigger
from apps.integrations.services import pushes, sync, webhooks


@shared_task(base=TenantTask, atomic=False)
def integrations_sync_configuration(
    *, configuration_id: str, organization_id: str, trigger: str = "SCHEDULE", full: bool = False
) -> str:
    """One run of a shop's sync; `full`: the whole INITIAL_LOOKBACK again (the back-office's "Full re-sync")."""
    run = sync.configuration_sync(
        configuration_id=UUID(configuration_id),
        organization_id=UUID(organization_id),
        trigger=SyncTrigger(trigger),
        full=full,
    )
    return "skipped" if run is None else run.status


@shared_task(base=SystemTask)
def integrations_sync_due() -> int:
    """Beat, every minute: one run per active shop whose next run is due and that no run holds."""
    with integrations_sync_due.discover(reason="integrations.find_due_syncs"):
        due = sync.configurations_due()
    calls = [{"configuration_id": str(config_id), "organization_id": str(org_id)} for config_id, org_id in due]
    return integrations_sync_due.fan_out(integrations_sync_configuration, calls)


# Retried (TenantTask's policy) while the platform is away: the receipt stays unprocessed until applied.
@shared_task(base=TenantTask, atomic=False)
def integrations_webhook_apply(*, receipt_id: str, organization_id: str) -> str:
    return webhooks.webhook_apply(receipt_id=UUID(receipt_id), organization_id=UUID(organization_id))


@shared_task(base=TenantTask, atomic=False)
def integrations_status_push(*, push_id: str, organization_id: str) -> str:
    return pushes.status_push_send(push_id=UUID(push_id), organization_id=UUID(organization_id))


@shared_task(base=SystemTask)
def integrations_status_pushes_due() -> int:
    """Beat, every minute: the fulfilment pushes whose retry is due (or that a lost enqueue left)."""
    with integrations_status_pushes_due.discover(reason="integrations.find_due_pushes"):
        due = pushes.status_pushes_due()
    calls = [{"push_id": str(push_id), "organization_id": str(org_id)} for push_id, org_id in due]
    return integrations_status_pushes_due.fan_out(integrations_status_push, calls)
