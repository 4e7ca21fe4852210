"""Reads of the orders context. Row-level security already limits rows to orders where
the current organization is a party; these shape the querysets for their serializers."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.core.errors import NotFound
from apps.orders.models import Order, OrderReturn, OrderStatusChange, Package, UnmatchedArrival, Warehouse

# Roles that see and work only at the warehouses they are assigned to (django-guardian).
WAREHOUSE_BOUND_ROLES = {"warehouse_staff"}


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


def warehouse_list(*, organization_id: UUID, user=None, role: str = "") -> QuerySet[Warehouse]:
    """The organization's warehouses; for warehouse staff only those they are assigned to.

    Guardian's grants have no organization column: they are intersected with this
    RLS-filtered queryset, so a grant can never reveal another tenant's warehouse."""
    queryset = Warehouse.objects.filter(organization_id=organization_id).order_by("name")
    if role in WAREHOUSE_BOUND_ROLES:
        queryset = get_objects_for_user(
            user,
            "orders.work_at_warehouse",
            klass=queryset,
            use_groups=False,
            with_superuser=False,
            accept_global_perms=False,
        )
    return queryset


def warehouse_get(*, organization_id: UUID, warehouse_id: UUID, user=None, role: str = "") -> Warehouse:
    """One warehouse the user may see; 404 for another tenant's or an unassigned one."""
    warehouse = warehouse_list(organization_id=organization_id, user=user, role=role).filter(pk=warehouse_id).first()
    if warehouse is None:
        raise NotFound("Warehouse not found.")
    return warehouse


def package_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[Package]:
    """Packages of the organization's orders, either side (a customer: their orders' only)."""
    queryset = (
        Package.objects.filter(Q(client_organization_id=organization_id) | Q(supplier_organization_id=organization_id))
        .select_related("order")
        .only(
            "id",
            "tracking_number",
            "weight_g",
            "length_cm",
            "width_cm",
            "height_cm",
            "status",
            "current_warehouse_id",
            "received_at",
            "estimated_delivery_at",
            "delivered_at",
            "order__id",
            "order__number",
            "order__kind",
        )
        .order_by("-received_at", "-id")
    )
    if customer_id is not None:
        queryset = queryset.filter(order__customer_id=customer_id)
    return queryset


def package_get(*, organization_id: UUID, package_id: UUID, customer_id: UUID | None = None) -> Package:
    package = package_list(organization_id=organization_id, customer_id=customer_id).filter(pk=package_id).first()
    if package is None:
        raise NotFound("Package not found.")
    return package


def unmatched_arrival_list(*, organization_id: UUID) -> QuerySet[UnmatchedArrival]:
    return UnmatchedArrival.objects.filter(organization_id=organization_id, resolved_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def return_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[OrderReturn]:
    """Returns of the organization's orders, either side (a customer: their orders' only)."""
    queryset = (
        OrderReturn.objects.filter(
            Q(client_organization_id=organization_id) | Q(supplier_organization_id=organization_id)
        )
        .select_related("order")
        .prefetch_related("items", "photos")
        .order_by("-created_at", "-id")
    )
    if customer_id is not None:
        queryset = queryset.filter(order__customer_id=customer_id)
    return queryset


def return_get(*, organization_id: UUID, return_id: UUID, customer_id: UUID | None = None) -> OrderReturn:
    order_return = return_list(organization_id=organization_id, customer_id=customer_id).filter(pk=return_id).first()
    if order_return is None:
        raise NotFound("Return not found.")
    return order_return
