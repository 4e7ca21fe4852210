"""Writes of the orders context: creating orders and moving them through their lifecycle.
Other contexts (marketplace awards, e-commerce imports) create orders
through `order_create`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import Transitions, history_record, move
from apps.core.money import require_minor_units, round_money
from apps.core.services import number_next, outbox_publish
from apps.orders import events
from apps.orders.models import (
    Order,
    OrderItem,
    OrderKind,
    OrderStatus,
    PaymentStatus,
)
from apps.orders.selectors import order_scope
from apps.orders.shipment_models import Shipment
from apps.orders.shipment_schema import shipment_missing, shipment_values
from apps.orders.transitions import CLIENT, ORDER, SUPPLIER
from apps.tenancy.roles import Actor, Grant, grant_for
from apps.tenancy.selectors import organization_names

FIRST_STATUS = {OrderKind.ASSISTED_PURCHASE: OrderStatus.REQUESTED, OrderKind.SERVICE: OrderStatus.CONFIRMED}


@dataclass(frozen=True)
class ItemInput:
    name: str
    quantity: int
    unit_price: Decimal
    sku: str = ""


@dataclass(frozen=True)
class OrderInput:
    kind: str
    client_organization_id: UUID
    supplier_organization_id: UUID
    currency: str
    items: list[ItemInput] = field(default_factory=list)
    customer_id: UUID | None = None
    shipping_address: dict = field(default_factory=dict)
    source_warehouse_id: UUID | None = None
    destination_warehouse_id: UUID | None = None
    metadata: dict = field(default_factory=dict)
    # A freight order's shipment (apps/orders/shipment_schema.py), as far as it is known: every
    # freight order has one from the start, the rest filled in by each party.
    shipment: dict | None = None
    # Parcel forwarding.
    product_id: UUID | None = None
    purchase_agent_id: UUID | None = None
    external_tracking_number: str = ""
    declared_value: Decimal | None = None


def _prefix(order_input: OrderInput) -> str:
    return {
        OrderKind.FREIGHT: "FR",
        OrderKind.ASSISTED_PURCHASE: "AP",
        OrderKind.SELF_PURCHASE: "SP",
        OrderKind.PLATFORM: "PL",
        OrderKind.SERVICE: "SV",
    }[order_input.kind]


def _order_event_publish(order: Order, event, *, acting_organization_id: UUID | None) -> None:
    """One outbox row, owned by the acting organization (the only one row-level security
    lets this transaction write for); the payload names both parties, and subscribers
    (the live feed) tell each of them."""
    outbox_publish(event(acting_organization_id or current_organization_id() or order.client_organization_id))


@transaction.atomic
def order_create(*, actor: Actor, order_input: OrderInput, note: str = "") -> Order:
    """Create an order with its items and the first history row; published as order.created."""
    if not order_input.items:
        raise ValidationFailed("An order needs at least one item.", details={"items": ["At least one item."]})
    currency = order_input.currency.upper()
    for item in order_input.items:
        if item.quantity < 1 or item.unit_price < 0:
            raise ValidationFailed(
                "Item quantities are whole numbers from 1 and prices are not negative.",
                details={"items": [f"{item.name}: quantity {item.quantity}, price {item.unit_price}."]},
            )
        # An order its escrow would refuse is never made (JPY has no cents).
        require_minor_units(item.unit_price, currency, field="items")
    tracking_number = order_input.external_tracking_number
    if (
        tracking_number
        and Order.objects.filter(
            supplier_organization_id=order_input.supplier_organization_id, external_tracking_number=tracking_number
        ).exists()
    ):
        raise ValidationFailed(
            "Another order already expects a parcel with this tracking number.",
            details={"tracking_number": ["Already used by another order."]},
        )
    total = sum((item.unit_price * item.quantity for item in order_input.items), Decimal(0))
    names = organization_names(
        organization_ids=[order_input.client_organization_id, order_input.supplier_organization_id]
    )
    order = Order.objects.create(
        client_organization_name=names[order_input.client_organization_id],
        supplier_organization_name=names[order_input.supplier_organization_id],
        number=number_next(
            organization_id=order_input.client_organization_id, name="order", prefix=_prefix(order_input)
        ),
        kind=order_input.kind,
        status=FIRST_STATUS.get(order_input.kind, OrderStatus.DRAFT),
        client_organization_id=order_input.client_organization_id,
        supplier_organization_id=order_input.supplier_organization_id,
        customer_id=order_input.customer_id,
        created_by_id=actor.user_id,
        source_warehouse_id=order_input.source_warehouse_id,
        destination_warehouse_id=order_input.destination_warehouse_id,
        shipping_address=order_input.shipping_address,
        currency=currency,
        total_amount=round_money(total, currency),
        metadata=order_input.metadata,
        status_changed_at=timezone.now(),
        product_id=order_input.product_id,
        purchase_agent_id=order_input.purchase_agent_id,
        external_tracking_number=order_input.external_tracking_number,
        declared_value=order_input.declared_value,
    )
    parties = {
        "client_organization_id": order.client_organization_id,
        "supplier_organization_id": order.supplier_organization_id,
    }
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            sku=item.sku,
            name=item.name,
            quantity=item.quantity,
            unit_price=item.unit_price,
            currency=currency,
            **parties,
        )
        for item in order_input.items
    )
    if order.kind == OrderKind.FREIGHT:
        _shipment_create(order, order_input.shipment or {})
    elif order_input.shipment is not None:
        raise ValidationFailed("Only a freight order has a shipment.", details={"shipment": ["Not a freight order."]})
    history_record(
        order,
        transitions=ORDER[order.kind],
        from_status="",
        to_status=order.status,
        actor=actor,
        reason=note,
    )
    audit_record(
        action="order.created",
        resource_type="order",
        resource_id=order.id,
        new_values={"number": order.number, "kind": order.kind, "total": str(order.total_amount)},
        organization_id=order.client_organization_id,
        actor_id=actor.user_id,
    )
    _order_event_publish(
        order,
        lambda organization_id: events.OrderCreated(
            organization_id=organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=_parties_of(order),
            status=order.status,
        ),
        acting_organization_id=None,
    )
    return order


def _parties_of(order: Order) -> list[str]:
    return sorted({str(order.client_organization_id), str(order.supplier_organization_id)})


def _sides_of(order: Order, organization_id: UUID) -> set[str]:
    sides = set()
    if order.client_organization_id == organization_id:
        sides.add(CLIENT)
    if order.supplier_organization_id == organization_id:
        sides.add(SUPPLIER)
    return sides


def _check_actor(order: Order, actor: Actor, *, sides: frozenset[str], permission: str) -> None:
    acting_sides = _sides_of(order, actor.organization_id)
    scope = order_scope(actor=actor)
    if not acting_sides or scope.customer_id not in (None, order.customer_id):
        raise NotFound("Order not found.")  # not a party, or beyond an `:own` reach: as if it did not exist
    if not acting_sides & sides:
        raise PermissionDenied(f"Only the {' or '.join(sorted(sides))} organization may do this.")
    grant = grant_for(actor.role, actor.extra_permissions, permission)
    if grant is Grant.NONE or (grant is Grant.OWN and order.customer_id != actor.user_id):
        raise PermissionDenied(f"Your role does not allow {permission} on this order.")


def order_move(
    order: Order,
    *,
    status: str,
    actor: Actor,
    acting_organization_id: UUID,
    note: str,
    transitions: Transitions | None = None,
) -> None:
    """Move a locked order whose actor the caller has checked (side and permission) through
    `transitions` (the order's lifecycle by default, or the warehouse's receiving table):
    the order, its history row, the audit row and order.status_changed, in one transaction."""
    previous = order.status
    order.status_changed_at = timezone.now()
    if status == OrderStatus.CANCELLED:
        order.cancellation_reason = note
    move(
        order,
        status,
        transitions=transitions or ORDER[order.kind],
        actor=actor,
        reason=note,
        save=["status_changed_at", "cancellation_reason", "updated_at"],
        history={"acting_organization_id": acting_organization_id},
        audit={
            "action": "order.status_changed",
            "resource_type": "order",
            "new_values": {"status": status, "note": note},
            "organization_id": acting_organization_id,
        },
        # Owned by the acting organization, like every order event (see _order_event_publish).
        event=lambda: events.OrderStatusChanged(
            organization_id=acting_organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=_parties_of(order),
            from_status=previous,
            to_status=status,
            note=note,
        ),
    )


@transaction.atomic
def order_change_status(*, order_id: UUID, actor: Actor, status: str, note: str = "") -> Order:
    """Move an order to `status` if its lifecycle allows it and the actor may; history and
    the order.status_changed event are written in the same transaction."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.")
    if not _sides_of(order, actor.organization_id):
        raise NotFound("Order not found.")
    rule = ORDER[order.kind].check(order.status, status)
    _check_actor(order, actor, sides=rule.sides, permission=rule.permission)
    if order.kind == OrderKind.FREIGHT and status == OrderStatus.IN_TRANSIT:
        _require_complete_shipment(order)
    if order.kind == OrderKind.FREIGHT and status == OrderStatus.DELIVERED:
        # The carrier declares the delivery: its time, unless the carrier said it already.
        Shipment.objects.filter(order=order, delivered_at__isnull=True).update(delivered_at=timezone.now())
    order_move(order, status=status, actor=actor, acting_organization_id=actor.organization_id, note=note)
    return order


class ShipmentIncomplete(DomainError):
    status_code = 422
    code = ErrorCode.INVALID_STATE_TRANSITION


def _shipment_create(order: Order, data: dict) -> Shipment:
    values, errors = shipment_values(data)
    if errors:
        raise ValidationFailed("The shipment has invalid values.", details={"shipment": errors})
    return Shipment.objects.create(
        order=order,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        **values,
    )


def _require_complete_shipment(order: Order) -> None:
    """422 with the missing fields, each with why, unless the order's shipment is complete
    (every freight order has one: made with the order, or by orders migration 0009)."""
    shipment = Shipment.objects.filter(order=order).first() or Shipment()
    missing = shipment_missing(shipment)
    if missing:
        raise ShipmentIncomplete(
            f"The shipment lacks {len(missing)} value(s) the goods cannot be taken over without.",
            details={"missing": missing},
        )


def order_cancel(*, order_id: UUID, actor: Actor, reason: str) -> Order:
    """Cancel an order (a reason is required); 422 ORDER_CANNOT_BE_CANCELLED once it moves."""
    if not reason.strip():
        raise ValidationFailed("Say why the order is cancelled.", details={"reason": ["Required."]})
    return order_change_status(order_id=order_id, actor=actor, status=OrderStatus.CANCELLED, note=reason.strip())


@transaction.atomic
def order_cancel_by_system(*, order_id: UUID, reason: str) -> Order:
    """Cancel an order a beat job gives up on (a booking its carrier left unanswered), for the
    current organization, which must be a party: recorded as the system, no member's permission
    checked. An order already cancelled is returned as it is; 422 once the goods move."""
    return order_move_by_system(
        order_id=order_id, status=OrderStatus.CANCELLED, reason=reason, acting_organization_id=current_organization_id()
    )


@transaction.atomic
def order_move_by_system(*, order_id: UUID, status: str, reason: str, acting_organization_id: UUID) -> Order:
    """Move an order as the system for `acting_organization_id`, which must be a party (a
    cancelled booking; a field-service order following its service order): the lifecycle is
    checked, no member's permission. An order already there is returned as it is."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not _sides_of(order, acting_organization_id):
        raise NotFound("Order not found.")
    if order.status == status:
        return order
    order_move(
        order,
        status=status,
        actor=Actor.system(organization_id=acting_organization_id),
        acting_organization_id=acting_organization_id,
        note=reason,
    )
    return order


@transaction.atomic(savepoint=False)  # one UPDATE, always inside the caller's use case
def order_set_payment_status(*, order_id: UUID, payment_status: str) -> None:
    """Record how the order is paid (the escrow context tells it: pending, paid, refunded)."""
    if payment_status not in PaymentStatus.values:
        raise ValueError(f"Unknown payment status {payment_status!r}")
    Order.objects.filter(pk=order_id).exclude(payment_status=payment_status).update(
        payment_status=payment_status, updated_at=timezone.now()
    )
