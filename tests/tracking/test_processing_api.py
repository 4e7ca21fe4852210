"""The pipeline through the ingest API: what a device's batch posted to /tracking/events does
to its shipment (deviation, geofences and milestones, ETA, cold chain)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.tenancy.roles import Role
from apps.tracking.models import Alert
from tests.tracking.ingest_support import (
    EVENTS,
    ago,
    assign,
    device_client,
    party,
    ping,
    register_device,
    reread,
    shipment_between,
    stored_events,
)
from tests.tracking.test_processing import FAR_OFF, FRANKFURT_ODER, HAMBURG, MID_LEG, ROUTE, _leg

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipper():
    return party(Role.SHIPPER)


@pytest.fixture
def carrier():
    return party(Role.CARRIER)


def _device(api, carrier, shipment):
    body, key = register_device(api, carrier)
    assert assign(api, carrier, body["id"], shipment, valid_from=ago(hours=2)).status_code == 201
    return device_client(api, key)


def _alerts(shipment) -> list[tuple[str, str]]:
    with system_scope(reason="test", audit=False):
        return list(Alert.objects.filter(shipment_id=shipment.id).values_list("alert_type", "status"))


def test_a_devices_batch_off_the_route_raises_a_deviation_and_stores_the_eta(api, shipper, carrier):
    shipment = shipment_between(shipper, carrier, route=ROUTE, corridor_width_m=5000)
    client = _device(api, carrier, shipment)
    # Off the route twenty kilometers north, at a truck's speed, then three pings out there.
    rows = [ping(ago(minutes=60), *MID_LEG)] + [ping(ago(minutes=40 - 10 * index), *FAR_OFF) for index in range(3)]

    response = client.post(EVENTS, {"events": rows}, format="json")

    assert response.status_code == 201, response.json()
    assert _alerts(shipment) == [("deviation", "open")]
    shipment = reread(shipment)
    assert shipment.pings_outside_corridor == 3
    assert shipment.eta_at is not None and shipment.remaining_distance_m > 0


def test_a_devices_batch_across_the_border_records_the_crossing(api, shipper, carrier):
    shipment = shipment_between(shipper, carrier, route=ROUTE, corridor_width_m=5000)
    client = _device(api, carrier, shipment)
    rows = [
        ping(ago(minutes=6), *_leg(HAMBURG, FRANKFURT_ODER, 0.99)),
        ping(ago(minutes=3), *FRANKFURT_ODER),
    ]

    response = client.post(EVENTS, {"events": rows}, format="json")

    assert response.status_code == 201, response.json()
    derived = {
        (event.event_type, event.metadata.get("milestone"))
        for event in stored_events(shipment, shipper.org.id)
        if event.event_type != "location_update"
    }
    assert derived == {("geofence_enter", None), ("milestone", "border_crossed")}
    with system_scope(reason="test", audit=False):
        assert OutboxEvent.objects.filter(event_type="tracking.milestone").count() == 1
    assert reread(shipment).inside_geofences == ["waypoint:1"]


def test_a_devices_temperature_out_of_range_alerts_the_cold_chain_client(api, shipper, carrier):
    # The client's cold chain flag, as its own scope copies it at start (tests/tracking/test_tracking_start.py).
    shipment = shipment_between(
        shipper,
        carrier,
        route=ROUTE,
        temperature_min_c=Decimal("2.0"),
        temperature_max_c=Decimal("8.0"),
        cold_chain=True,
    )
    client = _device(api, carrier, shipment)

    response = client.post(EVENTS, {"events": [ping(ago(minutes=2), *MID_LEG, temperature_c="12.5")]}, format="json")

    assert response.status_code == 201, response.json()
    assert _alerts(shipment) == [("temperature", "open")]
