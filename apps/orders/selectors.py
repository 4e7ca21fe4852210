"""Reads of the orders context. Row-level security already limits rows to orders where
the current organization is a party; these shape the querysets for their serializers."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from apps.core.context import current_user_id
from apps.core.errors import NotFound, PermissionDenied
from apps.orders import shipment_schema
from apps.orders.models import (
    Order,
    OrderReturn,
    OrderStatusChange,
    Package,
    Shipment,
    ShipmentAmendment,
    UnmatchedArrival,
    Warehouse,
)
from apps.tenancy.roles import Actor, Grant, actor_grant
from apps.tenancy.selectors import active_memberships_of

# Roles that see and work only at the warehouses they are assigned to (django-guardian).
WAREHOUSE_BOUND_ROLES = {"warehouse_staff"}


@dataclass(frozen=True)
class OrderScope:
    """The orders one member may see: every order of which the organization is a party, or,
    for a role that reads orders only `:own`, those the user is the customer of.

    Everything that hangs from an order (escrows and their ledger lines, documents, returns,
    packages) is visible only as far as its order is: the contexts that own those rows filter
    them with `rows_of`, and check one order with `order_in_scope`."""

    organization_id: UUID
    customer_id: UUID | None = None  # None: no limit beyond the organization's own (row-level security)

    def rows_of(self, order_path: str) -> Q:
        """The filter for rows that reach their order through `order_path` ("order",
        "escrow__order"); rows with no order at all pass only a scope without limit."""
        if self.customer_id is None:
            return Q()
        return Q(**{f"{order_path}__customer_id": self.customer_id})


def order_scope(*, actor: Actor, permission: str = "order:read") -> OrderScope:
    """The orders `actor` may reach with `permission`, a permission on orders or on something
    that hangs from one (`escrow:release`, `document:read`, ...).

    The reach is the narrower of the role's `order:read` and `permission`: an `:own` grant
    on either limits it to the user's own orders. A role that holds `permission` but cannot
    read orders at all reaches none (RBAC_PERMISSION_DENIED): a child is never wider than its parent."""
    reach = actor_grant(actor, "order:read")
    if permission != "order:read":
        reach = min(reach, actor_grant(actor, permission), key=lambda grant: grant.value)
    if reach is Grant.NONE:
        raise PermissionDenied(f"Your role does not allow order:read, which {permission} depends on.")
    return OrderScope(organization_id=actor.organization_id, customer_id=actor.user_id if reach is Grant.OWN else None)


def order_in_scope(*, scope: OrderScope, order_id: UUID) -> None:
    """NOT_FOUND unless the order is within `scope`. The caller has already found the order
    (or its child) through row-level security, so only the `:own` limit is left to check."""
    if scope.customer_id is None:
        return
    if not Order.objects.filter(pk=order_id, customer_id=scope.customer_id).exists():
        raise NotFound("Order not found.")


def order_list(*, organization_id: UUID, customer_id: UUID | None = None) -> QuerySet[Order]:
    """The organization's orders, either side; only one customer's with `customer_id` (`:own` grants)."""
    queryset = (
        Order.objects.visible_to(organization_id)
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


def order_payment_status(*, order_id: UUID) -> str | None:
    """How the order is paid (PaymentStatus), as the current tenant sees it; None if it cannot."""
    return Order.objects.filter(pk=order_id).values_list("payment_status", flat=True).first()


def order_get(*, organization_id: UUID, order_id: UUID, customer_id: UUID | None = None) -> Order:
    queryset = Order.objects.visible_to(organization_id).filter(pk=order_id)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    # No join to the parties' organization rows: row-level security hides the other party's.
    order = queryset.prefetch_related("items").first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def organizations_have_traded(*, organization_id: UUID, other_organization_id: UUID) -> bool:
    """Whether an order joins the two organizations, either way round (a deal exists between them)."""
    if organization_id == other_organization_id:
        return False
    return Order.objects.visible_to(organization_id).visible_to(other_organization_id).exists()


def order_history(*, order: Order) -> QuerySet[OrderStatusChange]:
    return OrderStatusChange.objects.filter(order=order).order_by("at", "id")


def shipment_get(*, organization_id: UUID, order_id: UUID, customer_id: UUID | None = None) -> Shipment:
    """The shipment of an order the organization is a party of, with the order's status and its
    amendments in order; 404 for any other order, or one without a shipment."""
    queryset = (
        Shipment.objects.visible_to(organization_id)
        .filter(order_id=order_id)
        .select_related("order")
        .only("order__status", "order__number", *(field.attname for field in Shipment._meta.concrete_fields))
        .prefetch_related(Prefetch("amendments", queryset=ShipmentAmendment.objects.order_by("amended_at", "id")))
    )
    if customer_id is not None:
        queryset = queryset.filter(order__customer_id=customer_id)
    shipment = queryset.first()
    if shipment is None:
        raise NotFound("Shipment not found.")
    return shipment


def shipment_missing(shipment: Shipment) -> list[dict]:
    """What the shipment lacks before its goods may be taken over: [{field, reason}]."""
    return shipment_schema.shipment_missing(shipment)


def shipment_delivery_missing(shipment: Shipment) -> list[dict]:
    """What a proof of delivery needs beyond a complete shipment: [{field, reason}]."""
    return shipment_schema.delivery_missing(shipment)


def shipment_fields_refused_to_shipper(data: dict) -> dict:
    """The keys of `data` the shipper may not say (the carrier's part), each with why."""
    return shipment_schema.fields_refused_to_shipper(data)


def shipment_find(*, organization_id: UUID, order_id: UUID) -> Shipment | None:
    """The order's shipment as a party reads it, or None (only a freight order has one). For
    the documents filled from it."""
    return Shipment.objects.visible_to(organization_id).filter(order_id=order_id).first()


def warehouse_list(*, organization_id: UUID, user=None, role: str = "") -> QuerySet[Warehouse]:
    """The organization's warehouses; for warehouse staff only those they are assigned to.

    Guardian's grants have no organization column: they are intersected with this
    RLS-filtered queryset, so a grant can never reveal another tenant's warehouse."""
    queryset = Warehouse.objects.filter(organization_id=organization_id).order_by("name", "id")
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
        Package.objects.visible_to(organization_id)
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
            "current_location",
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


def package_for_tracking(*, organization_id: UUID, package_id: UUID) -> Package:
    """A package as tracking copies it: its number, status, parties, the warehouse that holds
    (or last held) it and its order's shipping address; 404 for one of another organization."""
    package = (
        Package.objects.visible_to(organization_id)
        .filter(pk=package_id)
        .select_related("current_warehouse", "order")
        .only(
            "id",
            "tracking_number",
            "status",
            "client_organization_id",
            "supplier_organization_id",
            "estimated_delivery_at",
            "current_location",
            "current_warehouse__name",
            "current_warehouse__city",
            "current_warehouse__country",
            "order__id",
            "order__shipping_address",
        )
    )
    # One row by its key: read whole, not sliced (a sliced two-party read becomes a UNION,
    # which cannot carry the joins).
    package = next(iter(package), None)
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
        OrderReturn.objects.visible_to(organization_id)
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


# --- The live feed: who may listen to `order.<id>` and `package.<id>` -----------------------


def _live_order_scope(organization_id: UUID) -> OrderScope | None:
    """The orders the socket's member reaches with `tracking:read` (what the feed carries), or
    None when their role reaches none. The consumer runs the check in the member's scope."""
    user_id = current_user_id()
    if user_id is None:
        return None
    membership = next((m for m in active_memberships_of(user_id=user_id) if m.organization_id == organization_id), None)
    if membership is None:
        return None
    try:
        return order_scope(actor=Actor.of(membership, user_id=user_id), permission="tracking:read")
    except PermissionDenied:
        return None


def _resource_uuid(resource_id: str) -> UUID | None:
    try:
        return UUID(resource_id)
    except (TypeError, ValueError, AttributeError):
        return None


def live_order_may_listen(organization_id: UUID, resource_id: str) -> bool:
    """Whether the socket's member may listen to `order.<resource_id>`: the organization is a
    party of the order (row-level security) and, for an `:own` grant, the user its customer."""
    order_id, scope = _resource_uuid(resource_id), _live_order_scope(organization_id)
    if order_id is None or scope is None:
        return False
    queryset = Order.objects.visible_to(organization_id).filter(pk=order_id)
    if scope.customer_id is not None:
        queryset = queryset.filter(customer_id=scope.customer_id)
    return queryset.exists()


def live_package_may_listen(organization_id: UUID, resource_id: str) -> bool:
    """Whether the socket's member may listen to `package.<resource_id>`: as far as its order."""
    package_id, scope = _resource_uuid(resource_id), _live_order_scope(organization_id)
    if package_id is None or scope is None:
        return False
    queryset = Package.objects.visible_to(organization_id).filter(pk=package_id)
    if scope.customer_id is not None:
        queryset = queryset.filter(order__customer_id=scope.customer_id)
    return queryset.exists()


# --- Evidence of a dispute: what one photo of a return of an order showed -------------------


def return_photo_of_order(*, organization_id: UUID | None, order_id: UUID, photo_id: UUID) -> dict | None:
    """What a photo of a return of the order is (a plain summary: its file and its return), or
    None when it is not a photo of a return of that order, or not one the organization sees.
    `organization_id` None: platform staff (their scope decides)."""
    from apps.orders.models import ReturnPhoto

    photos = ReturnPhoto.objects.filter(pk=photo_id, order_return__order_id=order_id).select_related("order_return")
    if organization_id is not None:
        photos = photos.visible_to(organization_id)
    photo = photos.first()
    if photo is None:
        return None
    order_return = photo.order_return
    return {
        "filename": photo.original_filename,
        "content_type": photo.content_type,
        "size_bytes": photo.size_bytes,
        "sha256": photo.sha256,
        "taken_at": photo.created_at.isoformat(),
        "return_id": str(order_return.id),
        "return_status": order_return.status,
        "return_reason": order_return.reason[:500],
        "return_requested_at": order_return.created_at.isoformat(),
    }
