"""Ingest: the one writer of tracking events (devices, drivers' apps, people, carriers' APIs).

`events_record` takes rows as an API receives them, for one tracked shipment, and answers what
it stored, what it had already and which rows it refused, row by row. `device_events_record`
does the same for a device's batch, each row going to the shipment the device is assigned to
at the row's `occurred_at`.

The hot path (a device's batch of up to TRACKING["MAX_BATCH"] rows) is written for speed: one
hand-written validator per row instead of a serializer, one INSERT of the whole batch (arrays
unnested) that skips duplicates and returns what it stored, one UPDATE of the shipment."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import DomainError, NotFound
from apps.core.services import outbox_publish
from apps.tenancy.roles import Actor
from apps.tracking import events, live, processing
from apps.tracking.models import DeviceAssignment, EventSource, EventType, TrackedShipment, TrackingEvent
from apps.tracking.services.alerts import shipment_event_fields
from apps.tracking.services.shipments import shipment_track_append

logger = logging.getLogger(__name__)

FIELDS = frozenset(
    {
        "event_type",
        "latitude",
        "longitude",
        "address",
        "occurred_at",
        "speed_kmh",
        "heading",
        "temperature_c",
        "description",
        "metadata",
    }
)
EVENT_TYPES = frozenset(EventType.values)
SOURCES = frozenset(EventSource.values)
MILESTONE_TYPES = frozenset({EventType.MILESTONE.value, EventType.STATUS_CHANGE.value})
LOCATION_UPDATE = EventType.LOCATION_UPDATE.value
MAX_TEXT = 300
MAX_METADATA_BYTES = 1024
# What a sensor can report, well beyond what a truck does (the columns allow more).
SPEED_RANGE = (Decimal(0), Decimal(1000))
TEMPERATURE_RANGE = (Decimal(-100), Decimal(200))
LATITUDE_RANGE = (Decimal(-90), Decimal(90))
LONGITUDE_RANGE = (Decimal(-180), Decimal(180))
MICRODEGREE = Decimal("0.000001")
TENTH = Decimal("0.1")
# Two pings of the same moment closer than this are the same place (receiver jitter).
SAME_PLACE_KM = 0.05
EARTH_RADIUS_KM = 6371.0088
_DECIMAL_TEXT = re.compile(r"-?\d+(?:\.\d+)?")

REQUIRED = "This field is required."
NOT_A_NUMBER = "A number is required."
NOT_TEXT = "A string is required."


@dataclass(frozen=True)
class IngestResult:
    stored: list[TrackingEvent]  # the new rows, sorted by occurred_at
    duplicates: int  # rows already stored (same device and occurred_at)
    rejected: list[dict]  # [{"index": <row index in the input>, "errors": {field: [msg]}}]


class _Ping:
    """One valid row, cleaned: what the INSERT needs, and the coordinates as floats."""

    __slots__ = (
        "address",
        "description",
        "event_type",
        "heading",
        "id",
        "implausible",
        "index",
        "lat",
        "latitude",
        "lon",
        "longitude",
        "metadata",
        "occurred_at",
        "speed_kmh",
        "temperature_c",
    )

    def __init__(self, index: int):
        self.index = index
        self.id = uuid4()
        self.implausible = False


# --- validation -------------------------------------------------------------------------------


def _decimal(value, low: Decimal, high: Decimal, places: Decimal, errors: dict, field: str) -> Decimal | None:
    """A number from JSON (a number or a decimal string) within [low, high], rounded to `places`."""
    kind = type(value)
    if kind is str:
        text = value.strip()
        if not _DECIMAL_TEXT.fullmatch(text):
            errors[field] = [NOT_A_NUMBER]
            return None
        number = Decimal(text)
    elif kind is int:
        number = Decimal(value)
    elif kind is float:
        if not math.isfinite(value):
            errors[field] = [NOT_A_NUMBER]
            return None
        number = Decimal(repr(value))  # the shortest decimal that reads back as the float
    else:  # bool, None, list, object
        errors[field] = [NOT_A_NUMBER]
        return None
    if not low <= number <= high:
        errors[field] = [f"Must be between {low} and {high}."]
        return None
    return number.quantize(places)


def _text(value, errors: dict, field: str) -> str:
    if type(value) is not str:
        errors[field] = [NOT_TEXT]
        return ""
    if len(value) > MAX_TEXT:
        errors[field] = [f"At most {MAX_TEXT} characters."]
        return ""
    if "\x00" in value:
        errors[field] = ["NUL characters are not allowed."]
        return ""
    return value.strip()


def _occurred_at(value, now: datetime, errors: dict) -> datetime | None:
    if type(value) is not str:
        errors["occurred_at"] = [REQUIRED if value is None else "An ISO 8601 date and time is required."]
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = ["An ISO 8601 date and time is required."]
        return None
    if moment.tzinfo is None:
        errors["occurred_at"] = ["The time needs its UTC offset (e.g. 2026-12-01T08:30:00+01:00 or ...Z)."]
        return None
    moment = moment.astimezone(UTC)
    tracking = settings.TRACKING
    if moment > now + tracking["MAX_CLOCK_SKEW"]:
        errors["occurred_at"] = ["Too far in the future."]
        return None
    if moment < now - tracking["MAX_EVENT_AGE"]:
        errors["occurred_at"] = [f"Older than {tracking['MAX_EVENT_AGE'].days} days: too old to take."]
        return None
    return moment


def _row_validate(row, index: int, now: datetime) -> tuple[_Ping | None, dict]:
    """(the cleaned ping, {}) or (None, {field: [message]})."""
    if type(row) is not dict:
        return None, {"non_field_errors": ["Expected an object."]}
    errors: dict = {}
    for key in row.keys() - FIELDS:
        errors[str(key)] = ["Unknown field."]
    ping = _Ping(index)
    get = row.get

    event_type = get("event_type", LOCATION_UPDATE)
    if type(event_type) is not str or event_type not in EVENT_TYPES:
        errors["event_type"] = [f"One of: {', '.join(sorted(EVENT_TYPES))}."]
    ping.event_type = event_type
    ping.occurred_at = _occurred_at(get("occurred_at"), now, errors)

    latitude, longitude = get("latitude"), get("longitude")
    if latitude is None and longitude is None:
        ping.latitude = ping.longitude = ping.lat = ping.lon = None
        if event_type == LOCATION_UPDATE:
            errors["latitude"] = errors["longitude"] = ["A location update needs coordinates."]
    elif latitude is None or longitude is None:
        errors["latitude" if latitude is None else "longitude"] = ["Give both coordinates or neither."]
    else:
        ping.latitude = _decimal(latitude, *LATITUDE_RANGE, MICRODEGREE, errors, "latitude")
        ping.longitude = _decimal(longitude, *LONGITUDE_RANGE, MICRODEGREE, errors, "longitude")
        if ping.latitude is not None and ping.longitude is not None:
            ping.lat, ping.lon = float(ping.latitude), float(ping.longitude)

    value = get("speed_kmh")
    ping.speed_kmh = None if value is None else _decimal(value, *SPEED_RANGE, TENTH, errors, "speed_kmh")
    value = get("temperature_c")
    ping.temperature_c = None if value is None else _decimal(value, *TEMPERATURE_RANGE, TENTH, errors, "temperature_c")
    value = get("heading")
    if value is None:
        ping.heading = None
    elif type(value) is int and 0 <= value <= 359:
        ping.heading = value
    else:
        errors["heading"] = ["A whole number of degrees from 0 to 359."]
    value = get("address")
    ping.address = "" if value is None else _text(value, errors, "address")
    value = get("description")
    ping.description = "" if value is None else _text(value, errors, "description")
    value = get("metadata")
    if value is None:
        ping.metadata = "{}"
    elif type(value) is not dict:
        errors["metadata"] = ["An object is required."]
    else:
        ping.metadata = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if len(ping.metadata) > MAX_METADATA_BYTES:
            errors["metadata"] = [f"At most {MAX_METADATA_BYTES} characters of JSON."]
    return (None, errors) if errors else (ping, errors)


def rows_validate(rows: list, *, now: datetime) -> tuple[list[_Ping], list[dict]]:
    """The valid rows cleaned, and the others with their index and errors."""
    pings, rejected = [], []
    for index, row in enumerate(rows):
        ping, errors = _row_validate(row, index, now)
        if ping is None:
            rejected.append({"index": index, "errors": errors})
        else:
            pings.append(ping)
    return pings, rejected


# --- plausibility -----------------------------------------------------------------------------


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _is_jump(reference: tuple[datetime, float, float], ping: _Ping, max_kmh: float) -> bool:
    at, lat, lon = reference
    distance = _distance_km(lat, lon, ping.lat, ping.lon)
    hours = (ping.occurred_at - at).total_seconds() / 3600
    if hours <= 0:
        return distance > SAME_PLACE_KM
    return distance / hours > max_kmh


def _flag_implausible(pings: list[_Ping], shipment: TrackedShipment) -> None:
    """Flag each positioned ping (sorted by time) whose speed from the previous plausible
    position exceeds TRACKING["MAX_PLAUSIBLE_SPEED_KMH"]: the batch's previous plausible
    ping, or the shipment's last position when that is later (and still before the ping)."""
    max_kmh = float(settings.TRACKING["MAX_PLAUSIBLE_SPEED_KMH"])
    last = None
    if shipment.last_position_at is not None and shipment.last_latitude is not None:
        last = (shipment.last_position_at, float(shipment.last_latitude), float(shipment.last_longitude))
    previous = None
    for ping in pings:
        if ping.lat is None:
            continue
        reference = previous
        if last is not None and last[0] < ping.occurred_at and (reference is None or reference[0] < last[0]):
            reference = last
        if reference is not None and _is_jump(reference, ping, max_kmh):
            ping.implausible = True
        else:
            previous = (ping.occurred_at, ping.lat, ping.lon)


# --- storing ----------------------------------------------------------------------------------

INSERT = """
INSERT INTO tracking_trackingevent (
    id, shipment_id, client_organization_id, supplier_organization_id, event_type, source,
    occurred_at, received_at, latitude, longitude, address, speed_kmh, heading, temperature_c,
    device_id, created_by_id, is_implausible, description, metadata
)
SELECT row.id, %s, %s, %s, row.event_type, %s, row.occurred_at, %s, row.latitude, row.longitude,
       row.address, row.speed_kmh, row.heading, row.temperature_c, %s, %s, row.is_implausible,
       row.description, row.metadata::jsonb
  FROM unnest(
      %s::uuid[], %s::text[], %s::timestamptz[], %s::numeric[], %s::numeric[], %s::text[],
      %s::numeric[], %s::smallint[], %s::numeric[], %s::boolean[], %s::text[], %s::text[]
  ) AS row(id, event_type, occurred_at, latitude, longitude, address, speed_kmh, heading,
           temperature_c, is_implausible, description, metadata)
ON CONFLICT DO NOTHING
RETURNING id
"""


def _insert(pings: list[_Ping], *, shipment, source, device_id, created_by_id, now) -> set[UUID]:
    """One statement for the batch; the ids it stored (a duplicate of a stored ping is skipped)."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT,
            [
                shipment.id,
                shipment.client_organization_id,
                shipment.supplier_organization_id,
                source,
                now,
                device_id,
                created_by_id,
                [p.id for p in pings],
                [p.event_type for p in pings],
                [p.occurred_at for p in pings],
                [p.latitude for p in pings],
                [p.longitude for p in pings],
                [p.address for p in pings],
                [p.speed_kmh for p in pings],
                [p.heading for p in pings],
                [p.temperature_c for p in pings],
                [p.implausible for p in pings],
                [p.description for p in pings],
                [p.metadata for p in pings],
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _event(ping: _Ping, shipment, source, device_id, created_by_id, now) -> TrackingEvent:
    # In the model's field order: from_db builds it positionally, as if read back.
    return TrackingEvent.from_db(
        connection.alias,
        None,
        (
            ping.id,
            shipment.id,
            shipment.client_organization_id,
            shipment.supplier_organization_id,
            ping.event_type,
            source,
            ping.occurred_at,
            now,
            ping.latitude,
            ping.longitude,
            ping.address,
            ping.speed_kmh,
            ping.heading,
            ping.temperature_c,
            device_id,
            created_by_id,
            ping.implausible,
            ping.description,
            json.loads(ping.metadata) if ping.metadata != "{}" else {},
        ),
    )


def _lock(shipment_id: UUID) -> TrackedShipment:
    """The shipment's row, locked until commit: batches of one shipment are processed one after
    the other, each seeing the last position the one before left. Row-level security: a
    shipment the tenant is no party of is not found."""
    locked = TrackedShipment.objects.select_for_update().filter(pk=shipment_id).first()
    if locked is None:
        raise NotFound("Tracked shipment not found.")
    if not locked.is_active:
        raise DomainError("Tracking of this shipment has ended: it takes no more events.")
    return locked


def _record(
    *, shipment_id: UUID, pings: list[_Ping], source: str, actor: Actor, device_id: UUID | None, now: datetime
) -> tuple[list[TrackingEvent], int]:
    """Store the valid pings of one shipment, locked: (stored events by time, duplicates)."""
    locked = _lock(shipment_id)
    if not pings:
        return [], 0
    pings.sort(key=lambda ping: ping.occurred_at)
    duplicates = 0
    if device_id is not None:
        # The same moment twice in one batch: the first is taken (the INSERT would skip the
        # second too; dropping it here keeps it out of the plausibility check).
        unique, seen = [], set()
        for ping in pings:
            if ping.occurred_at in seen:
                duplicates += 1
            else:
                seen.add(ping.occurred_at)
                unique.append(ping)
        pings = unique
    _flag_implausible(pings, locked)
    created_by_id = actor.user_id
    inserted = _insert(pings, shipment=locked, source=source, device_id=device_id, created_by_id=created_by_id, now=now)
    duplicates += len(pings) - len(inserted)
    stored = [_event(p, locked, source, device_id, created_by_id, now) for p in pings if p.id in inserted]
    if not stored:
        return [], duplicates

    changed = ["updated_at"]
    newest_event_at = stored[-1].occurred_at
    if locked.last_event_at is None or newest_event_at > locked.last_event_at:
        locked.last_event_at = newest_event_at
        changed.append("last_event_at")
    position = next((e for e in reversed(stored) if e.latitude is not None and not e.is_implausible), None)
    if position is not None and (locked.last_position_at is None or position.occurred_at > locked.last_position_at):
        locked.last_latitude, locked.last_longitude = position.latitude, position.longitude
        locked.last_position_at = position.occurred_at
        changed += ["last_latitude", "last_longitude", "last_position_at"]
    else:
        position = None  # an older ping than the one shown: the live map does not move back
    if len(changed) > 1:
        locked.save(update_fields=changed)

    for event in stored:
        if event.event_type in MILESTONE_TYPES:
            milestone = event.metadata.get("milestone")
            outbox_publish(
                events.MilestoneReached(
                    **shipment_event_fields(locked),
                    milestone=milestone if isinstance(milestone, str) and milestone else event.event_type,
                    occurred_at=event.occurred_at.isoformat(),
                    tracking_event_id=str(event.id),
                    description=event.description,
                )
            )

    processing.batch_process(shipment=locked, events=stored, now=now)
    # The route endpoint's simplified track (apps/tracking/track.py), under the same lock.
    shipment_track_append(shipment=locked, events=stored)
    if position is not None:
        transaction.on_commit(lambda: live.location_push(shipment=locked, event=position), robust=True)
    return stored, duplicates


@transaction.atomic
def events_record(
    *,
    shipment: TrackedShipment,
    rows: list[dict],
    source: str,
    actor: Actor,
    device_id: UUID | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Store the rows of one tracked shipment: each valid row once (a device's ping of a moment
    already stored counts as a duplicate), flagged when it implies an implausible speed; the
    shipment's last position and last event follow; milestones go to the outbox; the batch is
    processed (apps.tracking.processing) and the newest position pushed live after commit.
    Bad rows are reported with their index and change nothing. Locks the shipment's row.
    404 for a shipment the tenant is no party of, 422 for one no longer tracked."""
    if source not in SOURCES:
        raise ValueError(f"Unknown tracking event source {source!r}")
    now = now or timezone.now()
    pings, rejected = rows_validate(rows, now=now)
    stored, duplicates = _record(
        shipment_id=shipment.id, pings=pings, source=source, actor=actor, device_id=device_id, now=now
    )
    logger.info(
        "tracking.events_recorded",
        extra={
            "shipment_id": str(shipment.id),
            "stored": len(stored),
            "duplicates": duplicates,
            "rejected": len(rejected),
        },
    )
    return IngestResult(stored=stored, duplicates=duplicates, rejected=rejected)


NOT_ASSIGNED = "The device is not assigned to a shipment at this time."


@transaction.atomic
def device_events_record(*, device_id: UUID, rows: list[dict], now: datetime | None = None) -> IngestResult:
    """Store a device's batch (in its organization's scope): each row goes to the shipment the
    device is assigned to at the row's `occurred_at`; a row with no assignment then is refused.
    Shipments are locked in id order (two batches never wait on each other crosswise)."""
    now = now or timezone.now()
    pings, rejected = rows_validate(rows, now=now)
    by_shipment: dict[UUID, list[_Ping]] = {}
    if pings:
        earliest = min(p.occurred_at for p in pings)
        latest = max(p.occurred_at for p in pings)
        windows = list(
            DeviceAssignment.objects.filter(device_id=device_id, valid_from__lte=latest)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=earliest))
            .values_list("shipment_id", "valid_from", "valid_until")
        )
        for ping in pings:
            at = ping.occurred_at
            shipment_id = next(
                (s for s, start, end in windows if start <= at and (end is None or at < end)),
                None,
            )
            if shipment_id is None:
                rejected.append({"index": ping.index, "errors": {"occurred_at": [NOT_ASSIGNED]}})
            else:
                by_shipment.setdefault(shipment_id, []).append(ping)
    stored: list[TrackingEvent] = []
    duplicates = 0
    actor = Actor.system()
    for shipment_id in sorted(by_shipment, key=str):
        try:
            shipment_stored, shipment_duplicates = _record(
                shipment_id=shipment_id,
                pings=by_shipment[shipment_id],
                source=EventSource.DEVICE,
                actor=actor,
                device_id=device_id,
                now=now,
            )
        except DomainError as refused:  # raised by the lock, before anything was written
            rejected += [
                {"index": p.index, "errors": {"occurred_at": [refused.message]}} for p in by_shipment[shipment_id]
            ]
            continue
        stored += shipment_stored
        duplicates += shipment_duplicates
    if len(by_shipment) > 1:
        stored.sort(key=lambda event: event.occurred_at)
    rejected.sort(key=lambda row: row["index"])
    logger.info(
        "tracking.device_events_recorded",
        extra={"device_id": str(device_id), "stored": len(stored), "duplicates": duplicates, "rejected": len(rejected)},
    )
    return IngestResult(stored=stored, duplicates=duplicates, rejected=rejected)
