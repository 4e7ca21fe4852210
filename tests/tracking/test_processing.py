"""What a batch of pings does to its tracked shipment: deviation from the corridor, geofences
and milestones, the ETA and delays, cold chain, no signal. The batches are stored here as the
ingest service stores them, then processed in the carrier's scope (its device sends them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.tracking.geometry import Route, haversine_m
from apps.tracking.models import Alert, TrackedShipment, TrackingEvent
from apps.tracking.processing import batch_process
from apps.tracking.selectors_eta import EtaBasis, eta_compute
from apps.tracking.services.alerts import alert_raise
from tests.factories import OrganizationFactory, member
from tests.shipments import shipment_fill
from tests.tracking.factories import tracked_order

pytestmark = pytest.mark.django_db

HAMBURG = (53.5511, 9.9937)
FRANKFURT_ODER = (52.3471, 14.5506)
WARSAW = (52.2297, 21.0122)
ROUTE = [
    {"kind": "pickup", "name": "Hamburg", "latitude": "53.551100", "longitude": "9.993700"},
    {"kind": "border_crossing", "name": "Frankfurt (Oder)", "latitude": "52.347100", "longitude": "14.550600"},
    {"kind": "delivery", "name": "Warsaw", "latitude": "52.229700", "longitude": "21.012200"},
]
ROUTE_LENGTH_M = Route(*zip(HAMBURG, FRANKFURT_ODER, WARSAW, strict=True)).length_m


@dataclass
class Parties:
    shipper: object
    carrier: object


@pytest.fixture
def parties():
    return Parties(shipper=OrganizationFactory(name="Baltic Shippers"), carrier=OrganizationFactory(name="Volga"))


def _shipment(parties, **fields) -> TrackedShipment:
    with tenant_scope(parties.shipper.id):
        return tracked_order(parties.shipper, parties.carrier, route=ROUTE, corridor_width_m=5000, **fields)


@pytest.fixture
def shipment(parties):
    return _shipment(parties)


def _leg(start, end, fraction: float) -> tuple[float, float]:
    """A point a fraction of the way along the straight line (in degrees) between two places."""
    return start[0] + (end[0] - start[0]) * fraction, start[1] + (end[1] - start[1]) * fraction


def _north(point, meters: float) -> tuple[float, float]:
    return point[0] + meters / 111_195.0, point[1]


def _store(shipment, points, *, start=None, every=timedelta(minutes=1), **fields) -> list[TrackingEvent]:
    """Pings at the points, `every` apart from `start`, stored as the ingest service stores them."""
    start = start or timezone.now() - timedelta(minutes=len(points) + 1)
    temperatures = fields.pop("temperature_values", None) or [None] * len(points)
    fields.setdefault("event_type", "location_update")
    rows = [
        TrackingEvent(
            shipment_id=shipment.id,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
            source="device",
            occurred_at=start + every * index,
            received_at=timezone.now(),
            latitude=None if point is None else Decimal(f"{point[0]:.6f}"),
            longitude=None if point is None else Decimal(f"{point[1]:.6f}"),
            **({"temperature_c": Decimal(temperatures[index])} if temperatures[index] else {}),
            **fields,
        )
        for index, point in enumerate(points)
    ]
    with tenant_scope(shipment.supplier_organization_id):
        TrackingEvent.objects.bulk_create(rows)
    return rows


def _process(shipment, events, now=None) -> list[TrackingEvent]:
    with tenant_scope(shipment.supplier_organization_id):
        locked = TrackedShipment.objects.select_for_update().get(pk=shipment.pk)
        derived = batch_process(shipment=locked, events=events, now=now or timezone.now())
    return derived


def _reload(shipment) -> TrackedShipment:
    with tenant_scope(shipment.supplier_organization_id):
        return TrackedShipment.objects.get(pk=shipment.pk)


def _alerts(shipment, **filters) -> list[Alert]:
    with system_scope(reason="test", audit=False):
        return list(Alert.objects.filter(shipment_id=shipment.id, **filters).order_by("created_at"))


def _outbox(event_type: str) -> list[dict]:
    with system_scope(reason="test", audit=False):
        return list(
            OutboxEvent.objects.filter(event_type=event_type).order_by("created_at").values_list("payload", flat=True)
        )


def _stored(shipment, event_type: str) -> list[TrackingEvent]:
    with tenant_scope(shipment.client_organization_id):
        return list(
            TrackingEvent.objects.filter(shipment_id=shipment.id, event_type=event_type).order_by("occurred_at")
        )


MID_LEG = _leg(HAMBURG, FRANKFURT_ODER, 0.4)
FAR_OFF = _north(MID_LEG, 22_000)  # ~20 km from the slanting route: eight half-widths
JUST_OFF = _north(MID_LEG, 3_300)  # ~3 km from the route: just outside the 2.5 km half-width


# --- deviation ------------------------------------------------------------------------------


def test_two_pings_outside_the_corridor_are_counted_but_raise_nothing(shipment):
    _process(shipment, _store(shipment, [MID_LEG, FAR_OFF, FAR_OFF]))

    assert _reload(shipment).pings_outside_corridor == 2
    assert _alerts(shipment) == []


def test_the_third_consecutive_ping_outside_raises_a_deviation_alert_graded_by_distance(shipment):
    _process(shipment, _store(shipment, [FAR_OFF, FAR_OFF]))
    _process(shipment, _store(shipment, [FAR_OFF], start=timezone.now() - timedelta(seconds=30)))

    (alert,) = _alerts(shipment)
    assert (alert.alert_type, alert.condition_key, alert.status, alert.severity) == (
        "deviation",
        "deviation",
        "open",
        "high",
    )
    assert 19_000 < alert.details["distance_m"] < 22_000
    assert _reload(shipment).pings_outside_corridor == 3
    assert [payload["alert_type"] for payload in _outbox("tracking.alert_raised")] == ["deviation"]


def test_a_deviation_just_outside_the_corridor_is_low(shipment):
    _process(shipment, _store(shipment, [JUST_OFF] * 3))

    assert [(alert.alert_type, alert.severity) for alert in _alerts(shipment)] == [("deviation", "low")]


def test_a_ping_back_inside_resolves_the_deviation_and_resets_the_count(shipment):
    _process(shipment, _store(shipment, [FAR_OFF, FAR_OFF, FAR_OFF, MID_LEG]))

    (alert,) = _alerts(shipment)
    assert alert.status == "resolved"
    assert _reload(shipment).pings_outside_corridor == 0


def test_pings_outside_must_follow_each_other_to_raise_a_deviation(shipment):
    _process(shipment, _store(shipment, [FAR_OFF, FAR_OFF, MID_LEG, FAR_OFF, FAR_OFF]))

    assert _alerts(shipment) == []
    assert _reload(shipment).pings_outside_corridor == 2


def test_a_deviation_that_grows_raises_its_alerts_severity_once(shipment):
    _process(shipment, _store(shipment, [JUST_OFF] * 3))
    _process(
        shipment, _store(shipment, [_north(MID_LEG, 12_000), FAR_OFF], start=timezone.now() - timedelta(seconds=20))
    )

    (alert,) = _alerts(shipment)
    assert (alert.status, alert.severity) == ("open", "high")
    assert [(payload["previous_severity"], payload["severity"]) for payload in _outbox("tracking.alert_worsened")] == [
        ("low", "high")
    ]


def test_a_route_without_two_located_waypoints_has_no_corridor(parties):
    shipment = _shipment(parties)
    with tenant_scope(parties.shipper.id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(
            route=[{**ROUTE[0]}, {"kind": "delivery", "city": "Warsaw"}]
        )
    shipment = _reload(shipment)

    _process(shipment, _store(shipment, [FAR_OFF] * 4))

    assert _alerts(shipment) == []
    assert _reload(shipment).pings_outside_corridor == 0


# --- geofences and milestones ---------------------------------------------------------------

BEFORE_BORDER = _leg(HAMBURG, FRANKFURT_ODER, 0.99)  # ~3.5 km before the crossing
AFTER_BORDER = _leg(FRANKFURT_ODER, WARSAW, 0.01)  # ~4.5 km after it
BEFORE_WARSAW = _leg(FRANKFURT_ODER, WARSAW, 0.99)


def test_crossing_a_waypoints_circle_writes_enter_and_exit_events_and_its_milestone(shipment):
    pings = _store(shipment, [BEFORE_BORDER, FRANKFURT_ODER, AFTER_BORDER])

    derived = _process(shipment, pings)

    assert [(event.event_type, event.occurred_at) for event in derived] == [
        ("geofence_enter", pings[1].occurred_at),
        ("milestone", pings[1].occurred_at),
        ("geofence_exit", pings[2].occurred_at),
    ]
    enter = _stored(shipment, "geofence_enter")[0]
    assert enter.metadata == {
        "geofence_id": "waypoint:1",
        "geofence_name": "Frankfurt (Oder)",
        "purpose": "border_crossing",
        "ping_id": str(pings[1].id),
    }
    assert (enter.source, enter.latitude, enter.device_id) == ("device", pings[1].latitude, None)
    assert _stored(shipment, "milestone")[0].metadata["milestone"] == "border_crossed"
    assert [(payload["milestone"], payload["subject_id"]) for payload in _outbox("tracking.milestone")] == [
        ("border_crossed", str(shipment.order_id))
    ]
    assert _reload(shipment).inside_geofences == []


def test_the_geofences_the_goods_are_in_are_remembered_between_batches(shipment):
    _process(shipment, _store(shipment, [BEFORE_BORDER, FRANKFURT_ODER]))
    assert _reload(shipment).inside_geofences == ["waypoint:1"]

    derived = _process(
        shipment,
        _store(
            shipment,
            [FRANKFURT_ODER, AFTER_BORDER],
            start=timezone.now() - timedelta(seconds=30),
            every=timedelta(seconds=10),
        ),
    )

    assert [event.event_type for event in derived] == ["geofence_exit"]


def test_coming_back_to_a_waypoint_does_not_reach_its_milestone_twice(shipment):
    _process(shipment, _store(shipment, [BEFORE_BORDER, FRANKFURT_ODER, AFTER_BORDER, FRANKFURT_ODER]))

    assert len(_stored(shipment, "geofence_enter")) == 2
    assert len(_stored(shipment, "milestone")) == 1
    assert len(_outbox("tracking.milestone")) == 1


def test_entering_a_warehouses_geofence_records_the_arrival(parties):
    warehouse_id = str(uuid.uuid4())
    around = [
        [MID_LEG[0] - 0.01, MID_LEG[1] - 0.01],
        [MID_LEG[0] - 0.01, MID_LEG[1] + 0.01],
        [MID_LEG[0] + 0.01, MID_LEG[1] + 0.01],
        [MID_LEG[0] + 0.01, MID_LEG[1] - 0.01],
    ]
    shipment = _shipment(
        parties,
        geofences=[
            {
                "id": "g-1",
                "name": "Hub Nord",
                "shape": "polygon",
                "polygon": around,
                "purpose": "warehouse",
                "warehouse_id": warehouse_id,
            }
        ],
    )

    _process(shipment, _store(shipment, [_leg(HAMBURG, FRANKFURT_ODER, 0.3), MID_LEG]))

    (milestone,) = _stored(shipment, "milestone")
    assert (milestone.metadata["milestone"], milestone.metadata["warehouse_id"]) == (
        "arrived_at_warehouse",
        warehouse_id,
    )
    assert [payload["milestone"] for payload in _outbox("tracking.milestone")] == ["arrived_at_warehouse"]
    assert _reload(shipment).inside_geofences == ["g-1"]


def test_arriving_at_the_delivery_waypoint_without_a_proof_of_delivery_is_an_arrival(shipment):
    _process(shipment, _store(shipment, [BEFORE_WARSAW, WARSAW]))

    assert [event.metadata["milestone"] for event in _stored(shipment, "milestone")] == ["arrived_at_delivery"]


def test_arriving_at_the_delivery_waypoint_with_a_proof_of_delivery_completes_the_delivery(parties, shipment):
    with system_scope(reason="test", audit=False):
        order = TrackedShipment.objects.select_related("order").get(pk=shipment.pk).order
    shipment_fill(
        order,
        {"received_by": "A. Kowalska"},
        shipper=(member(parties.shipper), parties.shipper),
        carrier=(member(parties.carrier), parties.carrier),
    )

    _process(shipment, _store(shipment, [BEFORE_WARSAW, WARSAW]))

    assert [event.metadata["milestone"] for event in _stored(shipment, "milestone")] == ["delivered"]
    assert [payload["milestone"] for payload in _outbox("tracking.milestone")] == ["delivered"]


CUSTOM_CIRCLE = {
    "id": "g-9",
    "name": "Restricted yard",
    "shape": "circle",
    "center_latitude": MID_LEG[0],
    "center_longitude": MID_LEG[1],
    "radius_m": 300,
    "purpose": "custom",
}


def test_a_custom_geofence_marked_alerting_raises_on_entry_and_resolves_on_exit(parties):
    shipment = _shipment(parties, geofences=[{**CUSTOM_CIRCLE, "alert_on_enter": True}])

    _process(
        shipment, _store(shipment, [_leg(HAMBURG, FRANKFURT_ODER, 0.39), MID_LEG, _leg(HAMBURG, FRANKFURT_ODER, 0.41)])
    )

    (alert,) = _alerts(shipment)
    assert (alert.alert_type, alert.condition_key, alert.status) == ("geofence", "geofence:g-9", "resolved")


def test_a_custom_geofence_not_marked_alerting_only_records_entry_and_exit(parties):
    shipment = _shipment(parties, geofences=[CUSTOM_CIRCLE])

    derived = _process(shipment, _store(shipment, [_leg(HAMBURG, FRANKFURT_ODER, 0.39), MID_LEG]))

    assert [event.event_type for event in derived] == ["geofence_enter"]
    assert _alerts(shipment) == []
    assert _stored(shipment, "milestone") == []


# --- ETA and delay --------------------------------------------------------------------------


def _drive(kilometers: int, *, every=timedelta(minutes=1), start_fraction=0.2):
    """Points along the first leg one kilometer apart (60 km/h at a minute each)."""
    leg_m = haversine_m(*HAMBURG, *FRANKFURT_ODER)
    return [_leg(HAMBURG, FRANKFURT_ODER, start_fraction + index * 1000 / leg_m) for index in range(kilometers)]


def test_the_eta_is_the_distance_left_along_the_route_at_the_recent_moving_speed(shipment):
    points = _drive(20)
    now = timezone.now()

    _process(shipment, _store(shipment, points, start=now - timedelta(minutes=20)), now=now)

    shipment = _reload(shipment)
    expected_remaining = ROUTE_LENGTH_M - haversine_m(*HAMBURG, *points[-1])
    assert shipment.remaining_distance_m == pytest.approx(expected_remaining, rel=0.002)
    hours = (shipment.eta_at - now).total_seconds() / 3600
    assert hours == pytest.approx(expected_remaining / 1000 / 60, rel=0.02)
    assert shipment.eta_computed_at == now


def test_stops_do_not_slow_the_eta_down(shipment):
    points = _drive(10)
    now = timezone.now()
    pings = _store(shipment, points + [points[-1]] * 30, start=now - timedelta(minutes=41))

    _process(shipment, pings, now=now)

    with tenant_scope(shipment.supplier_organization_id):
        eta = eta_compute(_reload(shipment), now=now)
    assert eta.basis == EtaBasis.RECENT_SPEED
    assert eta.speed_kmh == pytest.approx(60, rel=0.02)


def test_without_moving_pings_the_eta_uses_the_default_speed(shipment, settings):
    settings.TRACKING = {**settings.TRACKING, "ETA_DEFAULT_SPEED_KMH": 50}
    now = timezone.now()

    _process(shipment, _store(shipment, [MID_LEG]), now=now)

    with tenant_scope(shipment.supplier_organization_id):
        eta = eta_compute(_reload(shipment), now=now)
    assert (eta.basis, eta.speed_kmh) == (EtaBasis.DEFAULT_SPEED, 50)
    assert (eta.eta_at - now).total_seconds() / 3600 == pytest.approx(eta.remaining_distance_m / 1000 / 50, rel=1e-3)


def test_without_a_position_there_is_no_eta(shipment):
    with tenant_scope(shipment.supplier_organization_id):
        eta = eta_compute(shipment)
    assert (eta.basis, eta.eta_at, eta.remaining_distance_m) == (EtaBasis.NO_POSITION, None, None)


def test_an_eta_past_the_promised_time_and_tolerance_raises_a_delay(parties):
    now = timezone.now()
    shipment = _shipment(parties, promised_at=now + timedelta(hours=2))

    _process(shipment, _store(shipment, _drive(10), start=now - timedelta(minutes=10)), now=now)

    (alert,) = _alerts(shipment)
    # ~730 km left at 60 km/h: 12 h, 10 h after the promise.
    assert (alert.alert_type, alert.condition_key, alert.severity) == ("delay", "delay", "high")
    assert alert.details["promised_at"] == shipment.promised_at.isoformat()


def test_an_eta_back_within_the_promise_resolves_the_delay(parties):
    now = timezone.now()
    shipment = _shipment(parties, promised_at=now + timedelta(hours=2))
    _process(shipment, _store(shipment, _drive(10), start=now - timedelta(minutes=20)), now=now)
    with tenant_scope(parties.shipper.id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(promised_at=now + timedelta(hours=24))

    _process(shipment, _store(shipment, _drive(2, start_fraction=0.25), start=now - timedelta(minutes=5)), now=now)

    (alert,) = _alerts(shipment)
    assert alert.status == "resolved"


# --- cold chain -----------------------------------------------------------------------------


def _cold(parties, *, flag: bool) -> TrackedShipment:
    """A chilled shipment; `flag`: the client's cold chain flag, as copied onto it at start."""
    return _shipment(parties, temperature_min_c=Decimal("2.0"), temperature_max_c=Decimal("8.0"), cold_chain=flag)


def _readings(shipment, temperatures, *, start, every=timedelta(minutes=5)) -> list[TrackingEvent]:
    """Temperature readings (no position), `every` apart from `start`."""
    return _store(
        shipment,
        [None] * len(temperatures),
        start=start,
        every=every,
        event_type="temperature",
        temperature_values=temperatures,
    )


def test_a_reading_out_of_range_raises_a_temperature_alert_with_cold_chain_on(parties):
    shipment = _cold(parties, flag=True)

    _process(shipment, _readings(shipment, ["5.0", "8.5"], start=timezone.now() - timedelta(minutes=10)))

    (alert,) = _alerts(shipment)
    assert (alert.alert_type, alert.condition_key, alert.severity, alert.status) == (
        "temperature",
        "temperature",
        "low",
        "open",
    )


def test_far_out_of_range_is_serious_at_once(parties):
    shipment = _cold(parties, flag=True)

    _process(shipment, _readings(shipment, ["15.0"], start=timezone.now() - timedelta(minutes=1)))

    assert [alert.severity for alert in _alerts(shipment)] == ["critical"]


def test_a_small_excursion_that_lasts_grows_serious(parties):
    shipment = _cold(parties, flag=True)
    start = timezone.now() - timedelta(minutes=50)
    _process(shipment, _readings(shipment, ["8.5"], start=start))

    _process(shipment, _readings(shipment, ["8.5", "8.6"], start=start + timedelta(minutes=35)))

    (alert,) = _alerts(shipment)
    assert alert.severity == "high"  # under a degree out, but for 40 minutes
    assert alert.details["minutes_out_of_range"] == 40


def test_a_reading_back_in_range_resolves_the_temperature_alert(parties):
    shipment = _cold(parties, flag=True)

    _process(shipment, _readings(shipment, ["9.0", "1.0", "4.0"], start=timezone.now() - timedelta(minutes=20)))

    (alert,) = _alerts(shipment)
    assert alert.status == "resolved"


def test_without_cold_chain_readings_are_stored_and_raise_nothing(parties):
    shipment = _cold(parties, flag=False)

    _process(shipment, _readings(shipment, ["15.0", "15.0"], start=timezone.now() - timedelta(minutes=20)))

    assert _alerts(shipment) == []
    assert len(_stored(shipment, "temperature")) == 2


# --- implausible pings, no signal, cost -----------------------------------------------------


def test_implausible_pings_count_for_nothing(parties):
    shipment = _shipment(parties, temperature_max_c=Decimal("8.0"), promised_at=timezone.now(), cold_chain=True)
    pings = _store(
        shipment, [FAR_OFF, FAR_OFF, FAR_OFF, FRANKFURT_ODER], is_implausible=True, temperature_c=Decimal("20")
    )

    derived = _process(shipment, pings)

    assert derived == []
    assert _alerts(shipment) == []
    shipment = _reload(shipment)
    assert (shipment.pings_outside_corridor, shipment.inside_geofences, shipment.eta_at) == (0, [], None)


def test_a_plausible_ping_resolves_no_signal(shipment):
    with tenant_scope(shipment.supplier_organization_id):
        alert_raise(
            shipment=shipment, alert_type="no_signal", severity="medium", message="Silent", condition_key="no_signal"
        )

    _process(shipment, _store(shipment, [MID_LEG]))

    assert [(alert.alert_type, alert.status) for alert in _alerts(shipment)] == [("no_signal", "resolved")]


@pytest.mark.parametrize("size", [10, 1000])
def test_a_batch_on_the_route_costs_the_same_queries_whatever_its_size(shipment, size, django_assert_num_queries):
    leg_m = haversine_m(*HAMBURG, *FRANKFURT_ODER)
    points = [_leg(HAMBURG, FRANKFURT_ODER, 0.2 + index * 20 / leg_m) for index in range(size)]
    start = timezone.now() - timedelta(seconds=size + 5)
    pings = _store(shipment, points, start=start, every=timedelta(seconds=1))

    with tenant_scope(shipment.supplier_organization_id):
        locked = TrackedShipment.objects.select_for_update().get(pk=shipment.pk)
        # Its open alerts, its recent positions for the ETA, the shipment's update.
        with django_assert_num_queries(3):
            batch_process(shipment=locked, events=pings, now=timezone.now())

    assert _reload(shipment).remaining_distance_m is not None


def test_geofences_the_snapshot_cannot_place_are_passed_over(parties):
    shipment = _shipment(
        parties,
        geofences=[
            {
                "name": "No id",
                "shape": "circle",
                "center_latitude": MID_LEG[0],
                "center_longitude": MID_LEG[1],
                "radius_m": 300,
            },
            {"id": "g-2", "name": "Two points", "shape": "polygon", "polygon": [[52.0, 13.0], [53.0, 14.0]]},
            {"id": "g-3", "name": "No center", "shape": "circle", "radius_m": 300},
        ],
    )

    derived = _process(shipment, _store(shipment, [MID_LEG]))

    assert derived == []
    assert _reload(shipment).inside_geofences == []
