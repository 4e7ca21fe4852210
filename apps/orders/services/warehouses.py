"""Warehouses: the organization's sites, and which warehouse staff work at each.

Which warehouses a staff member works at is a django-guardian object permission
(`orders.work_at_warehouse`). Guardian's tables have no organization column and no
row-level security; tenant isolation still holds because a grant is only ever made,
read or used through a warehouse first fetched by an RLS-filtered query: an id from
another tenant finds no warehouse (404) before guardian is asked, and the staff filter
(`selectors.warehouse_list`) intersects the grants with the tenant's own warehouses.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from guardian.shortcuts import assign_perm

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.core.updates import model_update
from apps.orders.models import Warehouse
from apps.tenancy.roles import Role
from apps.tenancy.selectors import member_list

WAREHOUSE_PERMISSION = "work_at_warehouse"
ASSIGNABLE_ROLES = {Role.WAREHOUSE_STAFF, Role.WAREHOUSE_MANAGER}

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
def warehouse_create(*, actor: Actor, organization_id: UUID, data: dict) -> Warehouse:
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
        actor_id=actor.user_id,
    )
    return warehouse


@transaction.atomic
def warehouse_update(*, actor: Actor, warehouse: Warehouse, data: dict) -> Warehouse:
    warehouse, _ = model_update(
        instance=warehouse,
        data=data,
        fields=WAREHOUSE_FIELDS,
        actor=actor,
        resource_type="warehouse",
        full_clean=True,
    )
    return warehouse


@transaction.atomic
def warehouse_assign_staff(*, actor: Actor, warehouse: Warehouse, user_id: UUID) -> None:
    """Let a warehouse staff (or manager) member of the warehouse's organization work there.

    `warehouse` comes from an RLS-filtered read; the member is looked up in the same
    organization, so no grant can name another tenant's warehouse or user. Assigning twice
    changes nothing."""
    membership = member_list(organization_id=warehouse.organization_id).filter(user_id=user_id, is_active=True).first()
    if membership is None:
        raise NotFound("Member not found.")
    if membership.role not in ASSIGNABLE_ROLES:
        raise ValidationFailed(
            "Only warehouse staff and managers are assigned to warehouses.",
            details={"user_id": [f"This member is {membership.role}."]},
        )
    assign_perm(WAREHOUSE_PERMISSION, membership.user, warehouse)
    audit_record(
        action="warehouse.staff_assigned",
        resource_type="warehouse",
        resource_id=warehouse.id,
        new_values={"user_id": str(user_id)},
        organization_id=warehouse.organization_id,
        actor_id=actor.user_id,
    )
