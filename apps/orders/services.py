"""Writes of the orders context: creating orders, moving them through their lifecycle,
warehouses. Other contexts (marketplace awards, e-commerce imports) create orders
through `order_create`."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.context import current_organization_id
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.orders import events
from apps.orders.models import (
    Order,
    OrderItem,
    OrderKind,
    OrderNumberSequence,
    OrderStatus,
    OrderStatusChange,
    Warehouse,
)
from apps.orders.transitions import CLIENT, SUPPLIER, move_for
from apps.tenancy.roles import Grant, grant_for
from apps.tenancy.selectors import organization_names
from apps.tenancy.services import audit_record

CENT = Decimal("0.01")
FIRST_STATUS = {OrderKind.ASSISTED_PURCHASE: OrderStatus.REQUESTED}


@dataclass(frozen=True)
class Actor:
    """Who acts: the user, the organization they act for, and their role there."""

    user_id: UUID
    organization_id: UUID
    role: str
    extra_permissions: tuple[str, ...] = ()


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


def _next_number(organization_id: UUID, prefix: str) -> str:
    """The next number of the organization this year: PREFIX-YYYY-000001 (unique, locked)."""
    year = timezone.now().year
    sequence, _ = OrderNumberSequence.objects.select_for_update().get_or_create(
        organization_id=organization_id, year=year
    )
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{prefix}-{year}-{sequence.last_value:06d}"


def _prefix(order_input: OrderInput) -> str:
    return {
        OrderKind.FREIGHT: "FR",
        OrderKind.ASSISTED_PURCHASE: "AP",
        OrderKind.SELF_PURCHASE: "SP",
        OrderKind.PLATFORM: "PL",
    }[order_input.kind]


def _publish(order: Order, event, *, acting_organization_id: UUID | None) -> None:
    """One outbox row, owned by the acting organization (the only one row-level security
    lets this transaction write for); the payload names both parties, and subscribers
    (the live feed) tell each of them."""
    outbox_publish(event(acting_organization_id or current_organization_id() or order.client_organization_id))


@transaction.atomic
def order_create(*, order_input: OrderInput, created_by_id: UUID | None, note: str = "") -> Order:
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
    total = sum((item.unit_price * item.quantity for item in order_input.items), Decimal(0))
    names = organization_names(
        organization_ids=[order_input.client_organization_id, order_input.supplier_organization_id]
    )
    order = Order.objects.create(
        client_organization_name=names[order_input.client_organization_id],
        supplier_organization_name=names[order_input.supplier_organization_id],
        number=_next_number(order_input.client_organization_id, _prefix(order_input)),
        kind=order_input.kind,
        status=FIRST_STATUS.get(order_input.kind, OrderStatus.DRAFT),
        client_organization_id=order_input.client_organization_id,
        supplier_organization_id=order_input.supplier_organization_id,
        customer_id=order_input.customer_id,
        created_by_id=created_by_id,
        source_warehouse_id=order_input.source_warehouse_id,
        destination_warehouse_id=order_input.destination_warehouse_id,
        shipping_address=order_input.shipping_address,
        currency=currency,
        total_amount=total.quantize(CENT, rounding=ROUND_HALF_EVEN),
        metadata=order_input.metadata,
        status_changed_at=timezone.now(),
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
    OrderStatusChange.objects.create(order=order, to_status=order.status, actor_id=created_by_id, note=note, **parties)
    audit_record(
        action="order.created",
        resource_type="order",
        resource_id=order.id,
        new_values={"number": order.number, "kind": order.kind, "total": str(order.total_amount)},
        organization_id=order.client_organization_id,
        actor_id=created_by_id,
    )
    _publish(
        order,
        lambda organization_id: events.OrderCreated(
            organization_id=organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=_parties(order),
            status=order.status,
        ),
        acting_organization_id=None,
    )
    return order


def _parties(order: Order) -> list[str]:
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
    if not acting_sides:
        raise NotFound("Order not found.")  # not a party: as if it did not exist
    if not acting_sides & sides:
        raise PermissionDenied(f"Only the {' or '.join(sorted(sides))} organization may do this.")
    grant = grant_for(actor.role, actor.extra_permissions, permission)
    if grant is Grant.NONE or (grant is Grant.OWN and order.customer_id != actor.user_id):
        raise PermissionDenied(f"Your role does not allow {permission} on this order.")


@transaction.atomic
def order_change_status(*, order_id: UUID, actor: Actor, status: str, note: str = "") -> Order:
    """Move an order to `status` if its lifecycle allows it and the actor may; history and
    the order.status_changed event are written in the same transaction."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.")
    if not _sides_of(order, actor.organization_id):
        raise NotFound("Order not found.")
    move = move_for(order.kind, order.status, status)
    _check_actor(order, actor, sides=move.sides, permission=move.permission)
    previous = order.status
    order.status = status
    order.status_changed_at = timezone.now()
    if status == OrderStatus.CANCELLED:
        order.cancellation_reason = note
    order.save(update_fields=["status", "status_changed_at", "cancellation_reason", "updated_at"])
    OrderStatusChange.objects.create(
        order=order,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        from_status=previous,
        to_status=status,
        actor_id=actor.user_id,
        acting_organization_id=actor.organization_id,
        note=note,
    )
    audit_record(
        action="order.status_changed",
        resource_type="order",
        resource_id=order.id,
        old_values={"status": previous},
        new_values={"status": status, "note": note},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    _publish(
        order,
        lambda organization_id: events.OrderStatusChanged(
            organization_id=organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=_parties(order),
            from_status=previous,
            to_status=status,
            note=note,
        ),
        acting_organization_id=actor.organization_id,
    )
    return order


def order_cancel(*, order_id: UUID, actor: Actor, reason: str) -> Order:
    """Cancel an order (a reason is required); 422 ORDER_CANNOT_BE_CANCELLED once it moves."""
    if not reason.strip():
        raise ValidationFailed("Say why the order is cancelled.", details={"reason": ["Required."]})
    return order_change_status(order_id=order_id, actor=actor, status=OrderStatus.CANCELLED, note=reason.strip())


# --- Warehouses ------------------------------------------------------------------------------

WAREHOUSE_FIELDS = (
    "name",
    "code",
    "country",
    "city",
    "address_line1",
    "address_line2",
    "postal_code",
    "contact_name",
    "contact_phone",
    "contact_email",
    "timezone",
    "is_active",
)


@transaction.atomic
def warehouse_create(*, organization_id: UUID, actor_id: UUID, data: dict) -> Warehouse:
    if Warehouse.objects.filter(organization_id=organization_id, code=data.get("code")).exists():
        raise ValidationFailed("A warehouse with this code exists already.", details={"code": ["Already used."]})
    warehouse = Warehouse(organization_id=organization_id, **{k: v for k, v in data.items() if k in WAREHOUSE_FIELDS})
    warehouse.full_clean()
    warehouse.save()
    audit_record(
        action="warehouse.created",
        resource_type="warehouse",
        resource_id=warehouse.id,
        new_values={"name": warehouse.name, "code": warehouse.code},
        organization_id=organization_id,
        actor_id=actor_id,
    )
    return warehouse


@transaction.atomic
def warehouse_update(*, warehouse: Warehouse, actor_id: UUID, data: dict) -> Warehouse:
    changed = {k: v for k, v in data.items() if k in WAREHOUSE_FIELDS and getattr(warehouse, k) != v}
    if not changed:
        return warehouse
    old = {k: getattr(warehouse, k) for k in changed}
    for key, value in changed.items():
        setattr(warehouse, key, value)
    warehouse.full_clean()
    warehouse.save()
    audit_record(
        action="warehouse.updated",
        resource_type="warehouse",
        resource_id=warehouse.id,
        old_values=old,
        new_values=changed,
        organization_id=warehouse.organization_id,
        actor_id=actor_id,
    )
    return warehouse
