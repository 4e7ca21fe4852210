"""What a batch of stored events does to its shipment: deviation from the planned corridor,
geofence entries and exits, the ETA and delays, cold-chain readings. Called by the ingest
service (apps/tracking/services/ingest.py) in its transaction, with the shipment locked.

Implausible pings (a jump faster than TRACKING["MAX_PLAUSIBLE_SPEED_KMH"]) count for nothing
here. A batch is processed as arrays (apps/tracking/geometry.py): its cost in queries does not
grow with its size, only with what changes (an alert raised, a geofence entered).

The rules, each in one place below:
- Deviation: a ping farther than half the corridor width from the route is outside;
  TRACKING["DEVIATION_PINGS"] consecutive ones raise `deviation`, the first one back inside
  resolves it. Severity from the farthest ping of the run, in half-widths off the route:
  up to 2 low, up to 4 medium, up to 10 high, beyond critical (`DEVIATION_SEVERITY`).
- Geofences: the shipment's snapshot (`shipment.geofences`) and a circle of
  TRACKING["WAYPOINT_RADIUS_M"] around each located waypoint ("waypoint:<index>"). A change of
  inside/outside between pings writes a `geofence_enter` / `geofence_exit` event. Entering a
  warehouse's geofence or a waypoint's also writes a `milestone` event and publishes
  MilestoneReached, once per geofence and milestone for the shipment (a truck idling on a
  fence's edge does not arrive twenty times). A custom geofence alerts only when its snapshot
  says `"alert_on_enter": true`: entering raises `geofence` (medium, condition
  "geofence:<id>"), leaving resolves it.
- ETA: apps/tracking/selectors_eta.py. A `delay` alert while the ETA is more than
  TRACKING["DELAY_TOLERANCE"] past the promised time; severity from how late: up to 6 h
  medium (low within the first hour past the tolerance), up to 24 h high, beyond critical.
- Cold chain (the client organization's `cold_chain` flag): a reading outside the shipment's
  range raises `temperature`; severity is the worse of how far (beyond the range by up to
  1 °C low, up to 3 °C medium, up to 6 °C high, more critical) and how long the excursion has
  lasted (since its first reading out of range, which the alert remembers across batches: up
  to 15 min low, up to 30 min medium, up to 2 h high, longer critical), so a small drift that
  persists ends up as serious as a large one. The first reading back in range resolves it.
  Without the flag, readings are only stored.
- An open alert whose condition worsens is raised in severity (never lowered) once per batch.
- Any plausible event resolves `no_signal` (raised by the no-signal beat job).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings

from apps.core.services import outbox_publish
from apps.orders.selectors import shipment_find
from apps.tracking import events as domain_events
from apps.tracking.geometry import Polygon, within_circle
from apps.tracking.models import (
    Alert,
    AlertStatus,
    AlertType,
    EventType,
    Severity,
    SubjectKind,
    TrackedShipment,
    TrackingEvent,
)
from apps.tracking.selectors_eta import Waypoint, eta_compute, route_geometry, route_waypoints
from apps.tracking.services.alerts import (
    SEVERITY_RANK,
    alert_raise,
    alert_resolve_condition,
    alert_worsen,
    shipment_event_fields,
)

DEVIATION_SEVERITY = ((2.0, Severity.LOW), (4.0, Severity.MEDIUM), (10.0, Severity.HIGH))
DELAY_SEVERITY = ((timedelta(hours=6), Severity.MEDIUM), (timedelta(hours=24), Severity.HIGH))
TEMPERATURE_DEGREES_SEVERITY = ((1.0, Severity.LOW), (3.0, Severity.MEDIUM), (6.0, Severity.HIGH))
TEMPERATURE_DURATION_SEVERITY = (
    (timedelta(minutes=15), Severity.LOW),
    (timedelta(minutes=30), Severity.MEDIUM),
    (timedelta(hours=2), Severity.HIGH),
)

# What entering a geofence of each purpose records; a custom geofence records nothing.
WAYPOINT_MILESTONES = {
    "pickup": "arrived_at_pickup",
    "stop": "arrived_at_stop",
    "border_crossing": "border_crossed",
    "delivery": "arrived_at_delivery",
}
WAREHOUSE_MILESTONE = "arrived_at_warehouse"
DELIVERED_MILESTONE = "delivered"


def _graded(value, thresholds, beyond: str = Severity.CRITICAL) -> str:
    """The severity of the first threshold `value` does not pass (each is an upper bound)."""
    for bound, severity in thresholds:
        if value <= bound:
            return severity
    return beyond


def _worse(first: str, second: str) -> str:
    return first if SEVERITY_RANK[first] >= SEVERITY_RANK[second] else second


@dataclass
class _Conditions:
    """The shipment's unresolved pipeline alerts, read once per batch, and what the batch does
    to them: raise, resolve, worsen (deferred to the end of the batch: one write however many
    pings worsen it)."""

    shipment: TrackedShipment
    open: dict[str, Alert] = field(default_factory=dict)
    worsened: dict[str, tuple[str, dict]] = field(default_factory=dict)

    @classmethod
    def read(cls, shipment: TrackedShipment) -> _Conditions:
        alerts = Alert.objects.filter(shipment=shipment).exclude(status=AlertStatus.RESOLVED).exclude(condition_key="")
        return cls(shipment=shipment, open={alert.condition_key: alert for alert in alerts})

    def raise_or_worsen(self, condition_key: str, *, alert_type: str, severity: str, message: str, details: dict):
        alert = self.open.get(condition_key)
        if alert is None:
            self.open[condition_key], _ = alert_raise(
                shipment=self.shipment,
                alert_type=alert_type,
                severity=severity,
                message=message,
                condition_key=condition_key,
                details=details,
            )
            return
        pending = self.worsened.get(condition_key)
        # At an equal worse severity, the later details: they describe the condition as it is.
        if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity] and (
            pending is None or SEVERITY_RANK[severity] >= SEVERITY_RANK[pending[0]]
        ):
            self.worsened[condition_key] = (severity, details)

    def resolve(self, condition_key: str, *, reason: str) -> None:
        if self.open.pop(condition_key, None) is not None:
            self.worsened.pop(condition_key, None)
            alert_resolve_condition(shipment=self.shipment, condition_key=condition_key, reason=reason)

    def flush(self) -> None:
        for condition_key, (severity, details) in self.worsened.items():
            alert_worsen(alert=self.open[condition_key], shipment=self.shipment, severity=severity, details=details)
        self.worsened.clear()


@dataclass(frozen=True)
class _Pings:
    """The batch's plausible pings that have a position, as arrays."""

    events: list[TrackingEvent]
    latitudes: np.ndarray
    longitudes: np.ndarray

    @classmethod
    def of(cls, events: list[TrackingEvent]) -> _Pings:
        located = [event for event in events if event.latitude is not None and event.longitude is not None]
        return cls(
            events=located,
            latitudes=np.fromiter((float(event.latitude) for event in located), np.float64, len(located)),
            longitudes=np.fromiter((float(event.longitude) for event in located), np.float64, len(located)),
        )


def batch_process(*, shipment: TrackedShipment, events: list[TrackingEvent], now: datetime) -> list[TrackingEvent]:
    """Process `events` (stored, plausible or flagged, sorted by occurred_at) for the locked
    `shipment`; returns the events it derived and stored (geofence entries and exits, and the
    milestones they record)."""
    plausible = [event for event in events if not event.is_implausible]
    if not plausible:
        return []
    conditions = _Conditions.read(shipment)
    conditions.resolve("no_signal", reason="A plausible event arrived.")
    changed: set[str] = set()
    derived: list[TrackingEvent] = []
    pings = _Pings.of(plausible)
    if pings.events:
        waypoints = route_waypoints(shipment)
        _deviation(shipment, pings, waypoints, conditions, changed)
        derived = _geofences(shipment, pings, waypoints, conditions, changed)
        _eta(shipment, now, conditions, changed)
    _cold_chain(shipment, [event for event in plausible if event.temperature_c is not None], conditions)
    conditions.flush()
    if changed:
        shipment.save(update_fields=[*sorted(changed), "updated_at"])
    return derived


# --- deviation ------------------------------------------------------------------------------


def _deviation(shipment, pings: _Pings, waypoints: list[Waypoint], conditions: _Conditions, changed: set) -> None:
    route = route_geometry(shipment, waypoints)
    if route is None:
        return
    half_width = max(shipment.corridor_width_m / 2.0, 1.0)
    distances = route.locate(pings.latitudes, pings.longitudes).distance_m
    outside = distances > half_width
    needed = settings.TRACKING["DEVIATION_PINGS"]
    count = shipment.pings_outside_corridor
    # The usual batch is on the route all along: no ping to walk through one by one.
    walked = range(len(outside)) if outside.any() else range(len(outside) - 1, len(outside))
    farthest = 0.0  # over the run of pings outside seen in this batch
    for index in walked:
        if not outside[index]:
            count, farthest = 0, 0.0
            conditions.resolve("deviation", reason="Back inside the planned corridor.")
            continue
        count += 1
        farthest = max(farthest, float(distances[index]))
        if count >= needed:
            ping = pings.events[index]
            conditions.raise_or_worsen(
                "deviation",
                alert_type=AlertType.DEVIATION,
                severity=_graded(farthest / half_width, DEVIATION_SEVERITY),
                message=f"Off the planned route: {farthest / 1000:.1f} km from it for {count} pings.",
                details={
                    "distance_m": round(farthest),
                    "corridor_width_m": shipment.corridor_width_m,
                    "pings_outside": count,
                    "latitude": str(ping.latitude),
                    "longitude": str(ping.longitude),
                    "occurred_at": ping.occurred_at.isoformat(),
                },
            )
    if count != shipment.pings_outside_corridor:
        shipment.pings_outside_corridor = count
        changed.add("pings_outside_corridor")


# --- geofences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fence:
    id: str
    name: str
    purpose: str  # "warehouse", "custom", or a waypoint's kind
    contains: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (latitudes, longitudes) -> inside
    warehouse_id: str | None = None
    alert_on_enter: bool = False


def _fences(shipment: TrackedShipment, waypoints: list[Waypoint]) -> list[_Fence]:
    fences = []
    for snapshot in shipment.geofences or []:
        if not snapshot.get("id"):
            continue  # nothing to remember it by between batches
        if snapshot.get("shape") == "polygon":
            try:
                polygon = Polygon(snapshot.get("polygon") or [])
            except ValueError:
                continue  # fewer than three points: no area to be in
            contains = polygon.contains
        elif None not in (snapshot.get("center_latitude"), snapshot.get("center_longitude")) and snapshot.get(
            "radius_m"
        ):
            contains = _circle(
                float(snapshot["center_latitude"]), float(snapshot["center_longitude"]), float(snapshot["radius_m"])
            )
        else:
            continue
        fences.append(
            _Fence(
                id=str(snapshot["id"]),
                name=snapshot.get("name", ""),
                purpose=snapshot.get("purpose") or "custom",
                contains=contains,
                warehouse_id=str(snapshot["warehouse_id"]) if snapshot.get("warehouse_id") else None,
                alert_on_enter=bool(snapshot.get("alert_on_enter")),
            )
        )
    radius = float(settings.TRACKING["WAYPOINT_RADIUS_M"])
    for waypoint in waypoints:
        fences.append(
            _Fence(
                id=f"waypoint:{waypoint.index}",
                name=waypoint.name or waypoint.kind,
                purpose=waypoint.kind,
                contains=_circle(waypoint.latitude, waypoint.longitude, radius),
            )
        )
    return fences


def _circle(latitude: float, longitude: float, radius_m: float):
    def contains(latitudes, longitudes):
        return within_circle(
            latitudes, longitudes, center_latitude=latitude, center_longitude=longitude, radius_m=radius_m
        )

    return contains


def _geofences(
    shipment, pings: _Pings, waypoints: list[Waypoint], conditions: _Conditions, changed: set
) -> list[TrackingEvent]:
    fences = _fences(shipment, waypoints)
    was_inside = set(shipment.inside_geofences or [])
    now_inside = set()
    crossings = []  # (ping index, entered, fence)
    for fence in fences:
        inside = np.asarray(fence.contains(pings.latitudes, pings.longitudes), dtype=bool)
        before = np.concatenate([[fence.id in was_inside], inside[:-1]])
        crossings.extend((int(index), bool(inside[index]), fence) for index in np.flatnonzero(inside != before))
        if inside[-1]:
            now_inside.add(fence.id)
    # In the order they happened; at one ping, leaving one fence comes before entering the next.
    crossings.sort(key=lambda crossing: (crossing[0], crossing[1]))
    derived, milestones = [], []
    for index, entered, fence in crossings:
        ping = pings.events[index]
        derived.append(
            _derived_event(
                shipment,
                ping,
                EventType.GEOFENCE_ENTER if entered else EventType.GEOFENCE_EXIT,
                description=f"{'Entered' if entered else 'Left'} {fence.name}".strip(),
                metadata=_fence_metadata(fence),
            )
        )
        if fence.alert_on_enter and fence.purpose == "custom":
            _geofence_alert(fence, ping, entered, conditions)
        if entered and (milestone := _milestone_of(fence)):
            milestones.append((ping, fence, milestone))
    derived.extend(_milestones(shipment, milestones))
    derived.sort(key=lambda event: event.occurred_at)  # stable: a milestone after its entry
    if derived:
        TrackingEvent.objects.bulk_create(derived)
        for event in derived:
            if event.event_type == EventType.MILESTONE:
                outbox_publish(
                    domain_events.MilestoneReached(
                        **shipment_event_fields(shipment),
                        milestone=event.metadata["milestone"],
                        occurred_at=event.occurred_at.isoformat(),
                        tracking_event_id=str(event.id),
                        description=event.description,
                    )
                )
    # Fences no longer in the snapshot (a route or geofence changed) are forgotten, not left.
    if now_inside != was_inside:
        shipment.inside_geofences = sorted(now_inside)
        changed.add("inside_geofences")
    return derived


def _fence_metadata(fence: _Fence) -> dict:
    metadata = {"geofence_id": fence.id, "geofence_name": fence.name, "purpose": fence.purpose}
    if fence.warehouse_id:
        metadata["warehouse_id"] = fence.warehouse_id
    return metadata


def _derived_event(shipment, ping: TrackingEvent, event_type: str, *, description: str, metadata: dict):
    # No device id: (device_id, occurred_at) is the ping's own, unique.
    return TrackingEvent(
        shipment_id=shipment.id,
        client_organization_id=shipment.client_organization_id,
        supplier_organization_id=shipment.supplier_organization_id,
        event_type=event_type,
        source=ping.source,
        occurred_at=ping.occurred_at,
        received_at=ping.received_at,
        latitude=ping.latitude,
        longitude=ping.longitude,
        description=description[:300],
        metadata={**metadata, "ping_id": str(ping.id)},
    )


def _milestone_of(fence: _Fence) -> str | None:
    if fence.purpose == "warehouse":
        return WAREHOUSE_MILESTONE
    if fence.id.startswith("waypoint:"):
        return WAYPOINT_MILESTONES.get(fence.purpose)
    return None


def _milestones(shipment, reached: list[tuple[TrackingEvent, _Fence, str]]) -> list[TrackingEvent]:
    """The milestone events of the fences entered, each (fence, milestone) once per shipment.
    At the delivery waypoint, the order's proof of delivery turns the arrival into delivery."""
    if not reached:
        return []
    if any(milestone == WAYPOINT_MILESTONES["delivery"] for _, _, milestone in reached) and _has_proof_of_delivery(
        shipment
    ):
        reached = [
            (ping, fence, DELIVERED_MILESTONE if milestone == WAYPOINT_MILESTONES["delivery"] else milestone)
            for ping, fence, milestone in reached
        ]
    recorded = set(
        TrackingEvent.objects.filter(
            shipment_id=shipment.id,
            event_type=EventType.MILESTONE,
            metadata__geofence_id__in=sorted({fence.id for _, fence, _ in reached}),
        ).values_list("metadata__geofence_id", "metadata__milestone")
    )
    milestones = []
    for ping, fence, milestone in reached:
        if (fence.id, milestone) in recorded:
            continue
        recorded.add((fence.id, milestone))
        milestones.append(
            _derived_event(
                shipment,
                ping,
                EventType.MILESTONE,
                description=_milestone_description(milestone, fence),
                metadata={**_fence_metadata(fence), "milestone": milestone},
            )
        )
    return milestones


def _milestone_description(milestone: str, fence: _Fence) -> str:
    sentence = milestone.replace("_", " ").capitalize()
    return f"{sentence}: {fence.name}" if fence.name else sentence


def _has_proof_of_delivery(shipment: TrackedShipment) -> bool:
    """Whether the order's shipment names who took the goods over (CMR box 24). A package has
    no freight shipment: its arrival stays an arrival."""
    if shipment.kind != SubjectKind.ORDER:
        return False
    freight = shipment_find(organization_id=shipment.client_organization_id, order_id=shipment.order_id)
    return freight is not None and bool(freight.received_by)


def _geofence_alert(fence: _Fence, ping: TrackingEvent, entered: bool, conditions: _Conditions) -> None:
    condition_key = f"geofence:{fence.id}"[:64]
    if not entered:
        conditions.resolve(condition_key, reason=f"Left {fence.name}.")
        return
    conditions.raise_or_worsen(
        condition_key,
        alert_type=AlertType.GEOFENCE,
        severity=Severity.MEDIUM,
        message=f"Entered {fence.name}.",
        details={"geofence_id": fence.id, "occurred_at": ping.occurred_at.isoformat()},
    )


# --- ETA and delay --------------------------------------------------------------------------


def _eta(shipment: TrackedShipment, now: datetime, conditions: _Conditions, changed: set) -> None:
    eta = eta_compute(shipment, now=now)
    if eta.eta_at is None:
        return
    shipment.eta_at, shipment.eta_computed_at = eta.eta_at, now
    shipment.remaining_distance_m = eta.remaining_distance_m
    changed.update({"eta_at", "eta_computed_at", "remaining_distance_m"})
    if shipment.promised_at is None:
        return
    late = eta.eta_at - shipment.promised_at
    tolerance = settings.TRACKING["DELAY_TOLERANCE"]
    if late <= tolerance:
        conditions.resolve("delay", reason="The ETA is back within the promised time.")
        return
    severity = Severity.LOW if late <= tolerance + timedelta(hours=1) else _graded(late, DELAY_SEVERITY)
    hours = late.total_seconds() / 3600
    conditions.raise_or_worsen(
        "delay",
        alert_type=AlertType.DELAY,
        severity=severity,
        message=f"Expected {hours:.1f} h after the promised time.",
        details={
            "eta_at": eta.eta_at.isoformat(),
            "promised_at": shipment.promised_at.isoformat(),
            "late_minutes": round(late.total_seconds() / 60),
            "remaining_distance_m": eta.remaining_distance_m,
            "speed_kmh": eta.speed_kmh,
            "basis": eta.basis,
        },
    )


# --- cold chain -----------------------------------------------------------------------------


def _cold_chain(shipment: TrackedShipment, readings: list[TrackingEvent], conditions: _Conditions) -> None:
    low, high = shipment.temperature_min_c, shipment.temperature_max_c
    if not readings or (low is None and high is None) or not _cold_chain_on(shipment):
        return
    for reading in readings:
        beyond = _beyond_range(reading.temperature_c, low, high)
        if beyond <= 0:
            conditions.resolve("temperature", reason="The temperature is back in range.")
            continue
        started_at = _excursion_start(conditions.open.get("temperature"), reading)
        lasted = max(reading.occurred_at - started_at, timedelta(0))
        severity = _worse(_graded(beyond, TEMPERATURE_DEGREES_SEVERITY), _graded(lasted, TEMPERATURE_DURATION_SEVERITY))
        conditions.raise_or_worsen(
            "temperature",
            alert_type=AlertType.TEMPERATURE,
            severity=severity,
            message=f"Temperature {reading.temperature_c} °C outside {_range_text(low, high)}.",
            details={
                "started_at": started_at.isoformat(),
                "temperature_c": str(reading.temperature_c),
                "beyond_c": round(beyond, 1),
                "minutes_out_of_range": round(lasted.total_seconds() / 60),
                "occurred_at": reading.occurred_at.isoformat(),
            },
        )


def _excursion_start(alert: Alert | None, reading: TrackingEvent) -> datetime:
    """When the excursion the reading is part of began: its alert remembers it across batches."""
    if alert is None:
        return reading.occurred_at
    started_at = alert.details.get("started_at")
    return datetime.fromisoformat(started_at) if started_at else alert.created_at


def _beyond_range(temperature, low: Decimal | None, high: Decimal | None) -> float:
    """How many degrees the reading is outside the range (0 or less: inside). In floats: a
    reading may come as a float or a Decimal, and a tenth of a degree is all that matters."""
    temperature = float(temperature)
    return max(
        float(low) - temperature if low is not None else 0.0,
        temperature - float(high) if high is not None else 0.0,
    )


def _range_text(low: Decimal | None, high: Decimal | None) -> str:
    if low is None:
        return f"at most {high} °C"
    if high is None:
        return f"at least {low} °C"
    return f"{low} to {high} °C"


def _cold_chain_on(shipment: TrackedShipment) -> bool:
    """The client organization's `cold_chain` flag, as copied onto the shipment in the client's
    own scope (TrackedShipment.cold_chain): the carrier's ingest never reads the client's rows."""
    return shipment.cold_chain
