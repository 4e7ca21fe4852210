"""Tracking's start and end: a freight order is tracked from `confirmed`, a package from the
moment it leaves the warehouse; the tracked shipment follows its subject's status and stops
(no more pings taken) when the order is completed or cancelled, or the package delivered.

These run in the scope of the organization that moved the order or the package (the outbox
relays an event in its publisher's scope, apps.core.services.outbox_relay): either party may
write a tracked shipment (derived visibility), and the order and its shipment are read through
the orders selectors as that party sees them.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.orders import selectors as order_selectors
from apps.tracking import events, routes, track
from apps.tracking.models import ShipmentTrack, SubjectKind, TrackedShipment, TrackingEvent
from apps.tracking.services.alerts import SYSTEM, shipment_event_fields
from apps.tracking.services.geofences import client_cold_chain, geofences_snapshot_of

logger = logging.getLogger(__name__)

# An order is tracked from confirmation until it ends; the statuses in between keep it active.
ORDER_TRACKED_STATUSES = {"confirmed", "in_transit", "delivered"}
ORDER_FINAL_STATUSES = {"completed", "cancelled"}
PACKAGE_TRACKED_STATUSES = {"in_transit", "out_for_delivery"}
PACKAGE_FINAL_STATUSES = {"delivered"}

# The public number: no 0/O, 1/I/L, so it can be read out over the phone and typed from paper.
TRACKING_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_NUMBER_LENGTH = 10
TRACKING_NUMBER_ATTEMPTS = 5


class TrackingNumberExhausted(DomainError):
    """Five random numbers in a row were taken: something is wrong with the generator."""

    status_code = 500


def tracking_number_new() -> str:
    """A random public tracking number, "MF" and ten characters of an unambiguous alphabet
    (31^10, about 8·10^14: a guess finds nothing, and the number tells no volume)."""
    return "MF" + "".join(secrets.choice(TRACKING_NUMBER_ALPHABET) for _ in range(TRACKING_NUMBER_LENGTH))


def _create_with_tracking_number(**fields) -> TrackedShipment:
    """Insert the shipment under a fresh tracking number, drawing again on the rare collision
    (the unique index is global: another tenant's number is invisible, so only the insert tells)."""
    for _ in range(TRACKING_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                return TrackedShipment.objects.create(tracking_number=tracking_number_new(), **fields)
        except IntegrityError as error:
            if "tracking_number" not in str(error):
                raise
    raise TrackingNumberExhausted("No free tracking number was found.")


def _started(shipment: TrackedShipment) -> TrackedShipment:
    audit_record(
        action="tracking.started",
        resource_type="tracked_shipment",
        resource_id=shipment.id,
        new_values={"kind": shipment.kind, "reference": shipment.reference, "status": shipment.status},
        organization_id=current_organization_id(),
        actor=SYSTEM,
    )
    outbox_publish(events.TrackingStarted(**shipment_event_fields(shipment), tracking_number=shipment.tracking_number))
    _other_party_geofences_later(shipment)
    logger.info("tracking.started", extra={"shipment_id": str(shipment.id), "kind": shipment.kind})
    return shipment


def _other_party_geofences_later(shipment: TrackedShipment) -> None:
    """The acting party's geofences (and, for the client, its cold chain flag) are copied at
    start; the other party's are not readable in this scope (owned rows), so a task in that
    party's own scope adds them after commit."""
    acting = current_organization_id()
    other = (
        shipment.supplier_organization_id
        if acting == shipment.client_organization_id
        else shipment.client_organization_id
    )
    if other == acting:
        return
    from apps.tracking.tasks import tracking_geofences_refresh  # the task module imports the services

    shipment_id, organization_id = str(shipment.id), str(other)
    transaction.on_commit(
        lambda: tracking_geofences_refresh.delay(organization_id=organization_id, shipment_id=shipment_id)
    )


def _stop_if_final(shipment: TrackedShipment, final_statuses: set[str]) -> list[str]:
    if shipment.status in final_statuses and shipment.is_active:
        shipment.is_active = False
        shipment.completed_at = timezone.now()
        return ["is_active", "completed_at"]
    return []


@transaction.atomic
def tracking_follow_order(*, order_id: UUID) -> TrackedShipment | None:
    """Keep an order's tracking in step with the order, as the current organization (a party)
    sees it: from `confirmed` on, start tracking it (once: an order has one tracked shipment);
    copy every later status; stop on `completed` or `cancelled`. Idempotent, and safe to call
    with events out of order: the order's status is read, not taken from the event.

    Returns the tracked shipment, or None for an order that is not (or not yet) tracked."""
    organization_id = current_organization_id()
    order = order_selectors.order_get(organization_id=organization_id, order_id=order_id)
    if order.kind != "freight":
        return None
    shipment = TrackedShipment.objects.select_for_update().filter(order_id=order.id).first()
    if shipment is None:
        if order.status not in ORDER_TRACKED_STATUSES:
            return None
        return _start_for_order(order, organization_id=organization_id)
    if shipment.status == order.status:
        return shipment
    shipment.status = order.status
    changed = ["status", *_stop_if_final(shipment, ORDER_FINAL_STATUSES)]
    shipment.save(update_fields=[*changed, "updated_at"])
    return shipment


def _start_for_order(order, *, organization_id: UUID) -> TrackedShipment:
    client_id = order.client_organization_id
    freight = order_selectors.shipment_find(organization_id=organization_id, order_id=order.id)
    route = (
        routes.route_of_shipment(route=freight.route, taking_over=freight.taking_over, delivery=freight.delivery)
        if freight is not None
        else []
    )
    temperature_min_c, temperature_max_c = routes.temperature_range(freight.cargo_lines if freight else [])
    shipment = _create_with_tracking_number(
        kind=SubjectKind.ORDER,
        order_id=order.id,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        reference=order.number,
        status=order.status,
        route=route,
        corridor_width_m=settings.TRACKING["CORRIDOR_WIDTH_M"],
        route_length_m=routes.route_length_m(route),
        promised_at=routes.promised_at(route),
        temperature_min_c=temperature_min_c,
        temperature_max_c=temperature_max_c,
        geofences=geofences_snapshot_of(organization_id=organization_id),
        # The client's flag when the client starts it; else the client's refresh task copies it.
        cold_chain=organization_id == client_id and client_cold_chain(organization_id=organization_id),
    )
    return _started(shipment)


@transaction.atomic
def tracking_follow_package(*, package_id: UUID) -> TrackedShipment | None:
    """Keep a package's tracking in step with the package, as the current organization sees
    it: start when it leaves the warehouse (in transit; once), copy every later status, stop
    when it is delivered. Idempotent; the package's status is read, not taken from the event."""
    organization_id = current_organization_id()
    package = order_selectors.package_for_tracking(organization_id=organization_id, package_id=package_id)
    shipment = TrackedShipment.objects.select_for_update().filter(package_id=package.id).first()
    if shipment is None:
        if package.status not in PACKAGE_TRACKED_STATUSES:
            return None
        return _start_for_package(package, organization_id=organization_id)
    if shipment.status == package.status:
        return shipment
    shipment.status = package.status
    changed = ["status", *_stop_if_final(shipment, PACKAGE_FINAL_STATUSES)]
    shipment.save(update_fields=[*changed, "updated_at"])
    return shipment


def _start_for_package(package, *, organization_id: UUID) -> TrackedShipment:
    """A package's route: from the warehouse it left to its order's shipping address (cities;
    neither has coordinates today, so the route has no length until someone plans it)."""
    client_id = package.client_organization_id
    warehouse = package.current_warehouse
    address = package.order.shipping_address or {}
    route = []
    if warehouse is not None:
        route.append(
            routes.waypoint(
                kind="warehouse",
                place={"city": warehouse.city, "country": warehouse.country},
                name=warehouse.name,
                window_from=None,
                window_until=None,
            )
        )
    if address:
        until = package.estimated_delivery_at
        route.append(
            routes.waypoint(
                kind="delivery",
                place={"city": address.get("city") or "", "country": (address.get("country") or "").upper()},
                window_from=None,
                window_until=until.isoformat().replace("+00:00", "Z") if until else None,
            )
        )
    shipment = _create_with_tracking_number(
        kind=SubjectKind.PACKAGE,
        package_id=package.id,
        client_organization_id=package.client_organization_id,
        supplier_organization_id=package.supplier_organization_id,
        reference=package.tracking_number,
        status=package.status,
        route=route,
        corridor_width_m=settings.TRACKING["CORRIDOR_WIDTH_M"],
        route_length_m=routes.route_length_m(route),
        promised_at=package.estimated_delivery_at,
        last_city=warehouse.city if warehouse else "",
        last_country=warehouse.country if warehouse else "",
        geofences=geofences_snapshot_of(organization_id=organization_id),
        # The client's flag when the client starts it; else the client's refresh task copies it.
        cold_chain=organization_id == client_id and client_cold_chain(organization_id=organization_id),
    )
    return _started(shipment)


# --- The planned route ------------------------------------------------------------------------

CORRIDOR_MIN_M, CORRIDOR_MAX_M = 100, 50_000


class TrackingEnded(DomainError):
    status_code = 422
    code = ErrorCode.INVALID_STATE_TRANSITION


@transaction.atomic
def shipment_route_plan(
    *, actor: Actor, shipment_id: UUID, waypoints: list[dict], corridor_width_m: int | None = None
) -> TrackedShipment:
    """Replace a tracked shipment's planned route (and its corridor width): the carrier's
    (supplier side) to say, while tracking is active. The route's length and the promised time
    follow; the deviation count starts again (the old corridor no longer applies).

    `waypoints`: [{kind, latitude, longitude, city, country, name, window_from, window_until}],
    checked by the API (ranges, both coordinates or none, windows in order)."""
    shipment = (
        TrackedShipment.objects.visible_to(actor.organization_id).select_for_update().filter(pk=shipment_id).first()
    )
    if shipment is None:
        raise NotFound("No tracking for this order or package.")
    if shipment.supplier_organization_id != actor.organization_id:
        raise PermissionDenied("Only the carrier (the supplier of the order) plans the route.")
    if not shipment.is_active:
        raise TrackingEnded("Tracking of this shipment has ended: its route no longer changes.")
    if corridor_width_m is not None and not CORRIDOR_MIN_M <= corridor_width_m <= CORRIDOR_MAX_M:
        raise ValidationFailed(
            "The corridor is too narrow or too wide.",
            details={"corridor_width_m": [f"From {CORRIDOR_MIN_M} to {CORRIDOR_MAX_M} meters."]},
        )
    route = [
        routes.waypoint(
            kind=point["kind"],
            place=point,
            name=point.get("name") or "",
            window_from=_iso(point.get("window_from")),
            window_until=_iso(point.get("window_until")),
        )
        for point in waypoints
    ]
    old = {"route_length_m": shipment.route_length_m, "corridor_width_m": shipment.corridor_width_m}
    shipment.route = route
    shipment.route_length_m = routes.route_length_m(route)
    shipment.promised_at = routes.promised_at(route) or shipment.promised_at
    shipment.pings_outside_corridor = 0
    if corridor_width_m is not None:
        shipment.corridor_width_m = corridor_width_m
    shipment.save(
        update_fields=[
            "route",
            "route_length_m",
            "promised_at",
            "pings_outside_corridor",
            "corridor_width_m",
            "updated_at",
        ]
    )
    audit_record(
        action="tracking.route_planned",
        resource_type="tracked_shipment",
        resource_id=shipment.id,
        old_values=old,
        new_values={
            "route_length_m": shipment.route_length_m,
            "corridor_width_m": shipment.corridor_width_m,
            "waypoints": len(route),
        },
        organization_id=actor.organization_id,
        actor=actor,
    )
    return shipment


def _iso(moment) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


# --- The travelled track ----------------------------------------------------------------------


def _track_points(rows) -> list[list]:
    return [
        [float(longitude), float(latitude), int(occurred_at.timestamp())]
        for latitude, longitude, occurred_at in rows
        if latitude is not None and longitude is not None
    ]


def _track_of(shipment: TrackedShipment) -> ShipmentTrack:
    track_row = ShipmentTrack.objects.filter(shipment=shipment).first()
    if track_row is None:
        track_row = ShipmentTrack(
            shipment=shipment,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
        )
    return track_row


def shipment_track_append(*, shipment: TrackedShipment, events: list[TrackingEvent]) -> int:
    """Take stored events' plausible positions into the shipment's simplified track (what the
    route endpoint draws); how many positions were taken.

    THE INGEST SERVICE CALLS THIS once per batch, in its transaction, with the shipment locked
    (the lock is what keeps two batches from losing each other's points) and the batch's stored
    events; implausible ones and those without a position are skipped here."""
    points = _track_points(
        (event.latitude, event.longitude, event.occurred_at) for event in events if not event.is_implausible
    )
    if not points:
        return 0
    track_row = _track_of(shipment)
    track_row.points, track_row.tolerance_m = track.track_merge(
        track_row.points, points, tolerance_m=track_row.tolerance_m
    )
    track_row.pings += len(points)
    track_row.save()
    return len(points)


@transaction.atomic
def shipment_track_rebuild(*, shipment_id: UUID) -> int:
    """Build a shipment's track again from all its plausible events (a shipment tracked before
    tracks were kept, or a repair); how many positions it read. Locks the shipment as ingest does."""
    shipment = TrackedShipment.objects.select_for_update().get(pk=shipment_id)
    rows = (
        TrackingEvent.objects.filter(shipment_id=shipment.id, is_implausible=False, latitude__isnull=False)
        .order_by("occurred_at", "id")
        .values_list("latitude", "longitude", "occurred_at")
    )
    points = _track_points(rows.iterator(chunk_size=5000))
    track_row = _track_of(shipment)
    track_row.points, track_row.tolerance_m, track_row.pings = [], 0.0, 0
    track_row.points, track_row.tolerance_m = track.track_merge([], points, tolerance_m=0.0)
    track_row.pings = len(points)
    track_row.save()
    return len(points)
