"""Orders from e-commerce platforms (apps/integrations imports them): made in the status the
platform gives, then following the platform's status as it moves on.

The platform is the truth of its order's status, so following it is the system's move along
PLATFORM_FOLLOW (forward only, jumps allowed: a shop synced once a day may see an order go from
unpaid to completed), not a party's move of the order's lifecycle. Shipping it is the seller's
move (supplier side, `order_change_status`), which integrations push back to the platform."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record_many
from apps.core.errors import NotFound, ValidationFailed
from apps.core.lifecycle import Transitions
from apps.core.money import require_minor_units, round_money
from apps.core.services import numbers_take, outbox_publish_many
from apps.orders import events
from apps.orders.models import Order, OrderItem, OrderKind, OrderStatusChange
from apps.orders.models import OrderStatus as S
from apps.orders.services.orders import ItemInput, order_move
from apps.tenancy.selectors import organization_names

PREFIX = "PL"  # the order numbers' prefix of the platform kind, as order_create gives it

_FORWARD = (S.PENDING, S.CONFIRMED, S.IN_TRANSIT, S.DELIVERED, S.COMPLETED)
# Forward to any later status; cancelled until the goods move (the platform cancelling a shipped
# order is a return, handled as one, not a cancellation of ours).
PLATFORM_FOLLOW = Transitions(
    {
        **{
            status: {*_FORWARD[index + 1 :], *([S.CANCELLED] if status in (S.PENDING, S.CONFIRMED) else [])}
            for index, status in enumerate(_FORWARD)
        },
        S.CANCELLED: set(),
    },
    noun="A platform order",
    history="orders.OrderStatusChange",
)


@dataclass(frozen=True)
class PlatformOrderInput:
    organization_id: UUID
    currency: str
    items: list[ItemInput]
    total_amount: Decimal
    status: str
    shipping_address: dict
    metadata: dict


def platform_status_follows(current: str, target: str) -> bool:
    """Whether an order in `current` follows the platform to `target` (else it stays, and the
    platform's status is only recorded by integrations)."""
    return target != current and target in PLATFORM_FOLLOW.table.get(current, {})


def platform_order_check(order_input: PlatformOrderInput) -> None:
    """400 (ValidationFailed) when the order cannot be made as it is: no items, a quantity below 1,
    a negative price, amounts that do not fit the currency (JPY has no cents)."""
    if order_input.status not in (*_FORWARD, S.CANCELLED):
        raise ValidationFailed(
            f"A platform order cannot start {order_input.status!r}.", details={"status": ["Invalid."]}
        )
    if not order_input.items:
        raise ValidationFailed("An order needs at least one item.", details={"items": ["At least one item."]})
    currency = order_input.currency.upper()
    for item in order_input.items:
        if item.quantity < 1 or item.unit_price < 0:
            raise ValidationFailed(
                "Item quantities are whole numbers from 1 and prices are not negative.",
                details={"items": [f"{item.name}: quantity {item.quantity}, price {item.unit_price}."]},
            )
        require_minor_units(item.unit_price, currency, field="items")
    require_minor_units(order_input.total_amount, currency, field="total_amount")


@transaction.atomic
def platform_orders_create(*, order_inputs: list[PlatformOrderInput], reason: str) -> list[Order]:
    """Platform orders of one organization (each its client and supplier side both: the buyer is
    the platform's customer, not an organization of ours), each in the platform's status, made by
    the system: with their items, first history row, audit row and order.created, the same as
    `order_create` writes, in a few statements for the whole list (an import reads pages of
    hundreds). Each input must pass `platform_order_check` (checked again here)."""
    if not order_inputs:
        return []
    organization_ids = {order_input.organization_id for order_input in order_inputs}
    if len(organization_ids) != 1:
        raise ValueError("One organization's orders at a time.")
    organization_id = organization_ids.pop()
    for order_input in order_inputs:
        platform_order_check(order_input)
    name = organization_names(organization_ids=[organization_id])[organization_id]
    numbers = numbers_take(organization_id=organization_id, name="order", prefix=PREFIX, count=len(order_inputs))
    now = timezone.now()
    parties = {"client_organization_id": organization_id, "supplier_organization_id": organization_id}
    orders = Order.objects.bulk_create(
        Order(
            number=number,
            kind=OrderKind.PLATFORM,
            status=order_input.status,
            client_organization_name=name,
            supplier_organization_name=name,
            shipping_address=order_input.shipping_address,
            currency=order_input.currency.upper(),
            total_amount=round_money(order_input.total_amount, order_input.currency.upper()),
            metadata=order_input.metadata,
            status_changed_at=now,
            **parties,
        )
        for number, order_input in zip(numbers, order_inputs, strict=True)
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            sku=item.sku,
            name=item.name,
            quantity=item.quantity,
            unit_price=item.unit_price,
            currency=order.currency,
            **parties,
        )
        for order, order_input in zip(orders, order_inputs, strict=True)
        for item in order_input.items
    )
    OrderStatusChange.objects.bulk_create(
        OrderStatusChange(order=order, from_status="", to_status=order.status, reason=reason, **parties)
        for order in orders
    )
    audit_record_many(
        action="order.created",
        resource_type="order",
        entries=[
            (order.id, {"number": order.number, "kind": order.kind, "total": str(order.total_amount)})
            for order in orders
        ],
        organization_id=organization_id,
    )
    party_ids = [str(organization_id)]
    outbox_publish_many(
        [
            events.OrderCreated(
                organization_id=organization_id,
                order_id=str(order.id),
                number=order.number,
                kind=order.kind,
                party_organization_ids=party_ids,
                status=order.status,
            )
            for order in orders
        ]
    )
    return orders


@transaction.atomic
def platform_order_update(
    *,
    order_id: UUID,
    organization_id: UUID,
    status: str,
    reason: str,
    shipping_address: dict,
    metadata: dict,
    items: list[ItemInput],
    total_amount: Decimal,
) -> list[str]:
    """Bring a platform order in line with what the platform now says: its address, metadata,
    items and total when they changed, and its status when PLATFORM_FOLLOW allows the move (one
    history row, audit row and order.status_changed). Returns the names of what changed."""
    order = Order.objects.select_for_update().filter(pk=order_id, kind=OrderKind.PLATFORM).first()
    if order is None or organization_id != order.client_organization_id:
        raise NotFound("Order not found.")
    currency = order.currency
    for item in items:
        if item.quantity < 1 or item.unit_price < 0:
            raise ValidationFailed("Item quantities are whole numbers from 1 and prices are not negative.")
        require_minor_units(item.unit_price, currency, field="items")
    changed = []
    total_amount = round_money(total_amount, currency)
    if order.shipping_address != shipping_address:
        order.shipping_address, changed = shipping_address, [*changed, "shipping_address"]
    if order.metadata != metadata:
        order.metadata, changed = metadata, [*changed, "metadata"]
    if order.total_amount != total_amount:
        order.total_amount, changed = total_amount, [*changed, "total_amount"]
    current_items = [
        (item.sku, item.name, item.quantity, item.unit_price) for item in OrderItem.objects.filter(order=order)
    ]
    wanted_items = [(item.sku, item.name, item.quantity, round_money(item.unit_price, currency)) for item in items]
    if current_items != wanted_items:
        OrderItem.objects.filter(order=order).delete()
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                client_organization_id=order.client_organization_id,
                supplier_organization_id=order.supplier_organization_id,
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                unit_price=item.unit_price,
                currency=currency,
            )
            for item in items
        )
        changed.append("items")
    if changed:
        order.updated_at = timezone.now()
        order.save(update_fields=["shipping_address", "metadata", "total_amount", "updated_at"])
    if platform_status_follows(order.status, status):
        order_move(
            order,
            status=status,
            actor=Actor.system(organization_id=organization_id),
            acting_organization_id=organization_id,
            note=reason,
            transitions=PLATFORM_FOLLOW,
        )
        changed.append("status")
    return changed
