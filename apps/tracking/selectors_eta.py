"""The planned route of a tracked shipment as geometry, and its ETA: the remaining distance
along the route from the latest plausible position, at the recent moving speed.

The ingest pipeline stores the ETA on the shipment after each batch with positions
(apps/tracking/processing.py); the read API may call `eta_compute` for a fresh one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from apps.tracking.geometry import Route, haversine_m
from apps.tracking.models import EventType, TrackedShipment, TrackingEvent


@dataclass(frozen=True)
class Waypoint:
    """A waypoint of the route that has coordinates; `index` is its place in `shipment.route`."""

    index: int
    kind: str
    name: str
    latitude: float
    longitude: float


def route_waypoints(shipment: TrackedShipment) -> list[Waypoint]:
    """The route's waypoints that have coordinates, in order (a waypoint known only by its
    city is part of the plan but not of the geometry)."""
    located = []
    for index, waypoint in enumerate(shipment.route or []):
        latitude, longitude = waypoint.get("latitude"), waypoint.get("longitude")
        if latitude is None or longitude is None or latitude == "" or longitude == "":
            continue
        located.append(
            Waypoint(
                index=index,
                kind=waypoint.get("kind", ""),
                name=waypoint.get("name") or waypoint.get("city") or "",
                latitude=float(latitude),
                longitude=float(longitude),
            )
        )
    return located


def route_geometry(shipment: TrackedShipment, waypoints: list[Waypoint] | None = None) -> Route | None:
    """The polyline of the planned route, or None when fewer than two waypoints have
    coordinates (no corridor, no distance left to tell)."""
    waypoints = route_waypoints(shipment) if waypoints is None else waypoints
    if len(waypoints) < 2:
        return None
    return Route([point.latitude for point in waypoints], [point.longitude for point in waypoints])


class EtaBasis:
    RECENT_SPEED = "recent_speed"  # the moving pings of the last window
    DEFAULT_SPEED = "default_speed"  # no moving pings in the window: TRACKING["ETA_DEFAULT_SPEED_KMH"]
    NO_ROUTE = "no_route"  # fewer than two located waypoints
    NO_POSITION = "no_position"  # no plausible position yet


@dataclass(frozen=True)
class EtaResult:
    """When the goods should arrive, and what the estimate stands on. Without a route or a
    position, `eta_at` and the distances are None and `basis` says which is missing."""

    basis: str
    computed_at: datetime
    eta_at: datetime | None = None
    remaining_distance_m: int | None = None
    speed_kmh: float | None = None
    position_at: datetime | None = None
    progress_m: int | None = None
    distance_from_route_m: int | None = None


# Events that repeat a ping's position rather than report one (the pipeline's own).
DERIVED_TYPES = (EventType.GEOFENCE_ENTER, EventType.GEOFENCE_EXIT, EventType.MILESTONE)


def recent_positions(shipment: TrackedShipment) -> list[tuple[datetime, float, float]]:
    """The latest plausible positions, newest first: (occurred_at, latitude, longitude), at
    most TRACKING["ETA_SPEED_PINGS"]. One query along the (shipment_id, -occurred_at) index."""
    rows = (
        TrackingEvent.objects.filter(
            shipment_id=shipment.id, is_implausible=False, latitude__isnull=False, longitude__isnull=False
        )
        .exclude(event_type__in=DERIVED_TYPES)
        .order_by("-occurred_at")
        .values_list("occurred_at", "latitude", "longitude")[: settings.TRACKING["ETA_SPEED_PINGS"]]
    )
    return [(occurred_at, float(latitude), float(longitude)) for occurred_at, latitude, longitude in rows]


def moving_speed_kmh(positions: list[tuple[datetime, float, float]]) -> float | None:
    """The average speed while moving over the positions (newest first) of the last
    TRACKING["ETA_SPEED_WINDOW"] before the newest: distance over time between consecutive
    pings, leaving out the legs slower than TRACKING["STOP_SPEED_KMH"] (stops, waiting at a
    border). None when no leg moved.

    Measured from the positions, not the devices' reported speeds: every source has positions,
    few report a speed, and a leg's average is what the remaining distance is covered at."""
    if len(positions) < 2:
        return None
    newest = positions[0][0]
    window = [row for row in positions if newest - row[0] <= settings.TRACKING["ETA_SPEED_WINDOW"]][::-1]
    if len(window) < 2:
        return None
    seconds = np.diff(np.array([row[0].timestamp() for row in window]))
    latitudes = np.array([row[1] for row in window])
    longitudes = np.array([row[2] for row in window])
    meters = haversine_m(latitudes[:-1], longitudes[:-1], latitudes[1:], longitudes[1:])
    timed = seconds > 0
    leg_kmh = np.divide(meters, seconds, out=np.zeros_like(meters), where=timed) * 3.6
    moving = timed & (leg_kmh >= settings.TRACKING["STOP_SPEED_KMH"])
    if not moving.any():
        return None
    return float(meters[moving].sum() / seconds[moving].sum() * 3.6)


def eta_compute(
    shipment: TrackedShipment,
    *,
    now: datetime | None = None,
    positions: list[tuple[datetime, float, float]] | None = None,
) -> EtaResult:
    """The ETA of the shipment from its latest plausible position (`positions`, newest first,
    as `recent_positions` reads them when not given).

    remaining = the route's length - the position's progress along it + its distance to the
    route (the way back to it when off the corridor); eta = now + remaining / moving speed.
    Counted from now rather than from the position's time: a stale position (a truck with no
    signal) does not make the ETA slip into the past; the no-signal alert tells that part."""
    now = now or timezone.now()
    route = route_geometry(shipment)
    if route is None:
        return EtaResult(basis=EtaBasis.NO_ROUTE, computed_at=now)
    positions = recent_positions(shipment) if positions is None else positions
    if not positions:
        return EtaResult(basis=EtaBasis.NO_POSITION, computed_at=now)
    position_at, latitude, longitude = positions[0]
    located = route.locate(latitude, longitude)
    progress, off_route = float(located.progress_m[0]), float(located.distance_m[0])
    remaining = max(route.length_m - progress, 0.0) + off_route
    speed = moving_speed_kmh(positions)
    basis = EtaBasis.RECENT_SPEED
    if speed is None:
        speed, basis = float(settings.TRACKING["ETA_DEFAULT_SPEED_KMH"]), EtaBasis.DEFAULT_SPEED
    return EtaResult(
        basis=basis,
        computed_at=now,
        eta_at=now + timedelta(hours=remaining / 1000.0 / speed),
        remaining_distance_m=round(remaining),
        speed_kmh=round(speed, 1),
        position_at=position_at,
        progress_m=round(progress),
        distance_from_route_m=round(off_route),
    )
