"""Celery tasks of tracking: the beat jobs, each calling one service or partition function."""

from __future__ import annotations

import logging
from uuid import UUID

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.tracking import live, partitions
from apps.tracking.services import alerts as alert_services
from apps.tracking.services import carrier_polling, geofences

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


# Not atomic: the service calls the carrier between short transactions, each in the
# organization's scope. Carrier failures are the service's to schedule (its backoff, the
# carrier's Retry-After): only a database error reaches Celery's retry.
@shared_task(base=TenantTask, atomic=False)
def tracking_poll_carrier(*, shipment_id: str, organization_id: str) -> str:
    return carrier_polling.carrier_poll(shipment_id=UUID(shipment_id), organization_id=UUID(organization_id)).status


@shared_task(base=SystemTask)
def tracking_poll_carriers() -> int:
    """Beat, every minute: one poll per shipment whose carrier poll is due, in the scope of
    the shipment's supplier (the party that attached the carrier)."""
    with tracking_poll_carriers.discover(reason="tracking.find_due_carrier_polls"):
        due = carrier_polling.carrier_polls_due()
    calls = [{"shipment_id": shipment_id, "organization_id": organization_id} for shipment_id, organization_id in due]
    return tracking_poll_carriers.fan_out(tracking_poll_carrier, calls)


@shared_task(base=SystemTask)
def tracking_live_location_flush(*, shipment_id: str, group: str) -> bool:
    """The trailing send of a shipment's live position (apps/tracking/live.py says why a task).
    Reads Redis only, no tenant's rows; idempotent: the pending position is taken once."""
    return live.location_flush(shipment_id=shipment_id, group=group)


@shared_task(base=TenantTask)
def tracking_geofences_refresh(*, organization_id: str, shipment_id: str) -> int:
    """Copy the organization's geofences onto one shipment it is a party of (tracking started
    in the other party's scope, which cannot read them)."""
    return geofences.geofences_copy_to_shipment(shipment_id=UUID(shipment_id))
