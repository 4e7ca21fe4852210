"""Celery tasks of tracking: the beat jobs, each calling one service or partition function."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.tracking import partitions
from apps.tracking.services import alerts as alert_services

logger = logging.getLogger(__name__)


@shared_task(base=SystemTask)
def tracking_partitions_maintain() -> dict:
    """Make the coming months' partitions and drop those past retention. Platform data: no
    tenant's rows are read, the owner's functions do the DDL."""
    made = partitions.partitions_ensure()
    dropped = partitions.partitions_drop_expired()
    logger.info("tracking.partitions_maintained", extra={"made": made, "dropped": dropped})
    return {"made": made, "dropped": dropped}


# --- Alerts: escalation and no signal (every 5 minutes) -----------------------------------------
# Each job finds, under the bypass scope, the organizations with work and fans out one task per
# organization, which acts in its own scope. Idempotent: a second run finds nothing left to do.


@shared_task(base=TenantTask)
def tracking_escalate_alerts_of(*, organization_id: str) -> int:
    return alert_services.alerts_escalate_due()


@shared_task(base=SystemTask)
def tracking_escalate_alerts() -> int:
    with tracking_escalate_alerts.discover(reason="tracking.find_alerts_to_escalate"):
        organization_ids = alert_services.alerts_escalation_due_organizations()
    return tracking_escalate_alerts.fan_out(tracking_escalate_alerts_of, organization_ids)


@shared_task(base=TenantTask)
def tracking_no_signal_of(*, organization_id: str) -> int:
    return alert_services.no_signal_check_due()


@shared_task(base=SystemTask)
def tracking_no_signal() -> int:
    with tracking_no_signal.discover(reason="tracking.find_silent_devices"):
        organization_ids = alert_services.no_signal_due_organizations()
    return tracking_no_signal.fan_out(tracking_no_signal_of, organization_ids)
