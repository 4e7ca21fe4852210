"""The travelled track kept short: positions merged in order of time and simplified with
Douglas-Peucker (shapely) once there are too many to draw.

A track holds at most TRACK_MAX_POINTS points. Past that it is simplified with a tolerance
that starts at TRACK_BASE_TOLERANCE_M and doubles until at most half remain, so appending
costs a simplification of a few thousand points every few thousand pings, and 100,000 pings
of one truck give between 1,500 and 3,000 points (on a road map the eye cannot tell them
from the raw track at the zoom that shows the whole way). The tolerance reached is kept: the
next simplification starts from it, so the track's detail stays even along the way.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy
import shapely

TRACK_MAX_POINTS = 3000
TRACK_BASE_TOLERANCE_M = 5.0
METERS_PER_DEGREE = 111_320.0  # of latitude; a degree of longitude is shorter, so this errs on the fine side

Point = list  # [longitude, latitude, epoch seconds]


def track_merge(
    points: list[Point], additions: Iterable[Point], *, tolerance_m: float, max_points: int = TRACK_MAX_POINTS
) -> tuple[list[Point], float]:
    """`points` with `additions` put in their place by time, simplified if they grow past
    `max_points`; the points and the tolerance now in force. A point at a time the track has
    already is a repeat and is left out."""
    additions = sorted(additions, key=lambda point: point[2])
    if not additions:
        return points, tolerance_m
    merged = list(points)
    times = [point[2] for point in merged]
    for point in additions:
        if not times or point[2] > times[-1]:
            merged.append(point)
            times.append(point[2])
            continue
        index = bisect.bisect_left(times, point[2])
        if index < len(times) and times[index] == point[2]:
            continue
        merged.insert(index, point)
        times.insert(index, point[2])
    if len(merged) <= max_points:
        return merged, tolerance_m
    return track_simplify(merged, tolerance_m=tolerance_m, max_points=max_points)


def track_simplify(
    points: list[Point], *, tolerance_m: float, max_points: int = TRACK_MAX_POINTS
) -> tuple[list[Point], float]:
    """At most half of `max_points` points, with the smallest doubling of the tolerance that
    gets there (never below `tolerance_m`). The first and last points are always kept."""
    line = shapely.linestrings(numpy.asarray(points, dtype=float))
    tolerance = max(tolerance_m, TRACK_BASE_TOLERANCE_M)
    while True:
        simplified = shapely.simplify(line, tolerance / METERS_PER_DEGREE, preserve_topology=False)
        coordinates = shapely.get_coordinates(simplified, include_z=True)
        if len(coordinates) <= max_points // 2:
            return [[round(x, 6), round(y, 6), int(t)] for x, y, t in coordinates.tolist()], tolerance
        tolerance *= 2
