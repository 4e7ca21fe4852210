"""The planned route of a tracked shipment: its waypoints as tracking keeps them, built from an
order's shipment (its `route`, or taking over → delivery when it has none), and its length
(great-circle, apps/tracking/geometry.py).

A waypoint is {kind, latitude, longitude, city, country, name, window_from, window_until}:
coordinates as strings of six decimals (None when the place has none), windows as ISO 8601
UTC (None when the shipment names no date). A place without coordinates stays on the route
(the public page names its city) but adds nothing to the route's length.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from apps.tracking.geometry import path_length_m

WAYPOINT_KINDS = ("pickup", "stop", "border_crossing", "warehouse", "delivery")


def located(route: list[dict]) -> list[tuple[float, float]]:
    """The route's waypoints that have coordinates, as (latitude, longitude) floats, in order."""
    return [
        (float(point["latitude"]), float(point["longitude"]))
        for point in route
        if point.get("latitude") is not None and point.get("longitude") is not None
    ]


def route_length_m(route: list[dict]) -> int:
    """The length of the lines between the located waypoints, in whole meters."""
    points = located(route)
    if len(points) < 2:
        return 0
    latitudes, longitudes = zip(*points, strict=True)
    return round(path_length_m(latitudes, longitudes))


def _at(day: str | None, clock: str | None, default: time) -> str | None:
    if not day:
        return None
    moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock) if clock else default, tzinfo=UTC)
    return moment.isoformat().replace("+00:00", "Z")


END_OF_DAY = time(23, 59, 59)


def _coordinate(value) -> str | None:
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.000001")))


def waypoint(
    *, kind: str, place: dict | None, window_from: str | None, window_until: str | None, name: str = ""
) -> dict:
    """One waypoint as tracking keeps it."""
    place = place or {}
    return {
        "kind": kind,
        "latitude": _coordinate(place.get("latitude")),
        "longitude": _coordinate(place.get("longitude")),
        "city": place.get("city") or "",
        "country": place.get("country") or "",
        "name": name,
        "window_from": window_from,
        "window_until": window_until,
    }


def route_of_shipment(*, route: list[dict], taking_over: dict, delivery: dict) -> list[dict]:
    """The planned route of an order's shipment: its `route` waypoints, each with its window
    (the dates' whole days, UTC: a shipment names days, not hours), or, when it has none, the
    place of taking over (its date and hours) and the place of delivery (its days)."""
    if route:
        return [
            waypoint(
                kind=point.get("kind") or "stop",
                place=point.get("place"),
                window_from=_at(point.get("date_from"), None, time.min),
                window_until=_at(point.get("date_until"), None, END_OF_DAY),
            )
            for point in route
        ]
    waypoints = []
    if taking_over:
        waypoints.append(
            waypoint(
                kind="pickup",
                place=taking_over,
                window_from=_at(taking_over.get("date"), taking_over.get("time_from"), time.min),
                window_until=_at(taking_over.get("date"), taking_over.get("time_until"), END_OF_DAY),
            )
        )
    if delivery:
        waypoints.append(
            waypoint(
                kind="delivery",
                place=delivery,
                window_from=_at(delivery.get("date_from"), None, time.min),
                window_until=_at(delivery.get("date_until") or delivery.get("date_from"), None, END_OF_DAY),
            )
        )
    return waypoints


def promised_at(route: list[dict]) -> datetime | None:
    """When delivery is promised: the end of the last window the route names."""
    for point in reversed(route):
        if point.get("window_until"):
            return datetime.fromisoformat(point["window_until"].replace("Z", "+00:00"))
    return None


def temperature_range(cargo_lines: list[dict]) -> tuple[Decimal | None, Decimal | None]:
    """The range every line may travel in: the highest of the lines' minimums and the lowest
    of their maximums (None where no line names one)."""
    minimums = [Decimal(str(line["temperature"]["min_c"])) for line in cargo_lines if _bound(line, "min_c")]
    maximums = [Decimal(str(line["temperature"]["max_c"])) for line in cargo_lines if _bound(line, "max_c")]
    return (max(minimums) if minimums else None, min(maximums) if maximums else None)


def _bound(line: dict, name: str) -> bool:
    return (line.get("temperature") or {}).get(name) is not None
