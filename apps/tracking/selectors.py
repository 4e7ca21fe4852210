"""Reads of tracking. Row-level security already limits shipments, events and alerts to those
the current organization is a party of; a member who reads orders only `:own` (a customer)
is limited further to the orders they are the customer of, through the orders context's
`OrderScope` (one place says which orders a member reaches)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.orders.selectors import OrderScope
from apps.tracking.models import Alert, AlertStatus, Geofence, ShipmentTrack, TrackedShipment, TrackingEvent
from apps.tracking.selectors_eta import eta_compute

LAST_EVENTS = 10

# What the read endpoints show of an event (the metadata stays with the pipeline).
EVENT_FIELDS = (
    "id",
    "shipment_id",
    "event_type",
    "source",
    "occurred_at",
    "received_at",
    "latitude",
    "longitude",
    "address",
    "speed_kmh",
    "heading",
    "temperature_c",
    "is_implausible",
    "description",
)


def tracked_shipment_get(*, scope: OrderScope, order_id: UUID | None = None, package_id: UUID | None = None):
    """The tracked shipment of an order or a package within `scope`; 404 for one of another
    organization, one beyond an `:own` grant, and one not (yet) tracked, alike."""
    queryset = TrackedShipment.objects.visible_to(scope.organization_id)
    if order_id is not None:
        queryset = queryset.filter(order_id=order_id, kind="order").filter(scope.rows_of("order"))
    else:
        queryset = queryset.filter(package_id=package_id, kind="package").filter(scope.rows_of("package__order"))
    shipment = queryset.first()
    if shipment is None:
        raise NotFound("No tracking for this order or package.")
    return shipment


def tracking_number_of_order(*, organization_id: UUID, order_id: UUID) -> str | None:
    """The tracking number of the order's tracked shipment when the organization is a party of
    it (a device passport's `shipped` step links it), else None."""
    return (
        TrackedShipment.objects.visible_to(organization_id)
        .filter(order_id=order_id, kind="order")
        .values_list("tracking_number", flat=True)
        .first()
    )


def shipment_events(*, shipment: TrackedShipment) -> QuerySet[TrackingEvent]:
    """The shipment's events, newest first (served by the (shipment_id, occurred_at) index of
    every monthly partition)."""
    return TrackingEvent.objects.filter(shipment_id=shipment.id).only(*EVENT_FIELDS).order_by("-occurred_at", "-id")


def shipment_last_events(*, shipment: TrackedShipment, limit: int = LAST_EVENTS) -> list[TrackingEvent]:
    return list(shipment_events(shipment=shipment)[:limit])


def shipment_open_alerts(*, shipment: TrackedShipment) -> list[Alert]:
    """Alerts not yet resolved (open or acknowledged), newest first."""
    alerts = Alert.objects.filter(shipment=shipment).exclude(status=AlertStatus.RESOLVED)
    return list(alerts.order_by("-created_at", "-id"))


def shipment_eta(*, shipment: TrackedShipment) -> dict:
    """The ETA the pipeline stored at the last batch (`basis` "stored"); for a shipment it has
    not computed one for yet, one computed now from the route and the recent positions
    (selectors_eta.eta_compute, not stored: a read writes nothing), its basis said."""
    if shipment.eta_computed_at is not None:
        eta_at, remaining, computed_at, basis = (
            shipment.eta_at,
            shipment.remaining_distance_m,
            shipment.eta_computed_at,
            "stored",
        )
    else:
        result = eta_compute(shipment)
        eta_at, remaining, computed_at, basis = (
            result.eta_at,
            result.remaining_distance_m,
            result.computed_at,
            result.basis,
        )
    return {
        "eta_at": eta_at,
        "remaining_distance_m": remaining,
        "promised_at": shipment.promised_at,
        "computed_at": computed_at,
        "basis": basis,
        "is_late": bool(eta_at and shipment.promised_at and eta_at > shipment.promised_at),
    }


def shipment_route_geojson(*, shipment: TrackedShipment) -> dict:
    """The planned route and the travelled track as a GeoJSON FeatureCollection: a LineString
    of the planned route (its located waypoints), a Point per located waypoint, and the track
    LineString of plausible positions (simplified: apps/tracking/track.py), with the time of its
    first and last point. Coordinates are [longitude, latitude] (RFC 7946)."""
    planned = [[float(point["longitude"]), float(point["latitude"])] for point in shipment.route if _located(point)]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": planned},
            "properties": {
                "role": "planned_route",
                "corridor_width_m": shipment.corridor_width_m,
                "length_m": shipment.route_length_m,
            },
        }
    ]
    for sequence, point in enumerate(shipment.route):
        if not _located(point):
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(point["longitude"]), float(point["latitude"])]},
                "properties": {
                    "role": "waypoint",
                    "sequence": sequence,
                    "kind": point.get("kind"),
                    "name": point.get("name") or "",
                    "city": point.get("city") or "",
                    "country": point.get("country") or "",
                    "window_from": point.get("window_from"),
                    "window_until": point.get("window_until"),
                },
            }
        )
    track_row = ShipmentTrack.objects.filter(shipment=shipment).only("points", "pings", "tolerance_m").first()
    points = track_row.points if track_row else []
    features.append(
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[point[0], point[1]] for point in points]},
            "properties": {
                "role": "track",
                "pings": track_row.pings if track_row else 0,
                "points": len(points),
                "simplified_tolerance_m": track_row.tolerance_m if track_row else 0,
                "from": _epoch_iso(points[0][2]) if points else None,
                "until": _epoch_iso(points[-1][2]) if points else None,
            },
        }
    )
    return {"type": "FeatureCollection", "features": features}


def _located(point: dict) -> bool:
    return point.get("latitude") is not None and point.get("longitude") is not None


def _epoch_iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def geofence_list(*, organization_id: UUID) -> QuerySet[Geofence]:
    """The organization's geofences, by name."""
    return Geofence.objects.filter(organization_id=organization_id).order_by("name", "id")


def geofence_get(*, organization_id: UUID, geofence_id: UUID) -> Geofence:
    geofence = geofence_list(organization_id=organization_id).filter(pk=geofence_id).first()
    if geofence is None:
        raise NotFound("Geofence not found.")
    return geofence


# --- Evidence of a dispute: what one event of an order's tracking said -----------------------


def tracking_event_of_order(*, organization_id: UUID | None, order_id: UUID, event_id: UUID) -> dict | None:
    """What an event of the order's tracked shipment says (a plain summary), or None when the
    event is not one of that order's, or not one the organization sees. `organization_id`
    None: platform staff, whose all-tenants scope decides. One query (the event's month is
    unknown: every partition's primary key index is probed for the id)."""
    shipments = TrackedShipment.objects.filter(order_id=order_id, kind="order")
    events = TrackingEvent.objects.filter(pk=event_id, shipment_id__in=shipments.values("id"))
    if organization_id is not None:
        events = events.visible_to(organization_id)
    event = events.only(*EVENT_FIELDS).first()
    if event is None:
        return None
    return {
        "event_type": event.event_type,
        "event_label": event.get_event_type_display(),
        "source": event.source,
        "occurred_at": event.occurred_at.isoformat(),
        "received_at": event.received_at.isoformat(),
        "address": event.address,
        "latitude": str(event.latitude) if event.latitude is not None else None,
        "longitude": str(event.longitude) if event.longitude is not None else None,
        "temperature_c": str(event.temperature_c) if event.temperature_c is not None else None,
        "description": event.description,
        "is_implausible": event.is_implausible,
        "shipment_id": str(event.shipment_id),
    }
