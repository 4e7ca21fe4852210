"""Helpers of the matching and dispatch tests: experts made through the real services (passport,
membership, work status, rating), orders matched as the outbox subscriber matches them (the
customer organization's scope, the system acting), and reads of what was stored."""

from __future__ import annotations

from decimal import Decimal

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.service import services
from apps.service.models import ExpertPassport, MatchingResult, ServiceOrder
from apps.tenancy.roles import Role
from tests.factories import member
from tests.service.conftest import as_member, give_membership, register_expert

# About 15 km north-east of the site: well inside an 80 km radius.
NEAR = {"latitude": Decimal("60.050000"), "longitude": Decimal("30.500000")}
# Moscow: about 630 km away.
FAR = {"latitude": Decimal("55.755826"), "longitude": Decimal("37.617300")}


def make_expert(
    organization,
    *,
    status: str = "AVAILABLE",
    level: str | None = None,
    rating: tuple[str, int] | None = None,
    **fields,
) -> ExpertPassport:
    """An expert of `organization` (a new member with the expert role) at the site unless told,
    with the membership, work status and rating asked for."""
    user = member(organization, role=Role.EXPERT)
    expert = register_expert(user, organization, **fields)
    if level:
        give_membership(expert, level=level)
    if status != "IDLE":
        as_member(user, organization, services.expert_work_status_change, expert_id=expert.id, work_status=status)
    if rating:
        with system_scope(reason="test: an expert's rating", audit=False):
            services.expert_rating_set(expert_id=expert.id, average=Decimal(rating[0]), count=rating[1])
    with system_scope(reason="test: the expert as stored", audit=False):
        return ExpertPassport.objects.get(id=expert.id)


def match(order, organization) -> list[MatchingResult]:
    """Match the order as the `service_order.created` subscriber does."""
    with tenant_scope(organization.id):
        return services.service_order_match(
            actor=Actor.system(organization_id=organization.id), service_order_id=order.id
        )


def results_of(order) -> list[MatchingResult]:
    with system_scope(reason="test: an order's matching results", audit=False):
        return list(MatchingResult.objects.filter(source_id=order.id).order_by("rank"))


def order_as_stored(order) -> ServiceOrder:
    with system_scope(reason="test: the order as stored", audit=False):
        return ServiceOrder.objects.get(id=order.id)


def ranked_targets(order) -> list:
    return [result.target_id for result in results_of(order)]


def relay_events(event_type: str) -> list[OutboxEvent]:
    """Relay every pending outbox event of `event_type` as the relay would (each in its
    organization's scope, to every subscriber); the events relayed."""
    with system_scope(reason="test: pending events", audit=False):
        pending = list(
            OutboxEvent.objects.filter(event_type=event_type, published_at__isnull=True).order_by("created_at")
        )
    for event in pending:
        outbox_relay(organization_id=event.organization_id, event_ids=[event.id])
    return pending


def events(event_type: str) -> list[OutboxEvent]:
    with system_scope(reason="test: published events", audit=False):
        return list(OutboxEvent.objects.filter(event_type=event_type).order_by("created_at"))
