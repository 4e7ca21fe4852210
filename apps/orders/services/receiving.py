"""Receiving parcels at a warehouse: match the scanned tracking number to its order, make
the package and move the order on; keep what cannot be matched for staff."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.services import outbox_publish
from apps.orders import events
from apps.orders.models import Order, Package, UnmatchedArrival, Warehouse
from apps.orders.services.orders import Actor, _parties_of, order_move
from apps.orders.transitions import RECEIVING_TRANSITIONS, receiving_move

MATCHED, ALREADY_RECEIVED, UNMATCHED = "matched", "already_received", "unmatched"


def normalize_tracking_number(value: str) -> str:
    """Carriers print numbers with spaces and in either case; compare them without."""
    return "".join((value or "").split()).upper()


@dataclass(frozen=True)
class ReceiveResult:
    outcome: str  # matched | already_received | unmatched
    message: str
    package: Package | None = None
    order: Order | None = None
    arrival: UnmatchedArrival | None = None


@dataclass(frozen=True)
class Measurements:
    weight_g: int
    length_cm: int
    width_cm: int
    height_cm: int


@transaction.atomic
def warehouse_receive(
    *, warehouse: Warehouse, actor: Actor, tracking_number: str, measurements: Measurements
) -> ReceiveResult:
    """Receive one parcel at `warehouse` (read through the RLS- and assignment-filtered
    selector, so the actor may work there).

    A number an order expects → a package at this warehouse and the order's receiving move
    (transitions.RECEIVING), with history and events. A number already received → the same
    package, nothing changes (scanning twice is harmless). Anything else → an unmatched
    arrival kept for staff (once per number), never dropped."""
    number = normalize_tracking_number(tracking_number)
    organization_id = warehouse.organization_id
    existing = Package.objects.filter(supplier_organization_id=organization_id, tracking_number=number).first()
    if existing is not None:
        return ReceiveResult(ALREADY_RECEIVED, "This parcel was received before; nothing changed.", package=existing)
    # Locked: two scans of the same parcel at once make one package (the second waits, then
    # finds the order moved on and the package made).
    order = (
        Order.objects.select_for_update()
        .filter(supplier_organization_id=organization_id, external_tracking_number=number)
        .first()
    )
    if order is not None:
        existing = Package.objects.filter(supplier_organization_id=organization_id, tracking_number=number).first()
        if existing is not None:
            return ReceiveResult(
                ALREADY_RECEIVED, "This parcel was received before; nothing changed.", package=existing
            )
    target = receiving_move(order.kind, order.status) if order is not None else None
    if order is None or target is None:
        note = (
            "No order expects this tracking number."
            if order is None
            else f"Order {order.number} is {order.status.replace('_', ' ')} and cannot take a parcel now."
        )
        return _keep_unmatched(warehouse, actor, number, measurements, note)
    now = timezone.now()
    package = Package.objects.create(
        order=order,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        tracking_number=number,
        weight_g=measurements.weight_g,
        length_cm=measurements.length_cm,
        width_cm=measurements.width_cm,
        height_cm=measurements.height_cm,
        current_warehouse=warehouse,
        received_by_id=actor.user_id,
        received_at=now,
    )
    if order.destination_warehouse_id is None:
        order.destination_warehouse = warehouse
        order.save(update_fields=["destination_warehouse", "updated_at"])
    order_move(
        order,
        status=target,
        actor=actor,
        acting_organization_id=organization_id,
        note=f"Parcel {number} received at {warehouse.code}.",
        transitions=RECEIVING_TRANSITIONS[order.kind],
    )
    audit_record(
        action="package.received",
        resource_type="package",
        resource_id=package.id,
        new_values={"tracking_number": number, "order": order.number, "warehouse": warehouse.code},
        organization_id=organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(
        events.PackageReceived(
            organization_id=organization_id,
            package_id=str(package.id),
            order_id=str(order.id),
            tracking_number=number,
            warehouse_id=str(warehouse.id),
            party_organization_ids=_parties_of(order),
        )
    )
    return ReceiveResult(MATCHED, f"Matched to order {order.number}, now {target}.", package=package, order=order)


def _keep_unmatched(
    warehouse: Warehouse, actor: Actor, number: str, measurements: Measurements, note: str
) -> ReceiveResult:
    try:
        with transaction.atomic():  # a savepoint: a concurrent first scan may have kept it
            arrival, created = UnmatchedArrival.objects.get_or_create(
                organization_id=warehouse.organization_id,
                tracking_number=number,
                defaults={
                    "warehouse": warehouse,
                    "weight_g": measurements.weight_g,
                    "length_cm": measurements.length_cm,
                    "width_cm": measurements.width_cm,
                    "height_cm": measurements.height_cm,
                    "received_by_id": actor.user_id,
                    "note": note,
                },
            )
    except IntegrityError:
        arrival, created = (
            UnmatchedArrival.objects.get(organization_id=warehouse.organization_id, tracking_number=number),
            False,
        )
    if created:
        audit_record(
            action="package.arrival_unmatched",
            resource_type="unmatched_arrival",
            resource_id=arrival.id,
            new_values={"tracking_number": number, "warehouse": warehouse.code, "note": note},
            organization_id=warehouse.organization_id,
            actor_id=actor.user_id,
        )
        outbox_publish(
            events.ArrivalUnmatched(
                organization_id=warehouse.organization_id,
                arrival_id=str(arrival.id),
                tracking_number=number,
                warehouse_id=str(warehouse.id),
            )
        )
        return ReceiveResult(UNMATCHED, f"{note} Kept as an unmatched arrival for staff.", arrival=arrival)
    return ReceiveResult(UNMATCHED, "This unmatched parcel was recorded before; nothing changed.", arrival=arrival)
