"""Celery tasks of tracking: the beat jobs, each calling one service or partition function."""

from __future__ import annotations

import logging
from uuid import UUID

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.tracking import partitions
from apps.tracking.services import geofences

logger = logging.getLogger(__name__)


@shared_task(base=SystemTask)
def tracking_partitions_maintain() -> dict:
    """Make the coming months' partitions and drop those past retention. Platform data: no
    tenant's rows are read, the owner's functions do the DDL."""
    made = partitions.partitions_ensure()
    dropped = partitions.partitions_drop_expired()
    logger.info("tracking.partitions_maintained", extra={"made": made, "dropped": dropped})
    return {"made": made, "dropped": dropped}


@shared_task(base=TenantTask)
def tracking_geofences_refresh(*, organization_id: str, shipment_id: str) -> int:
    """Copy the organization's geofences onto one shipment it is a party of (tracking started
    in the other party's scope, which cannot read them)."""
    return geofences.geofences_copy_to_shipment(shipment_id=UUID(shipment_id))
