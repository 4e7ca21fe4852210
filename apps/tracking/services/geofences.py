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

from uuid import UUID

from django.db import transaction

from apps.core.context import current_organization_id
from apps.tracking.models import Geofence, TrackedShipment


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
        "purpose": "warehouse" if geofence.warehouse_id else "area",
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
    shipment.save(update_fields=["geofences", "updated_at"])
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
