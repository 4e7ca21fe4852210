"""Geofences: the areas an organization watches (a circle or a polygon, optionally around one
of its warehouses), and their copies on the tracked shipments they apply to.

Why copies: the ingest pipeline checks every ping of a shipment against the geofences of
*both* parties, and each party's geofences are owned rows the other cannot read. So each
shipment carries a snapshot (`TrackedShipment.geofences`), and an organization's entries in it
are rewritten, in that organization's own scope, whenever:
- one of its geofences is created, changed or deleted (every active shipment it is a party of);
- tracking starts: the acting party's at once, the other party's by a task in its own scope
  (`tracking_geofences_refresh`), after commit.
Each entry names its `organization_id`, so that one party's rewrite leaves the other's alone.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import shapely
from django.db import transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import NotFound, ValidationFailed
from apps.core.updates import model_update
from apps.orders import selectors as order_selectors
from apps.tenancy.selectors import feature_is_active
from apps.tracking.models import Geofence, GeofenceShape, TrackedShipment

# A circle smaller than a GPS fix's error would flicker in and out; one larger than a city
# is not a place the goods arrive at.
RADIUS_MIN_M, RADIUS_MAX_M = 50, 100_000
POLYGON_MAX_POINTS = 500
GEOFENCE_FIELDS = (
    "name",
    "shape",
    "center_latitude",
    "center_longitude",
    "radius_m",
    "polygon",
    "warehouse_id",
    "is_active",
    "alert_on_enter",
)


def geofence_snapshot(geofence: Geofence) -> dict:
    """A geofence as a shipment's snapshot keeps it (JSON: coordinates as strings)."""

    def text(value):
        return None if value is None else str(value)

    return {
        "id": str(geofence.id),
        "organization_id": str(geofence.organization_id),
        "name": geofence.name,
        "shape": geofence.shape,
        "center_latitude": text(geofence.center_latitude),
        "center_longitude": text(geofence.center_longitude),
        "radius_m": geofence.radius_m,
        "polygon": geofence.polygon,
        "alert_on_enter": geofence.alert_on_enter,
        "purpose": "warehouse" if geofence.warehouse_id else "custom",
        "warehouse_id": text(geofence.warehouse_id),
    }


def geofences_snapshot_of(*, organization_id: UUID) -> list[dict]:
    """The organization's active geofences, as snapshot entries, in name order."""
    return [
        geofence_snapshot(geofence)
        for geofence in Geofence.objects.filter(organization_id=organization_id, is_active=True).order_by("name", "id")
    ]


def _with_own(snapshot: list[dict], own: list[dict], organization_id: UUID) -> list[dict]:
    """`snapshot` with the organization's entries replaced by `own` (the other party's kept)."""
    others = [entry for entry in snapshot if entry.get("organization_id") != str(organization_id)]
    return [*others, *own]


def client_cold_chain(*, organization_id: UUID) -> bool:
    """The current organization's `cold_chain` flag, when it is the shipment's client (read in
    its own scope: flags are its own rows)."""
    return feature_is_active(organization_id=organization_id, name="cold_chain")


@transaction.atomic
def geofences_copy_to_shipment(*, shipment_id: UUID) -> int:
    """Write the current organization's active geofences into one active shipment it is a
    party of; how many entries it has there. A shipment it cannot see, or one that stopped, is
    left alone (0)."""
    organization_id = current_organization_id()
    shipment = (
        TrackedShipment.objects.visible_to(organization_id)
        .select_for_update()
        .filter(pk=shipment_id, is_active=True)
        .first()
    )
    if shipment is None:
        return 0
    own = geofences_snapshot_of(organization_id=organization_id)
    shipment.geofences = _with_own(shipment.geofences, own, organization_id)
    fields = ["geofences", "updated_at"]
    if organization_id == shipment.client_organization_id:
        # The client's flag is read here, in its own scope, like its geofences.
        shipment.cold_chain = client_cold_chain(organization_id=organization_id)
        fields.append("cold_chain")
    shipment.save(update_fields=fields)
    return len(own)


def geofences_copy_to_active_shipments(*, organization_id: UUID) -> int:
    """Rewrite the organization's entries in every active shipment it is a party of (after one
    of its geofences changed); how many shipments. Locks them in primary-key order, so two
    concurrent rewrites (the two parties, or one party twice) cannot deadlock."""
    own = geofences_snapshot_of(organization_id=organization_id)
    shipments = list(
        TrackedShipment.objects.visible_to(organization_id)
        .filter(is_active=True)
        .select_for_update()
        .order_by("pk")
        .only("id", "geofences")
    )
    for shipment in shipments:
        shipment.geofences = _with_own(shipment.geofences, own, organization_id)
    TrackedShipment.objects.bulk_update(shipments, ["geofences"], batch_size=500)
    return len(shipments)


# --- Managing an organization's geofences --------------------------------------------------------


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("The geofence is not valid.", details={field: [message]})


def _closed_ring(points) -> list[list[float]]:
    """The polygon as a closed ring of [latitude, longitude] (closed here when it is not);
    400 unless it has at least three distinct points in range and does not cross itself."""
    if not isinstance(points, list) or not all(isinstance(point, list | tuple) and len(point) == 2 for point in points):
        raise _invalid("polygon", "A list of [latitude, longitude] points.")
    try:
        ring = [[float(Decimal(str(latitude))), float(Decimal(str(longitude)))] for latitude, longitude in points]
    except (ArithmeticError, ValueError, TypeError):
        raise _invalid("polygon", "Every point is [latitude, longitude], two numbers.") from None
    if any(not (-90 <= latitude <= 90 and -180 <= longitude <= 180) for latitude, longitude in ring):
        raise _invalid("polygon", "Latitudes are from -90 to 90, longitudes from -180 to 180.")
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len({tuple(point) for point in ring}) < 3:
        raise _invalid("polygon", "At least three distinct points.")
    if len(ring) > POLYGON_MAX_POINTS + 1:
        raise _invalid("polygon", f"At most {POLYGON_MAX_POINTS} points.")
    if not shapely.Polygon([(longitude, latitude) for latitude, longitude in ring]).is_valid:
        raise _invalid("polygon", "The ring crosses itself or encloses no area.")
    return [[round(latitude, 6), round(longitude, 6)] for latitude, longitude in ring]


def _checked(values: dict, *, organization_id: UUID) -> dict:
    """The geofence's values with its shape's rules applied: a circle has a center and a radius
    in bounds (and no polygon), a polygon a valid ring (and no center); a warehouse is one of the
    organization's (its coordinates are not known: the shape is always given)."""
    if values["shape"] == GeofenceShape.CIRCLE:
        for field in ("center_latitude", "center_longitude", "radius_m"):
            if values.get(field) is None:
                raise _invalid(field, "A circle needs a center and a radius.")
        if not RADIUS_MIN_M <= values["radius_m"] <= RADIUS_MAX_M:
            raise _invalid("radius_m", f"From {RADIUS_MIN_M} to {RADIUS_MAX_M} meters.")
        values["polygon"] = []
    else:
        values["polygon"] = _closed_ring(values.get("polygon") or [])
        values["center_latitude"] = values["center_longitude"] = values["radius_m"] = None
    if values.get("warehouse_id") is not None:
        try:
            order_selectors.warehouse_get(organization_id=organization_id, warehouse_id=values["warehouse_id"])
        except NotFound:
            raise _invalid("warehouse_id", "Not a warehouse of your organization.") from None
    return values


def _current(geofence: Geofence) -> dict:
    return {field: getattr(geofence, field) for field in GEOFENCE_FIELDS}


@transaction.atomic
def geofence_create(*, actor: Actor, data: dict) -> Geofence:
    """Draw a geofence for the actor's organization; it applies at once to the active
    shipments the organization is a party of (their snapshots are rewritten)."""
    organization_id = actor.organization_id
    values = _checked(
        {"is_active": True, "warehouse_id": None, "alert_on_enter": False, **data}, organization_id=organization_id
    )
    geofence = Geofence.objects.create(organization_id=organization_id, **values)
    audit_record(
        action="tracking.geofence_created",
        resource_type="tracking_geofence",
        resource_id=geofence.id,
        new_values={"name": geofence.name, "shape": geofence.shape},
        organization_id=organization_id,
        actor=actor,
    )
    geofences_copy_to_active_shipments(organization_id=organization_id)
    return geofence


def _locked(*, organization_id: UUID, geofence_id: UUID) -> Geofence:
    geofence = Geofence.objects.select_for_update().filter(organization_id=organization_id, pk=geofence_id).first()
    if geofence is None:
        raise NotFound("Geofence not found.")
    return geofence


@transaction.atomic
def geofence_update(*, actor: Actor, geofence_id: UUID, data: dict) -> Geofence:
    """Change a geofence (a changed shape is checked whole); the shipments' snapshots follow."""
    organization_id = actor.organization_id
    geofence = _locked(organization_id=organization_id, geofence_id=geofence_id)
    values = _checked({**_current(geofence), **data}, organization_id=organization_id)
    geofence, changed = model_update(
        instance=geofence,
        data=values,
        fields=GEOFENCE_FIELDS,
        actor=actor,
        resource_type="tracking_geofence",
        organization_id=organization_id,
    )
    if changed:
        geofences_copy_to_active_shipments(organization_id=organization_id)
    return geofence


@transaction.atomic
def geofence_delete(*, actor: Actor, geofence_id: UUID) -> None:
    """Remove a geofence; it no longer applies to any shipment (events that named it stay)."""
    organization_id = actor.organization_id
    geofence = _locked(organization_id=organization_id, geofence_id=geofence_id)
    audit_record(
        action="tracking.geofence_deleted",
        resource_type="tracking_geofence",
        resource_id=geofence.id,
        old_values={"name": geofence.name, "shape": geofence.shape},
        organization_id=organization_id,
        actor=actor,
    )
    geofence.delete()
    geofences_copy_to_active_shipments(organization_id=organization_id)
