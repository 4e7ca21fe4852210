"""The demo truck's journey (make run): Volga Carriers takes Baltic Shippers' goods from Tallinn
to Kazan. Shared by the demo seeder (apps/tracking/demo.py), which plans the route and backfills
the hours already driven, and by the simulator (`manage.py tracking_demo_truck`), which goes on
reporting from there through the API as the truck's device would.

Positions are a pure function of the time since departure, at a steady plausible speed along the
planned legs, so the seeder and the simulator agree without talking to each other."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.tracking.geometry import haversine_m

# (kind, city, country, latitude, longitude): the legs are the straight lines between them, the
# same lines the corridor is drawn around.
WAYPOINTS = (
    ("pickup", "Tallinn", "EE", 59.437000, 24.753600),
    ("border_crossing", "Narva", "EE", 59.377200, 28.190300),
    ("stop", "Veliky Novgorod", "RU", 58.521500, 31.275500),
    ("stop", "Moscow", "RU", 55.755800, 37.617300),
    ("delivery", "Kazan", "RU", 55.796300, 49.108800),
)
SPEED_KMH = 72.0
PING_EVERY = timedelta(seconds=10)
# The truck left this long before `make run` first seeded the demo.
DRIVEN_BEFORE_SEEDING = timedelta(hours=5)


def _legs() -> list[tuple[tuple[float, float], tuple[float, float], float]]:
    points = [(latitude, longitude) for *_, latitude, longitude in WAYPOINTS]
    return [(start, end, float(haversine_m(*start, *end)) / 1000) for start, end in itertools.pairwise(points)]


def route_length_km() -> float:
    return sum(length for *_, length in _legs())


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    speed_kmh: float
    heading: int
    arrived: bool


def position_at(*, departed_at: datetime, moment: datetime) -> Position:
    """Where the truck is at `moment`, having left Tallinn at `departed_at`."""
    travelled = max(0.0, (moment - departed_at).total_seconds() / 3600 * SPEED_KMH)
    for start, end, length in _legs():
        if travelled <= length:
            share = travelled / length if length else 1.0
            latitude = start[0] + (end[0] - start[0]) * share
            longitude = start[1] + (end[1] - start[1]) * share
            heading = math.degrees(math.atan2(end[1] - start[1], end[0] - start[0])) % 360
            return Position(round(latitude, 6), round(longitude, 6), SPEED_KMH, int(heading), False)
        travelled -= length
    *_, last_latitude, last_longitude = WAYPOINTS[-1]
    return Position(last_latitude, last_longitude, 0.0, 0, True)


def ping(*, departed_at: datetime, moment: datetime) -> dict:
    """The device's row for `moment`, as POST /api/v1/tracking/events takes it."""
    where = position_at(departed_at=departed_at, moment=moment)
    return {
        "event_type": "location_update",
        "occurred_at": moment.isoformat(),
        "latitude": f"{where.latitude:.6f}",
        "longitude": f"{where.longitude:.6f}",
        "speed_kmh": f"{where.speed_kmh:.1f}",
        "heading": where.heading,
    }
