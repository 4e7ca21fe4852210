"""Reads of the orders context. Row-level security already limits rows to orders where
the current organization is a party; these shape the querysets for their serializers."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.orders.models import Order, OrderStatusChange, Warehouse


def order_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[Order]:
    """The organization's orders, either side; only one customer's with `customer_id` (`:own` grants)."""
    queryset = (
        Order.objects.filter(Q(client_organization_id=organization_id) | Q(supplier_organization_id=organization_id))
        .only(
            "id",
            "number",
            "kind",
            "status",
            "payment_status",
            "currency",
            "total_amount",
            "created_at",
            "status_changed_at",
            "client_organization_id",
            "client_organization_name",
            "supplier_organization_id",
            "supplier_organization_name",
        )
        .order_by("-created_at", "-id")
    )
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset


def order_get(*, organization_id: UUID, order_id: UUID, customer_id: UUID | None = None) -> Order:
    queryset = Order.objects.filter(
        Q(client_organization_id=organization_id) | Q(supplier_organization_id=organization_id), pk=order_id
    )
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    # No join to the parties' organization rows: row-level security hides the other party's.
    order = queryset.prefetch_related("items").first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_history(*, order: Order) -> QuerySet[OrderStatusChange]:
    return OrderStatusChange.objects.filter(order=order).order_by("created_at", "id")


def warehouse_list(*, organization_id: UUID) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(organization_id=organization_id).order_by("name")


def warehouse_get(*, organization_id: UUID, warehouse_id: UUID) -> Warehouse:
    warehouse = Warehouse.objects.filter(organization_id=organization_id, pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound("Warehouse not found.")
    return warehouse
