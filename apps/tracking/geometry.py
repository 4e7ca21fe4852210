"""Geometry of tracking on the Earth: distances, a planned route's corridor and progress along
it, geofence containment. Pure (numpy and shapely, no Django), vectorized: a batch of pings is
one array, so a batch of 1,000 costs a few array operations, not 1,000 Python loops.

Coordinates are degrees (latitude, longitude), in that order everywhere, as the API and the
route's waypoints say them; shapely gets (x, y) = (east, north) in meters or (longitude,
latitude), and that translation stays inside this module.

The Earth is a sphere of the mean radius (IUGG): against the ellipsoid that errs by at most
~0.5 % on a distance, well under a GPS fix's error at the scales tracking decides on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8

ArrayLike = float | Sequence[float] | np.ndarray


def _degrees(values: ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _wrap_longitude(delta: np.ndarray) -> np.ndarray:
    """A longitude difference brought into [-180, 180): a route across the antimeridian stays
    one piece rather than going round the world the other way."""
    return (delta + 180.0) % 360.0 - 180.0


def haversine_m(latitude_1: ArrayLike, longitude_1: ArrayLike, latitude_2: ArrayLike, longitude_2: ArrayLike):
    """Great-circle distance in meters between points (scalars or arrays, broadcast)."""
    phi_1, phi_2 = np.radians(_degrees(latitude_1)), np.radians(_degrees(latitude_2))
    half_d_phi = (phi_2 - phi_1) / 2.0
    half_d_lambda = np.radians(_wrap_longitude(_degrees(longitude_2) - _degrees(longitude_1))) / 2.0
    a = np.sin(half_d_phi) ** 2 + np.cos(phi_1) * np.cos(phi_2) * np.sin(half_d_lambda) ** 2
    # The clip keeps rounding (a a hair above 1 for antipodes) out of arcsin's domain error.
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def path_length_m(latitudes: ArrayLike, longitudes: ArrayLike) -> float:
    """Length in meters of the polyline through the points, in order (0 for fewer than two)."""
    latitudes, longitudes = _degrees(latitudes), _degrees(longitudes)
    if latitudes.size < 2:
        return 0.0
    return float(haversine_m(latitudes[:-1], longitudes[:-1], latitudes[1:], longitudes[1:]).sum())


@dataclass(frozen=True)
class LocalProjection:
    """An equirectangular projection centred on (latitude, longitude): meters east and north.

    Why this one: the decisions it serves (is a ping within a few kilometers of the route,
    where along it is the nearest point) are about short offsets between a ping and a nearby
    piece of the route. Both are projected with the same east-west scale, cos(center latitude),
    so the projection's error is relative to that offset: |1 - cos(center) / cos(latitude)|, about
    8 % at 3 degrees of latitude from the center, i.e. ~200 m on a 2.5 km half-corridor. `Route`
    then measures the distances that matter on the sphere again (the ping to its nearest point,
    the progress from the segments' true lengths), so what is reported carries the sphere's
    accuracy and the projection only picks the nearest point. A conformal or equal-distance
    projection would cost more per ping for nothing the corridor decides differently. Not meant
    for the poles (no road freight there)."""

    center_latitude: float
    center_longitude: float

    @property
    def _east_scale(self) -> float:
        return EARTH_RADIUS_M * np.cos(np.radians(self.center_latitude))

    def forward(self, latitudes: ArrayLike, longitudes: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(east, north) in meters from the center."""
        east = np.radians(_wrap_longitude(_degrees(longitudes) - self.center_longitude)) * self._east_scale
        north = np.radians(_degrees(latitudes) - self.center_latitude) * EARTH_RADIUS_M
        return east, north

    def inverse(self, east: ArrayLike, north: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(latitude, longitude) in degrees of points given in meters from the center."""
        latitudes = self.center_latitude + np.degrees(_degrees(north) / EARTH_RADIUS_M)
        longitudes = _wrap_longitude(self.center_longitude + np.degrees(_degrees(east) / self._east_scale))
        return latitudes, longitudes


@dataclass(frozen=True)
class RoutePositions:
    """Where points lie against a route: their distance to it and their progress along it (the
    route's meters from its start to the nearest point), both in meters, one per point."""

    distance_m: np.ndarray
    progress_m: np.ndarray


class Route:
    """A planned route: the polyline through its waypoints, in order."""

    def __init__(self, latitudes: ArrayLike, longitudes: ArrayLike):
        latitudes, longitudes = _degrees(latitudes), _degrees(longitudes)
        if latitudes.size < 2:
            raise ValueError("A route needs at least two points.")
        self.latitudes, self.longitudes = latitudes, longitudes
        # Centered on the middle of its bounding box: the point that keeps the largest latitude
        # offset (and so the projection's error) smallest. Longitudes relative to the first
        # waypoint, so that a route across the antimeridian has the right middle.
        relative_longitudes = _wrap_longitude(longitudes - longitudes[0])
        self.projection = LocalProjection(
            center_latitude=float((latitudes.max() + latitudes.min()) / 2),
            center_longitude=float(
                _wrap_longitude(longitudes[0] + (relative_longitudes.max() + relative_longitudes.min()) / 2)
            ),
        )
        east, north = self.projection.forward(latitudes, longitudes)
        self.line = shapely.LineString(np.column_stack([east, north]))
        shapely.prepare(self.line)
        segment_lengths = haversine_m(latitudes[:-1], longitudes[:-1], latitudes[1:], longitudes[1:])
        # The progress of each vertex, on the sphere and in the projection: a point's projected
        # progress is mapped onto the true one segment by segment.
        self.vertex_progress_m = np.concatenate([[0.0], np.cumsum(segment_lengths)])
        projected_lengths = np.hypot(np.diff(east), np.diff(north))
        self._vertex_projected = np.concatenate([[0.0], np.cumsum(projected_lengths)])

    @property
    def length_m(self) -> float:
        return float(self.vertex_progress_m[-1])

    def locate(self, latitudes: ArrayLike, longitudes: ArrayLike) -> RoutePositions:
        """Each point's distance to the route and its progress along it (see RoutePositions)."""
        latitudes, longitudes = np.atleast_1d(_degrees(latitudes)), np.atleast_1d(_degrees(longitudes))
        east, north = self.projection.forward(latitudes, longitudes)
        points = shapely.points(east, north)
        projected_progress = shapely.line_locate_point(self.line, points)
        nearest = shapely.line_interpolate_point(self.line, projected_progress)
        nearest_latitudes, nearest_longitudes = self.projection.inverse(shapely.get_x(nearest), shapely.get_y(nearest))
        distance = haversine_m(latitudes, longitudes, nearest_latitudes, nearest_longitudes)
        # The segment each nearest point lies on, and how far along it: the same fraction of the
        # segment's true length.
        segment = np.clip(
            np.searchsorted(self._vertex_projected, projected_progress, side="right") - 1,
            0,
            len(self._vertex_projected) - 2,
        )
        start, end = self._vertex_projected[segment], self._vertex_projected[segment + 1]
        span = end - start
        fraction = np.divide(projected_progress - start, span, out=np.zeros_like(span), where=span > 0)
        progress = self.vertex_progress_m[segment] + np.clip(fraction, 0.0, 1.0) * (
            self.vertex_progress_m[segment + 1] - self.vertex_progress_m[segment]
        )
        return RoutePositions(distance_m=distance, progress_m=progress)


def within_circle(
    latitudes: ArrayLike, longitudes: ArrayLike, *, center_latitude: float, center_longitude: float, radius_m: float
) -> np.ndarray:
    """Whether each point is within `radius_m` of the center (the edge counts as inside)."""
    return np.atleast_1d(haversine_m(latitudes, longitudes, center_latitude, center_longitude) <= radius_m)


class Polygon:
    """A geofence polygon: one ring of [latitude, longitude] points (closed or not).

    Its edges are straight lines in (longitude, latitude): against great-circle edges the
    difference is centimeters for a geofence of a few kilometers, the size geofences are.
    Longitudes are unwrapped around the first vertex, so a ring across the antimeridian holds."""

    def __init__(self, ring: Sequence[Sequence[float]]):
        vertices = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
        if len(vertices) < 3:
            raise ValueError("A polygon needs at least three points.")
        self.reference_longitude = float(vertices[0, 1])
        longitudes = self.reference_longitude + _wrap_longitude(vertices[:, 1] - self.reference_longitude)
        self.shape = shapely.Polygon(np.column_stack([longitudes, vertices[:, 0]]))
        if not self.shape.is_valid:
            # A self-crossing ring drawn by hand: its filled area, as a person reads the drawing.
            self.shape = shapely.make_valid(self.shape)
        shapely.prepare(self.shape)

    def contains(self, latitudes: ArrayLike, longitudes: ArrayLike) -> np.ndarray:
        """Whether each point is inside the polygon (the edge counts as inside)."""
        latitudes, longitudes = np.atleast_1d(_degrees(latitudes)), np.atleast_1d(_degrees(longitudes))
        longitudes = self.reference_longitude + _wrap_longitude(longitudes - self.reference_longitude)
        return shapely.intersects_xy(self.shape, longitudes, latitudes)
