"""Tasks of field service: thin wrappers that call its services."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task

from apps.core.actors import Actor
from apps.core.task_bases import SystemTask, TenantTask
from apps.service import services


@shared_task(base=SystemTask)
def memberships_expire() -> int:
    """Paid memberships past their end drop to FREE; their experts leave RUSHING."""
    return services.memberships_expire()


@shared_task(base=TenantTask)
def offers_expire_of(*, organization_id: str, service_order_id: str | None = None) -> int:
    """End the organization's offer rounds past their end (or that of one order, scheduled for
    its round's end) and send the next rounds; how many ended."""
    return services.service_order_offers_expire(
        actor=Actor.system(organization_id=UUID(organization_id)),
        service_order_id=UUID(service_order_id) if service_order_id else None,
    )


@shared_task(base=SystemTask)
def offers_expire() -> int:
    """Beat (every 30 seconds): the organizations whose live offer rounds are over, one task
    each (their scheduled tasks were lost, early, or their worker was down)."""
    with offers_expire.discover(reason="service.find_offer_rounds_due"):
        organization_ids = services.offer_rounds_due_organizations()
    return offers_expire.fan_out(offers_expire_of, organization_ids)
