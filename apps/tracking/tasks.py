"""Celery tasks of tracking: the beat jobs, each calling one service or partition function."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.core.task_bases import SystemTask
from apps.tracking import live, partitions

logger = logging.getLogger(__name__)


@shared_task(base=SystemTask)
def tracking_partitions_maintain() -> dict:
    """Make the coming months' partitions and drop those past retention. Platform data: no
    tenant's rows are read, the owner's functions do the DDL."""
    made = partitions.partitions_ensure()
    dropped = partitions.partitions_drop_expired()
    logger.info("tracking.partitions_maintained", extra={"made": made, "dropped": dropped})
    return {"made": made, "dropped": dropped}


@shared_task(base=SystemTask)
def tracking_live_location_flush(*, shipment_id: str, group: str) -> bool:
    """The trailing send of a shipment's live position (apps/tracking/live.py says why a task).
    Reads Redis only, no tenant's rows; idempotent: the pending position is taken once."""
    return live.location_flush(shipment_id=shipment_id, group=group)
