"""Edits of a freight order's shipment (made with the order: `order_create`): by each party
within its part and stage, amended with history once the goods are loaded."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils.dateparse import parse_datetime

from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.updates import model_changes, model_update
from apps.orders import events
from apps.orders.models import Order, OrderStatus, Shipment, ShipmentAmendment
from apps.orders.selectors import order_scope
from apps.orders.services.orders import _check_actor, _parties_of, _sides_of
from apps.orders.shipment_schema import CARRIER_FIELDS, SHIPMENT_FIELDS, SHIPPER_FIELDS, shipment_values
from apps.orders.transitions import CLIENT, SUPPLIER
from apps.tenancy.roles import Actor

# From loading on, a change is an amendment kept with its old and new values.
LOADED = {OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED}
CLOSED = {OrderStatus.COMPLETED, OrderStatus.CANCELLED}
# What each side edits, and the permission its member needs: the shipper's side describes its
# goods as it places its orders (order:create); the carrier's side works the order (order:update).
EDITS = {CLIENT: (SHIPPER_FIELDS, "order:create"), SUPPLIER: (CARRIER_FIELDS, "order:update")}


def _checked(data: dict) -> dict:
    values, errors = shipment_values(data)
    if errors:
        raise ValidationFailed("The shipment has invalid values.", details=errors)
    if values.get("delivered_at"):  # a column of its own, compared and stored as a moment
        values["delivered_at"] = parse_datetime(values["delivered_at"])
    return values


def _as_json(values: dict) -> dict:
    return {name: value.isoformat() if isinstance(value, datetime) else value for name, value in values.items()}


def _refused_fields(fields, sides: set[str]) -> dict:
    allowed = {name for side in sides for name in EDITS[side][0]}
    owner = {name: "shipper" for name in SHIPPER_FIELDS} | {name: "carrier" for name in CARRIER_FIELDS}
    return {name: [f"Only the {owner[name]} edits this."] for name in fields if name not in allowed}


@transaction.atomic
def shipment_update(*, actor: Actor, order_id: UUID, changes: dict) -> Shipment:
    """Set `changes` (whole values, by field) on the order's shipment, for the actor's side:
    the shipper its parties, places, cargo and instructions until the order is completed or
    cancelled, the carrier its part at any stage. From loading on (in transit, delivered) each
    change is also an amendment with its old and new values. A refused field changes nothing:
    403 with the field named; 422 once the order is closed. Locks the order, then the shipment."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    sides = _sides_of(order, actor.organization_id) if order is not None else set()
    if not sides or order_scope(actor=actor).customer_id not in (None, order.customer_id):
        raise NotFound("Order not found.")  # before any refusal that would tell the order exists
    shipment = Shipment.objects.select_for_update().filter(order=order).first()
    if shipment is None:
        raise NotFound("This order has no shipment.")
    values = _checked(changes)
    refused = _refused_fields(values, sides)
    if refused:
        raise PermissionDenied("Your side of the order may not edit these fields.", details=refused)
    for side, (fields, permission) in EDITS.items():
        if side in sides and set(values) & set(fields):
            _check_actor(order, actor, sides=frozenset({side}), permission=permission)
    if not values:
        return shipment
    if order.status in CLOSED:
        raise DomainError(
            f"The order is {order.status}: its shipment no longer changes.", code=ErrorCode.INVALID_STATE_TRANSITION
        )
    amending = order.status in LOADED
    changed_values = model_changes(instance=shipment, data=values, fields=SHIPMENT_FIELDS)
    old_values = {name: getattr(shipment, name) for name in changed_values}
    amendment = None
    if amending and changed_values:
        amendment = ShipmentAmendment.objects.create(
            shipment=shipment,
            client_organization_id=order.client_organization_id,
            supplier_organization_id=order.supplier_organization_id,
            acting_organization_id=actor.organization_id,
            amended_by_id=actor.user_id,
            order_status=order.status,
            changed_fields=list(changed_values),
            old_values=_as_json(old_values),
            new_values=_as_json(changed_values),
        )
    model_update(
        instance=shipment,
        data=values,
        fields=SHIPMENT_FIELDS,
        actor=actor,
        resource_type="shipment",
        audit_action="shipment.amended" if amending else "shipment.updated",
        organization_id=actor.organization_id,
        event=lambda instance, changed: _event(order, actor, changed, amendment),
    )
    return shipment


def _event(order: Order, actor: Actor, changed: list[str], amendment: ShipmentAmendment | None):
    # Owned by the acting organization, like every order event; the payload names both parties.
    common = {
        "organization_id": actor.organization_id,
        "order_id": str(order.id),
        "number": order.number,
        "kind": order.kind,
        "party_organization_ids": _parties_of(order),
        "fields": changed,
    }
    if amendment is None:
        return events.ShipmentUpdated(**common)
    return events.ShipmentAmended(**common, amendment_id=str(amendment.id))
