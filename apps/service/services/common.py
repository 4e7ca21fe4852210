"""What the service-order use cases share: loading an order for one side or the other, the
parties copied onto its rows, the expert's work status following their orders, and the events."""

from __future__ import annotations

from contextlib import nullcontext
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.core.errors import NotFound
from apps.core.services import outbox_publish
from apps.service.events import ServiceOrderOfferClosed, ServiceOrderStatusChanged
from apps.service.models import (
    ExpertPassport,
    MatchingResult,
    OfferStatus,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatus,
    ServiceOrderStatusChange,
    WorkStatus,
)
from apps.service.services.experts import expert_work_follow


def order_event_fields(order: ServiceOrder, *, organization_id: UUID | None = None) -> dict:
    """The fields every service-order event carries; the outbox row carries the acting side."""
    parties = [str(order.organization_id)]
    if order.expert_organization_id and order.expert_organization_id != order.organization_id:
        parties.append(str(order.expert_organization_id))
    return {
        "organization_id": organization_id or order.organization_id,
        "service_order_id": str(order.id),
        "number": order.number,
        "title": order.title,
        "party_organization_ids": parties,
        "customer_organization_id": str(order.organization_id),
        "customer_id": str(order.customer_id) if order.customer_id else None,
        "expert_id": str(order.expert_id) if order.expert_id else None,
        "expert_user_id": str(order.expert_user_id) if order.expert_user_id else None,
    }


def status_event(order: ServiceOrder, *, actor: Actor, from_status: str, action: str, reason: str = ""):
    return lambda: ServiceOrderStatusChanged(
        **order_event_fields(order, organization_id=actor.organization_id),
        from_status=from_status,
        to_status=order.status,
        action=action,
        reason=reason,
    )


def order_for_customer(*, actor: Actor, service_order_id: UUID, own_user_id: UUID | None = None) -> ServiceOrder:
    """The customer organization's order, locked; with an `:own` grant (`own_user_id`) only the
    orders the person asked for or is the customer of. 404 otherwise (the expert's side too)."""
    queryset = ServiceOrder.objects.select_for_update().filter(
        organization_id=actor.organization_id, id=service_order_id
    )
    if own_user_id is not None:
        queryset = queryset.filter(Q(customer_id=own_user_id) | Q(created_by_id=own_user_id))
    order = queryset.first()
    if order is None:
        raise NotFound("Service order not found.")
    return order


def order_for_expert(*, actor: Actor, service_order_id: UUID) -> ServiceOrder:
    """The order the acting person holds as its expert, locked; 404 otherwise."""
    order = (
        ServiceOrder.objects.select_for_update()
        .filter(expert_organization_id=actor.organization_id, id=service_order_id, expert_user_id=actor.user_id)
        .first()
    )
    if order is None:
        raise NotFound("Service order not found.")
    return order


def parties_sync(order: ServiceOrder) -> None:
    """Copy the order's parties onto its history and attachments (their row-level security reads
    the copy): the expert's organization sees the whole history once it holds the order, and
    none of it once it gave the order back."""
    for model in (ServiceOrderStatusChange, ServiceOrderAttachment):
        model.objects.filter(service_order=order).exclude(expert_organization_id=order.expert_organization_id).update(
            expert_organization_id=order.expert_organization_id
        )


def _other_side(actor: Actor, organization_id: UUID):
    """A scope to write the other organization's rows in (audited), or nothing when the actor
    is that organization."""
    if actor.organization_id == organization_id:
        return nullcontext()
    return system_scope(reason="service: an expert's work status follows their service orders", actor_id=actor.user_id)


def expert_follow_orders(*, expert_id: UUID, actor: Actor, reason: str) -> None:
    """Set the expert's work status from the orders they hold: IN_SERVICE while one is being
    worked, BOOKED while one is assigned, AVAILABLE when none is open (the system's moves)."""
    with _other_side(actor, _expert_organization(expert_id)):
        expert = ExpertPassport.objects.select_for_update().get(id=expert_id)
        open_statuses = set(
            ServiceOrder.objects.filter(
                expert_id=expert_id, status__in=(ServiceOrderStatus.ASSIGNED, ServiceOrderStatus.IN_PROGRESS)
            ).values_list("status", flat=True)
        )
        if ServiceOrderStatus.IN_PROGRESS in open_statuses:
            target = WorkStatus.IN_SERVICE
        elif ServiceOrderStatus.ASSIGNED in open_statuses:
            target = WorkStatus.BOOKED
        elif expert.work_status in (WorkStatus.BOOKED, WorkStatus.IN_SERVICE):
            target = WorkStatus.AVAILABLE
        else:
            return
        expert_work_follow(expert=expert, work_status=target, actor=actor, reason=reason)


def _expert_organization(expert_id: UUID) -> UUID:
    organization_id = ExpertPassport.objects.filter(id=expert_id).values_list("organization_id", flat=True).first()
    if organization_id is None:  # not visible: only the audited scope may look
        with system_scope(reason="service: the organization of an order's expert", audit=False):
            organization_id = (
                ExpertPassport.objects.filter(id=expert_id).values_list("organization_id", flat=True).first()
            )
    return organization_id


def offers_close(order: ServiceOrder, *, outcome: str, actor: Actor, keep: UUID | None = None) -> None:
    """Close the live offers still open on the order (every match but `keep`): `outcome` is
    TAKEN (another expert accepted), WITHDRAWN (the customer assigned or cancelled it) or
    EXPIRED. Their experts are told on their live feed so their apps take the offer away."""
    open_offers = MatchingResult.objects.filter(source_id=order.id, offer_status=OfferStatus.OFFERED).exclude(id=keep)
    offered = list(open_offers.values_list("target_user_id", flat=True))
    if not offered:
        return
    open_offers.update(offer_status=outcome, responded_at=timezone.now())
    order.offers_expire_at = None
    order.save(update_fields=["offers_expire_at", "updated_at"])
    user_ids = [str(user_id) for user_id in offered if user_id]
    if user_ids:
        outbox_publish(
            ServiceOrderOfferClosed(
                **order_event_fields(order, organization_id=actor.organization_id), user_ids=user_ids, outcome=outcome
            )
        )
