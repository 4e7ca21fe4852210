"""A priced service order paid through escrow (when the customer organization has escrow on).

When an expert takes a priced order, a payment order is made between the two organizations
(apps.orders, kind "service", one line: the work at its price). The customer opens and funds its
escrow through the escrow API like any order's; the expert starts the work only once it is paid.
Completing the work delivers the payment order (the escrow's release clock starts; the customer
may release at once by completing it); an order given back or cancelled cancels it (the escrow
context closes or refunds its escrow as for any cancelled order)."""

from __future__ import annotations

from uuid import UUID

from apps.core.actors import Actor
from apps.core.errors import InvalidStateTransition
from apps.service.models import ServiceOrder


def payment_required(order: ServiceOrder) -> bool:
    """A price above zero, and the customer organization has escrow on."""
    from apps.tenancy.selectors import feature_is_active

    return bool(order.price) and feature_is_active(organization_id=order.organization_id, name="escrow")


def payment_order_open(order: ServiceOrder, *, actor: Actor) -> None:
    """Make the payment order of a priced order its expert has just taken (in the caller's
    transaction, which may write for either party)."""
    from apps.orders.services import ItemInput, OrderInput, order_create

    if order.payment_order_id or not payment_required(order):
        return
    payment = order_create(
        actor=actor,
        order_input=OrderInput(
            kind="service",
            client_organization_id=order.organization_id,
            supplier_organization_id=order.expert_organization_id,
            currency=order.currency,
            items=[ItemInput(name=f"{order.number}: {order.title}"[:200], quantity=1, unit_price=order.price)],
            customer_id=order.customer_id,
            metadata={"service_order_id": str(order.id), "service_order_number": order.number},
        ),
        note=f"The payment of service order {order.number}.",
    )
    order.payment_order_id = payment.id
    order.payment_order_number = payment.number
    order.save(update_fields=["payment_order_id", "payment_order_number", "updated_at"])


def payment_required_before_start(order: ServiceOrder) -> None:
    """422 while the payment order is not paid into escrow (nothing to wait for otherwise)."""
    from apps.orders.selectors import order_payment_status

    if not order.payment_order_id:
        return
    status = order_payment_status(order_id=order.payment_order_id)
    if status != "paid":
        raise InvalidStateTransition(
            "The work starts once the customer has paid it into escrow.",
            details={"payment_order": [f"Order {order.payment_order_number} is {status or 'unknown'}."]},
        )


def payment_order_follow(order: ServiceOrder, *, status: str, reason: str, acting_organization_id: UUID) -> None:
    """Move the payment order with its service order: delivered when the work is completed,
    cancelled when the order is given back or cancelled (then it is forgotten: a new expert
    gets a new one)."""
    from apps.orders.services import order_move_by_system

    if not order.payment_order_id:
        return
    order_move_by_system(
        order_id=order.payment_order_id, status=status, reason=reason, acting_organization_id=acting_organization_id
    )
    if status == "cancelled":
        order.payment_order_id = None
        order.payment_order_number = ""
        order.save(update_fields=["payment_order_id", "payment_order_number", "updated_at"])
