"""Tracking: where an order's or a package's goods are, what happened to them on the way, and
what needs someone's attention.

- `TrackedShipment`: one per tracked order or package. Its planned route, the latest position,
  the ETA and what the ingest pipeline must remember between pings (consecutive pings outside
  the corridor, the geofences the goods are in) live on it, so a ping reads and locks one row.
- `TrackingEvent`: the append-only stream of pings, scans and milestones. Partitioned by month
  of `occurred_at` (PostgreSQL declarative partitioning, migration 0001 and
  apps/tracking/partitions.py); its primary key in the database is (id, occurred_at).
- `Alert` and its history: delay, deviation, temperature, geofence, no signal, manual.
- `Device` and `DeviceAssignment`: an organization's telematics units, each with its own key,
  assigned to a shipment for a time window.
- `Geofence`: a circle or a polygon an organization draws (or one around its warehouse).

Visibility: a shipment, its events and alerts are the parties' (client and supplier of the
order, copied onto every row); devices and geofences are their organization's.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KT

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned

PARTIES = ("client_organization_id", "supplier_organization_id")
COORDINATE = {"max_digits": 9, "decimal_places": 6}


class SubjectKind(models.TextChoices):
    ORDER = "order", "Order"
    PACKAGE = "package", "Package"


class PollError(models.TextChoices):
    """Why the last poll of a carrier failed; the first two pass, the last two may not."""

    UNAVAILABLE = "unavailable", "Carrier unavailable"
    RATE_LIMITED = "rate_limited", "Rate limited"
    UNKNOWN_NUMBER = "unknown_number", "Number unknown to the carrier"
    REJECTED = "rejected", "Refused by the carrier"


class TrackedShipment(TimeStampedModel):
    """The tracking of one order or one package: its route, where it is, when it arrives."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=SubjectKind.choices)
    order = models.OneToOneField("orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    package = models.OneToOneField("orders.Package", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # The public tracking page's key: random, never a counter (a counter tells volume).
    tracking_number = models.CharField(max_length=16, unique=True)
    # What the order or package number and status say, copied: the public page and the live
    # feed read this row alone.
    reference = models.CharField(max_length=64, help_text="The order's or the package's number.")
    status = models.CharField(max_length=24, help_text="The order's or the package's status, as it last moved.")
    is_active = models.BooleanField(default=True, help_text="Pings are taken and processed while active.")
    # The planned route: ordered waypoints [{kind, latitude, longitude, city, country, name,
    # window_from, window_until}] and the corridor around the lines between them.
    route = models.JSONField(default=list, blank=True)
    corridor_width_m = models.PositiveIntegerField(default=5000)
    route_length_m = models.PositiveIntegerField(default=0)
    promised_at = models.DateTimeField(
        null=True, blank=True, help_text="The delivery promised (the last window's end)."
    )
    # The shipment's temperature range (cold chain), from the cargo lines.
    temperature_min_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    temperature_max_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    # The client's `cold_chain` feature flag, copied in the client's own scope (at start, or by
    # the other party's refresh task): its flags are its own rows, which the carrier's ingest
    # cannot read. Switching the flag later applies to shipments tracked from then on.
    cold_chain = models.BooleanField(default=False)
    # The geofences that apply (the parties' own and those around waypoints), copied here when
    # they change: the pipeline needs those of both parties, and each tenant reads only its own.
    geofences = models.JSONField(default=list, blank=True)
    # Where the goods are: the latest plausible position and when it was taken.
    last_latitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    last_longitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    last_position_at = models.DateTimeField(null=True, blank=True)
    last_city = models.CharField(max_length=100, blank=True)
    last_country = models.CharField(max_length=2, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    # The ETA from the distance left along the route and the recent moving speed.
    eta_at = models.DateTimeField(null=True, blank=True)
    eta_computed_at = models.DateTimeField(null=True, blank=True)
    remaining_distance_m = models.PositiveIntegerField(null=True, blank=True)
    # What the pipeline remembers between pings.
    pings_outside_corridor = models.PositiveIntegerField(default=0)
    inside_geofences = models.JSONField(default=list, blank=True)  # ids
    # A carrier's own tracking, polled by a beat job: its code (apps/tracking/carriers) and number.
    carrier_code = models.CharField(max_length=32, blank=True)
    external_tracking_number = models.CharField(max_length=100, blank=True)
    poll_cursor = models.CharField(max_length=200, blank=True)
    poll_next_at = models.DateTimeField(null=True, blank=True)
    # Consecutive failed polls of one class (the carrier unreachable or rate limiting; or it
    # refusing the number): the backoff grows with them, and enough refusals stop the polling
    # (apps/tracking/services/carrier_polling.py).
    poll_failures = models.PositiveSmallIntegerField(default=0)
    poll_error_code = models.CharField(max_length=16, choices=PollError.choices, blank=True)
    poll_error = models.CharField(max_length=300, blank=True, help_text="The last failed poll, as the carrier said.")
    poll_stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="Polling gave up: the carrier kept refusing the number."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="order", order__isnull=False, package__isnull=True))
                | Q(kind="package", package__isnull=False, order__isnull=True),
                name="tracked_shipment_one_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["client_organization", "created_at", "id"], name="tracked_client_created_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="tracked_supplier_created_idx"),
            # The carrier poller: active shipments with a carrier's number, due.
            models.Index(
                fields=["poll_next_at"],
                name="tracked_poll_due_idx",
                condition=Q(is_active=True) & ~Q(external_tracking_number=""),
            ),
            # The no-signal check: active shipments by their last event.
            models.Index(fields=["last_event_at"], name="tracked_active_last_event_idx", condition=Q(is_active=True)),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.tracking_number})"


class EventType(models.TextChoices):
    LOCATION_UPDATE = "location_update", "Location update"
    STATUS_CHANGE = "status_change", "Status change"
    MILESTONE = "milestone", "Milestone"
    WAREHOUSE_SCAN = "warehouse_scan", "Warehouse scan"
    TEMPERATURE = "temperature", "Temperature reading"
    GEOFENCE_ENTER = "geofence_enter", "Geofence entered"
    GEOFENCE_EXIT = "geofence_exit", "Geofence left"


class EventSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    DRIVER_APP = "driver_app", "Driver's app"
    DEVICE = "device", "Telematics device"
    CARRIER_API = "carrier_api", "Carrier's tracking API"
    WAREHOUSE_SCAN = "warehouse_scan", "Warehouse scan"


class TrackingEvent(models.Model):
    """One ping, scan, reading or milestone of a tracked shipment. Append-only.

    The table is partitioned by month of `occurred_at`; in the database its primary key is
    (id, occurred_at), as a partitioned table's must include the partition key. Django knows
    `id` alone as the key: ids are UUID4, and rows are never looked up by id across months."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment_id = models.UUIDField()
    client_organization_id = models.UUIDField()
    supplier_organization_id = models.UUIDField()
    event_type = models.CharField(max_length=16, choices=EventType.choices)
    source = models.CharField(max_length=16, choices=EventSource.choices)
    occurred_at = models.DateTimeField(help_text="When it happened: the device's or the carrier's time.")
    received_at = models.DateTimeField(help_text="When the platform took it.")
    latitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    longitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    address = models.CharField(max_length=300, blank=True)
    speed_kmh = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    heading = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    device_id = models.UUIDField(null=True, blank=True)
    created_by_id = models.UUIDField(null=True, blank=True)
    # A ping implying a speed above TRACKING["MAX_PLAUSIBLE_SPEED_KMH"] from the one before:
    # kept, shown, never used for the ETA or the route.
    is_implausible = models.BooleanField(default=False)
    description = models.CharField(max_length=300, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # Created by migration 0001's SQL (a partitioned table); these describe it to Django.
        indexes = [
            # "The latest events of one shipment" and "its events in a time range".
            models.Index(fields=["shipment_id", "-occurred_at"], name="tracking_event_shipment_idx"),
            models.Index(fields=["client_organization_id", "occurred_at"], name="tracking_event_client_idx"),
            models.Index(fields=["supplier_organization_id", "occurred_at"], name="tracking_event_supplier_idx"),
        ]
        constraints = [
            # A device's ping is taken once: the same device and moment is a duplicate.
            models.UniqueConstraint(fields=["device_id", "occurred_at"], name="tracking_event_device_moment_unique"),
            # A carrier's event is taken once: the same carrier event id of one shipment is a
            # duplicate (a partitioned table's unique index must hold the partition key; a
            # carrier keeps an event's time, so the key is the event's).
            models.UniqueConstraint(
                F("shipment_id"),
                KT("metadata__carrier_event_id"),
                F("occurred_at"),
                condition=Q(source="carrier_api"),
                name="tracking_event_carrier_event_unique",
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="tracking_event_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="tracking_event_longitude_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} of {self.shipment_id} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class AlertType(models.TextChoices):
    DELAY = "delay", "Delay"
    DEVIATION = "deviation", "Route deviation"
    TEMPERATURE = "temperature", "Temperature out of range"
    GEOFENCE = "geofence", "Geofence"
    NO_SIGNAL = "no_signal", "No signal"
    MANUAL = "manual", "Manual"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Alert(TimeStampedModel):
    """Something about a tracked shipment that needs a person: raised by the pipeline or by
    hand, acknowledged, resolved; an unacknowledged high or critical one escalates."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey(TrackedShipment, on_delete=models.CASCADE, related_name="alerts")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    alert_type = models.CharField(max_length=12, choices=AlertType.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    # One open alert per condition: the pipeline raises "deviation" once and closes it when the
    # goods are back; a manual alert has no key.
    condition_key = models.CharField(max_length=64, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "condition_key"],
                condition=~Q(status="resolved") & ~Q(condition_key=""),
                name="alert_one_open_per_condition",
            ),
        ]
        indexes = [
            models.Index(fields=["client_organization", "created_at", "id"], name="alert_client_created_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="alert_supplier_created_idx"),
            models.Index(fields=["shipment", "status"], name="alert_shipment_status_idx"),
            # The escalation job: open high and critical alerts by age.
            models.Index(
                fields=["created_at"],
                name="alert_escalation_due_idx",
                condition=Q(status="open", escalated_at__isnull=True, severity__in=["high", "critical"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.alert_type} ({self.severity}) on {self.shipment_id}"


class AlertStatusChange(StatusChange):
    """An alert's history: raised, acknowledged, resolved (who, when, why)."""

    row_visibility = Derived(*PARTIES)
    subject = "alert"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["client_organization", "alert"], name="alert_change_client_idx"),
            models.Index(fields=["supplier_organization", "alert"], name="alert_change_supplier_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }


class Device(TimeStampedModel):
    """A telematics unit of an organization. Its key is shown once, stored as a SHA-256 digest
    (a random 256-bit key needs no slow hash), and only ingests for its organization."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    serial_number = models.CharField(max_length=100, blank=True)
    # The key's first characters, shown to tell keys apart; the digest is what is checked.
    key_prefix = models.CharField(max_length=12)
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name", "id"], name="device_organization_name_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class DeviceAssignment(TimeStampedModel):
    """A device reports for a shipment from `valid_from` until `valid_until` (open: until
    unassigned). Its organization's: the device owner's."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="assignments")
    shipment = models.ForeignKey(TrackedShipment, on_delete=models.CASCADE, related_name="+")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="device_assignment_window_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "device", "valid_from"], name="device_assignment_device_idx"),
            models.Index(fields=["organization", "shipment"], name="device_assignment_shipment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} → {self.shipment_id}"


class GeofenceShape(models.TextChoices):
    CIRCLE = "circle", "Circle"
    POLYGON = "polygon", "Polygon"


class Geofence(TimeStampedModel):
    """An area an organization watches: a circle (center and radius) or a polygon (a closed
    ring of [latitude, longitude] points), optionally around one of its warehouses. It applies
    to the shipments the organization is a party of."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    shape = models.CharField(max_length=8, choices=GeofenceShape.choices)
    center_latitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    center_longitude = models.DecimalField(**COORDINATE, null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    polygon = models.JSONField(default=list, blank=True)
    warehouse = models.ForeignKey("orders.Warehouse", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(default=True)
    # Goods entering it raise a `geofence` alert (closed when they leave): a yard they must not
    # enter, a customer's site they should not reach unannounced. Off: entries are events only.
    alert_on_enter = models.BooleanField(default=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        shape="circle",
                        center_latitude__isnull=False,
                        center_longitude__isnull=False,
                        radius_m__gt=0,
                    )
                    | Q(shape="polygon")
                ),
                name="geofence_circle_has_center_and_radius",
            ),
        ]
        indexes = [models.Index(fields=["organization", "name", "id"], name="geofence_organization_name_idx")]

    def __str__(self) -> str:
        return self.name


class ShipmentTrack(models.Model):
    """The travelled track of one shipment, kept simplified as pings arrive, so that the route
    endpoint reads one row of a few thousand points instead of every ping.

    Why a row of its own: the route of a shipment with 100,000 pings must be answered in a
    few milliseconds, and reading the events is a hundred thousand rows. The track is appended
    to under the shipment's lock by the ingest service (`services.shipments.shipment_track_append`)
    and re-simplified (Douglas-Peucker, shapely) whenever it grows past
    TRACKING["TRACK_MAX_POINTS"]: the tolerance doubles until it holds half that. Kept apart
    from TrackedShipment, whose row every ping, list and public page reads whole: this one is
    read only by the route endpoint and its writer.

    `points` is [[longitude, latitude, epoch seconds], ...] in order of time (GeoJSON's axis
    order; the time lets a late ping be put in its place)."""

    row_visibility = Derived(*PARTIES)

    shipment = models.OneToOneField(TrackedShipment, primary_key=True, on_delete=models.CASCADE, related_name="track")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    points = models.JSONField(default=list, blank=True)
    pings = models.PositiveIntegerField(default=0, help_text="Plausible positions taken into the track.")
    tolerance_m = models.FloatField(default=0, help_text="The simplification's current tolerance, in meters.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["client_organization"], name="shipment_track_client_idx"),
            models.Index(fields=["supplier_organization"], name="shipment_track_supplier_idx"),
        ]

    def __str__(self) -> str:
        return f"Track of {self.shipment_id} ({len(self.points)} points)"
