"""Packages on the move: a parcel leaves the forwarder's warehouse (in transit), goes out for
delivery and is delivered (transitions.PACKAGE), each move with its history row, audit row
and `package.status_changed` to both parties; where it was last said to be is kept on it."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.errors import NotFound, PermissionDenied
from apps.core.lifecycle import move
from apps.orders import events
from apps.orders.models import Package, PackageStatus
from apps.orders.selectors import WAREHOUSE_BOUND_ROLES, warehouse_list
from apps.orders.services.orders import SUPPLIER, Actor
from apps.orders.transitions import PACKAGE
from apps.tenancy.roles import Grant, grant_for


def _check_actor(package: Package, actor: Actor, *, sides: frozenset[str], permission: str, user) -> None:
    acting_sides = set()
    if package.client_organization_id == actor.organization_id:
        acting_sides.add("client")
    if package.supplier_organization_id == actor.organization_id:
        acting_sides.add(SUPPLIER)
    if not acting_sides:
        raise NotFound("Package not found.")
    if not acting_sides & sides:
        raise PermissionDenied(f"Only the {' or '.join(sorted(sides))} organization may do this.")
    if grant_for(actor.role, actor.extra_permissions, permission) is not Grant.ALL:
        raise PermissionDenied(f"Your role does not allow {permission}.")
    # Warehouse staff work at the warehouses they are assigned to: a parcel held by another
    # is not theirs to send off.
    if actor.role in WAREHOUSE_BOUND_ROLES and package.current_warehouse_id is not None:
        mine = warehouse_list(organization_id=actor.organization_id, user=user, role=actor.role)
        if not mine.filter(pk=package.current_warehouse_id).exists():
            raise PermissionDenied("You do not work at the warehouse that holds this package.")


@transaction.atomic
def package_change_status(
    *, package_id: UUID, actor: Actor, status: str, location: str = "", note: str = "", user=None
) -> Package:
    """Move a package to `status` if its lifecycle allows it and the actor may (the forwarder's
    warehouse staff or managers, package:update); `location` says where it is now (kept when
    empty). Delivery stamps `delivered_at`. History, audit and event in the same transaction."""
    package = Package.objects.select_for_update().filter(pk=package_id).first()
    if package is None:
        raise NotFound("Package not found.")
    rule = PACKAGE.check(package.status, status)
    _check_actor(package, actor, sides=rule.sides, permission=rule.permission, user=user)
    previous = package.status
    if location:
        package.current_location = location
    if status == PackageStatus.DELIVERED:
        package.delivered_at = timezone.now()
    move(
        package,
        status,
        transitions=PACKAGE,
        actor=actor,
        reason=note,
        save=["current_location", "delivered_at", "updated_at"],
        history={"location": package.current_location},
        audit={
            "action": "package.status_changed",
            "resource_type": "package",
            "new_values": {"status": status, "location": package.current_location, "note": note},
            "organization_id": actor.organization_id,
        },
        event=lambda: events.PackageStatusChanged(
            organization_id=actor.organization_id,
            package_id=str(package.id),
            order_id=str(package.order_id),
            tracking_number=package.tracking_number,
            from_status=previous,
            to_status=status,
            location=package.current_location,
            party_organization_ids=sorted({str(package.client_organization_id), str(package.supplier_organization_id)}),
        ),
    )
    return package
