"""The public tracking page's read: what anyone holding a tracking number may see.

Read through the one narrow path, the SECURITY DEFINER function `tracking_public_shipment`
(migration 0004_public_tracking_function says what it returns and why), never in a tenant
scope and never through the bypass. Labels come from fixed tables here: codes found in events
(which a device or a carrier may fill in) are shown only as the labels they map to, so no free
text of an event (an address, a name) can reach the page.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from django.db import connection

from apps.core.errors import NotFound

PUBLIC_COLUMNS = (
    "tracking_number",
    "kind",
    "status",
    "location_city",
    "location_country",
    "last_position_at",
    "eta_at",
    "promised_at",
    "completed_at",
    "waypoints",
    "track",
    "milestones",
)

NOT_FOUND_MESSAGE = "No shipment has this tracking number."
TRACKING_NUMBER = re.compile(r"^[A-Z0-9]{1,16}$")

# An order's or a package's status as a stranger may read it: the states before the goods
# move say only that the shipment is being prepared (never "paid" or "quoted").
STATUS_LABELS = {
    "draft": "Being prepared",
    "requested": "Being prepared",
    "quoted": "Being prepared",
    "pending": "Being prepared",
    "paid": "Being prepared",
    "purchased": "Being prepared",
    "confirmed": "Booked",
    "received_at_warehouse": "At a warehouse",
    "at_warehouse": "At a warehouse",
    "in_transit": "In transit",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "completed": "Delivered",
    "cancelled": "Cancelled",
}
DEFAULT_STATUS_LABEL = "In progress"

MILESTONE_LABELS = {
    "picked_up": "Picked up",
    "departed": "Departed",
    "border_crossed": "Crossed a border",
    "arrived_at_warehouse": "Arrived at a warehouse",
    "left_warehouse": "Left a warehouse",
    "arrived_at_delivery": "Arrived at the destination",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
}
DEFAULT_MILESTONE_LABEL = "Milestone"

WAYPOINT_LABELS = {
    "pickup": "Reached the pickup point",
    "taking_over": "Reached the pickup point",
    "stop": "Reached a stop",
    "border_crossing": "Reached the border",
    "warehouse": "Reached a warehouse",
    "delivery": "Reached the destination",
}
DEFAULT_WAYPOINT_LABEL = "Reached a point of the route"


def public_shipment_row(*, tracking_number: str) -> dict | None:
    """The public columns of the shipment with this tracking number, or None.

    Needs no tenant scope and opens none: the function is the one path by which a caller
    without a tenant sees anything of a tracked shipment."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tracking_public_shipment(%s)", [tracking_number])
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip([column.name for column in cursor.description], row, strict=True))
    # Django has psycopg hand jsonb over as text (its JSONField decodes it); so do we.
    for column in ("waypoints", "track", "milestones"):
        if isinstance(found[column], str):
            found[column] = json.loads(found[column])
    return found


def _normalized(tracking_number: str) -> str:
    """Upper case, no spaces or dashes (as people copy numbers); anything else matches nothing.
    A malformed number is still looked up, so it answers no sooner than an unknown one."""
    cleaned = re.sub(r"[\s-]", "", tracking_number or "").upper()
    return cleaned if TRACKING_NUMBER.match(cleaned) else ""


def _milestone_label(mark: dict, waypoints: list[dict]) -> str:
    if mark["type"] == "geofence_enter":
        index = mark.get("waypoint")
        # "waypoint:<index>" counts from 0, as the route's list does (apps/tracking/processing.py).
        waypoint = waypoints[index] if isinstance(index, int) and 0 <= index < len(waypoints) else {}
        label = WAYPOINT_LABELS.get(waypoint.get("kind", ""), DEFAULT_WAYPOINT_LABEL)
        return f"{label} in {waypoint['city']}" if waypoint.get("city") else label
    if mark["type"] == "status_change":
        return STATUS_LABELS.get(mark["code"], DEFAULT_STATUS_LABEL)
    return MILESTONE_LABELS.get(mark["code"], DEFAULT_MILESTONE_LABEL)


def _milestones(marks: list[dict], waypoints: list[dict]) -> list[dict]:
    """Dated labels, oldest first; one label once per minute (a waypoint's geofence entry and
    the milestone it records say the same thing)."""
    milestones, seen = [], set()
    for mark in marks:
        at = datetime.fromisoformat(mark["at"])
        label = _milestone_label(mark, waypoints)
        key = (label, at.replace(second=0, microsecond=0))
        if key in seen:
            continue
        seen.add(key)
        milestones.append({"at": at, "label": label})
    return milestones


def public_tracking(*, tracking_number: str) -> dict:
    """What the public page shows of the shipment with this number; NotFound otherwise (the
    same answer for a malformed, an unknown and a mistyped number)."""
    row = public_shipment_row(tracking_number=_normalized(tracking_number))
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    waypoints = [
        {key: waypoint[key] for key in ("kind", "city", "country", "latitude", "longitude")}
        for waypoint in row["waypoints"]
    ]
    delivered = row["status"] in {"delivered", "completed"}
    return {
        "tracking_number": row["tracking_number"],
        "kind": row["kind"],
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], DEFAULT_STATUS_LABEL),
        "location": (
            {"city": row["location_city"], "country": row["location_country"]} if row["location_city"] else None
        ),
        "last_seen_at": row["last_position_at"],
        # Once delivered, the ETA is history: the page says when instead.
        "eta_at": None if delivered else row["eta_at"],
        "promised_at": row["promised_at"],
        "delivered_at": row["completed_at"] if delivered else None,
        "milestones": _milestones(row["milestones"], waypoints),
        "route": {"waypoints": waypoints, "track": [[float(lat), float(lon)] for lat, lon in row["track"]]},
    }
