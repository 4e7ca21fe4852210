"""Celery tasks of webhooks (queue `notifications`): each takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.webhooks import services


# Not atomic: the service posts to the receiver between two short transactions, each in the
# endpoint organization's scope (apps/webhooks/services/sending.py). A receiver's failure is
# an attempt recorded with its retry scheduled (by the beat, not a Celery countdown: long ETAs
# are unsafe on the Redis broker); only the database's own failures retry the task.
@shared_task(base=TenantTask, atomic=False)
def webhook_delivery_send(*, delivery_id: str, organization_id: str) -> str | None:
    return services.delivery_send(delivery_id=delivery_id, organization_id=organization_id)


@shared_task(base=SystemTask)
def webhooks_retry_due() -> int:
    """Beat (every minute): the deliveries whose retry is due, or whose send a lost enqueue
    or a dead worker left, each sent by its own task."""
    with webhooks_retry_due.discover(reason="webhooks.due_deliveries"):
        due = services.deliveries_due()
    calls = [{"delivery_id": delivery_id, "organization_id": organization_id} for delivery_id, organization_id in due]
    return webhooks_retry_due.fan_out(webhook_delivery_send, calls)
