"""Reads of field service: experts (the organization's own, and every published profile),
service orders (each party's; `:own` grants narrow them to the person's), and matching results."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from apps.service.models import ServiceOrder


@dataclass(frozen=True)
class ServiceOrderParties:
    """What another context (reviews, points) needs to know of a service order: who its two
    sides are and where it stands."""

    id: UUID
    number: str
    status: str
    organization_id: UUID
    expert_organization_id: UUID | None
    expert_id: UUID | None
    expert_user_id: UUID | None
    customer_id: UUID | None
    created_by_id: UUID | None
    completed_at: object


def service_order_parties(*, service_order_id: UUID) -> ServiceOrderParties | None:
    """The service order's parties as the current tenant sees it (None: not found or not a
    party: row-level security answers no row)."""
    row = (
        ServiceOrder.objects.filter(id=service_order_id)
        .values(
            "id",
            "number",
            "status",
            "organization_id",
            "expert_organization_id",
            "expert_id",
            "expert_user_id",
            "customer_id",
            "created_by_id",
            "completed_at",
        )
        .first()
    )
    return ServiceOrderParties(**row) if row else None
