"""Roles and the role → permission matrix of DESIGN.md §4, in one place.

A permission is `resource:action` or `resource:action:own`; `:own` limits the grant
to rows the user created or is the customer of. An `:own` grant on orders reaches
everything that hangs from an order (escrows and their ledger lines, documents, returns,
packages): `apps.orders.selectors.order_scope` is the one place that says which orders a
member reaches, and those contexts read and act through it. `*` stands for any resource or
action. A membership's permissions are its role's plus its `extra_permissions`.
"""

from __future__ import annotations

from enum import Enum

from django.db import models

from apps.core.actors import Actor


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "Organization admin"
    WAREHOUSE_MANAGER = "warehouse_manager", "Warehouse manager"
    WAREHOUSE_STAFF = "warehouse_staff", "Warehouse staff"
    PURCHASE_AGENT = "purchase_agent", "Purchase agent"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    CUSTOMER = "customer", "Customer"
    SHIPPER = "shipper", "Shipper"
    CARRIER = "carrier", "Carrier"
    BUYER = "buyer", "Buyer"
    SUPPLIER = "supplier", "Supplier"
    EXPERT = "expert", "Expert"
    ENGINEER = "engineer", "Engineer"
    QC_INSPECTOR = "qc_inspector", "QC inspector"
    OPERATOR = "operator", "Operator"


_EVERY_MEMBER = {"organization:read", "member:read", "feature:read"}

MATRIX: dict[str, frozenset[str]] = {
    role: frozenset(permissions | _EVERY_MEMBER)
    for role, permissions in {
        Role.ORG_ADMIN: {"*:*"},  # webhook:manage too: no other role manages webhooks
        Role.WAREHOUSE_MANAGER: {
            "warehouse:*",
            "package:*",
            "order:read",
            "order:update",
            "return:read",
            "return:update",
            "document:read",
            "tracking:*",
        },
        Role.WAREHOUSE_STAFF: {
            "warehouse:read",
            "package:read",
            "package:update",
            "package:receive",
            "order:read",
            "tracking:create",
            "tracking:read",  # it records the events it must be able to read
            "tracking:alert",  # raises, acknowledges and resolves alerts on what it handles
        },
        Role.PURCHASE_AGENT: {"order:read", "order:update", "purchase:*", "document:read"},
        Role.CUSTOMER_SERVICE: {
            "order:read",
            "order:update",
            "return:*",
            "chat:*",
            "dispute:read",
            "dispute:update",
            "document:read",
        },
        Role.CUSTOMER: {
            "order:create",
            "order:read:own",
            "order:cancel:own",
            "order:pay:own",
            "order:complete:own",
            "return:create:own",
            "return:read:own",
            "chat:read:own",
            "chat:create:own",
            "document:read:own",
            "tracking:read:own",
            # the devices kept for them (or registered by them), and asking service for them
            "passport:read:own",
            "service_request:create:own",
            "service_request:read:own",
            # field service: choosing an expert, ordering work on their devices, reviewing it
            "expert:read",
            "service_order:create",
            "service_order:read:own",
            "service_order:update:own",
            "service_order:cancel:own",
            "review:create:own",
            "review:read",
        },
        Role.SHIPPER: {
            "rfq:*",
            "offer:read",
            "offer:accept",
            "offer:reject",
            "order:create",
            "order:read",
            "order:cancel",
            "order:complete",
            "escrow:read",
            "escrow:fund",
            "escrow:release",
            "dispute:create",
            "dispute:read",
            "document:read",
            "tracking:read",
            # acts on its goods' alerts (a temperature alert on its cargo), posts no pings
            "tracking:alert",
            "chat:*",
            "service:read",
            "review:create",  # its completed freight orders' carriers
            "review:read",
        },
        Role.CARRIER: {
            "service:*",
            "tariff:*",
            "rfq:read",
            "offer:create",
            "offer:read:own",
            "offer:update:own",
            "offer:withdraw:own",
            "order:read",
            "order:update",
            "order:cancel",
            "tracking:*",
            "document:create",
            "document:read",
            "escrow:read",
            "escrow:refund",
            "dispute:read",
            "dispute:create",
            "chat:*",
            "review:create",  # its completed freight orders' shippers
            "review:read",
        },
        # A buyer works on the orders it placed, and on what hangs from them only.
        Role.BUYER: {
            "listing:read",
            "order:create",
            "order:read:own",
            "order:complete:own",
            "escrow:read:own",
            "escrow:fund:own",
            "escrow:release:own",
            "dispute:create:own",
            "dispute:read:own",
            "chat:*:own",
        },
        Role.SUPPLIER: {
            "listing:*",
            "order:read",
            "order:update",
            "escrow:read",
            "escrow:refund",
            "dispute:create",
            "dispute:read",
            "chat:*",
            "document:create",
            "document:read",  # it issues the orders' documents: it reads what it issues
        },
        # An expert keeps their own passport and works the service orders offered or assigned to
        # them (accept, decline, start, complete); reviews the customers they worked for.
        Role.EXPERT: {
            "expert:read",
            "expert:manage:own",
            "service_order:read:own",
            "service_order:work:own",
            "passport:read",
            "review:create:own",
            "review:read",
        },
        # Device passports (seed 002 §9): engineers record installation and service, QC
        # inspectors record QC, operators create and manage devices (every kind of record).
        Role.ENGINEER: {
            "passport:read",
            "passport:service",
            "expert:read",
            "expert:manage:own",
            "service_order:read",
            "service_order:create",
            "service_order:work:own",
        },
        Role.QC_INSPECTOR: {"passport:read", "passport:inspect", "order:read", "document:read"},
        Role.OPERATOR: {
            "order:read",
            "order:update",
            "package:read",
            "workflow:read",
            "integration:read",
            "passport:*",
            "service_request:*",
            # dispatch: orders service, assigns experts, cancels; manages the organization's experts
            "expert:*",
            "service_order:*",
            "review:*",
        },
    }.items()
}


class Grant(Enum):
    """How far a permission reaches for one membership."""

    NONE = 0
    OWN = 1  # only rows the user created or is the customer of
    ALL = 2


def _covers(held: str, resource: str, action: str) -> Grant:
    parts = held.split(":")
    if len(parts) not in (2, 3):
        return Grant.NONE
    held_resource, held_action = parts[0], parts[1]
    if held_resource not in ("*", resource) or held_action not in ("*", action):
        return Grant.NONE
    return Grant.OWN if len(parts) == 3 and parts[2] == "own" else Grant.ALL


def permissions_of(role: str, extra_permissions: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    return MATRIX.get(role, frozenset()) | frozenset(extra_permissions)


def grant_for(role: str, extra_permissions, permission: str) -> Grant:
    """The widest grant the role plus extras give for `resource:action`."""
    resource, action = permission.split(":")[:2]
    best = Grant.NONE
    for held in permissions_of(role, extra_permissions):
        grant = _covers(held, resource, action)
        if grant.value > best.value:
            best = grant
            if best is Grant.ALL:
                break
    return best


def is_valid_permission(permission: str) -> bool:
    parts = permission.split(":")
    return len(parts) in (2, 3) and all(parts) and (len(parts) == 2 or parts[2] == "own")


def actor_grant(actor: Actor, permission: str) -> Grant:
    """The widest grant `actor`'s role plus extras give for `permission` (NONE for staff/system)."""
    return grant_for(actor.role, actor.extra_permissions, permission)
