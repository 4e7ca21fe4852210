"""Celery tasks of the notifications context: thin wrappers around its services.

Deliveries belong to people, not organizations: these are SystemTasks whose services open
each person's own scope (a delivery batch) or read ids only (the sweep's discovery).
"""

from __future__ import annotations

from celery import shared_task

from apps.core.task_bases import SystemTask
from apps.notifications import services

BATCH = 100


@shared_task(base=SystemTask)
def deliveries_send(channel: str, items: list[list[str]]) -> dict:
    return services.deliveries_send(channel=channel, items=items)


def deliveries_enqueue(due: dict[str, list[list[str]]], *, via: SystemTask | None = None) -> int:
    """One task per channel and BATCH deliveries (through `via`'s enqueue when a beat job sends them)."""
    enqueued = 0
    for channel, items in due.items():
        for start in range(0, len(items), BATCH):
            kwargs = {"channel": channel, "items": items[start : start + BATCH]}
            if via is not None:
                via.enqueue(deliveries_send, kwargs)
            else:
                deliveries_send.delay(**kwargs)
            enqueued += 1
    return enqueued


@shared_task(base=SystemTask)
def deliveries_send_due() -> int:
    """Beat: deliveries whose wait is over (quiet hours, digests, retries, dead workers' leases)."""
    with deliveries_send_due.discover(reason="queued deliveries that are due"):
        due = services.deliveries_due()
    return deliveries_enqueue(due, via=deliveries_send_due)
