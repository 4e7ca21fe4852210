"""Tracking starts when the carrier confirms a freight order: once, with the route, windows,
temperature range and a random public number copied from the order; it follows the order's
status and stops when the order ends."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.tracking.models import Geofence, TrackedShipment
from apps.tracking.services.geofences import geofences_copy_to_shipment
from apps.tracking.services.shipments import TRACKING_NUMBER_ALPHABET, tracking_follow_order
from tests.factories import FeatureFactory
from tests.tracking.read_support import HAMBURG, freight_order, move, relay

pytestmark = pytest.mark.django_db


def _tracked(order_id) -> list[TrackedShipment]:
    with system_scope(reason="test: tracked shipments", audit=False):
        return list(TrackedShipment.objects.filter(order_id=order_id))


def test_a_pending_order_is_not_tracked(shipper, carrier):
    order = freight_order(shipper, carrier)
    relay()

    assert _tracked(order.id) == []


def test_the_carriers_confirmation_starts_tracking_with_the_orders_route_and_number(api, shipper, carrier, confirmed):
    [shipment] = _tracked(confirmed.id)

    assert (shipment.kind, shipment.reference, shipment.status, shipment.is_active) == (
        "order",
        confirmed.number,
        "confirmed",
        True,
    )
    assert (shipment.client_organization_id, shipment.supplier_organization_id) == (shipper.org.id, carrier.org.id)
    assert [(point["kind"], point["city"]) for point in shipment.route] == [
        ("pickup", "Hamburg"),
        ("stop", "Warsaw"),
        ("delivery", "Berlin"),
    ]
    assert (shipment.route[0]["latitude"], shipment.route[0]["longitude"]) == ("53.550000", "10.000000")
    assert shipment.route[0]["window_from"] == "2027-01-11T00:00:00Z"
    assert shipment.promised_at == datetime(2027, 1, 14, 23, 59, 59, tzinfo=UTC)
    # Hamburg → Warsaw ≈ 750 km, Warsaw → Berlin ≈ 518 km (great circle)
    assert 1_240_000 < shipment.route_length_m < 1_300_000
    assert shipment.corridor_width_m == 5000


def test_the_tracking_number_is_mf_and_ten_unambiguous_characters(confirmed):
    [shipment] = _tracked(confirmed.id)

    assert shipment.tracking_number.startswith("MF") and len(shipment.tracking_number) == 12
    assert set(shipment.tracking_number[2:]) <= set(TRACKING_NUMBER_ALPHABET)
    assert not set("01OIL") & set(shipment.tracking_number[2:])


def test_starting_publishes_tracking_started_to_both_parties(shipper, carrier, confirmed):
    [shipment] = _tracked(confirmed.id)
    with system_scope(reason="test: events", audit=False):
        [event] = OutboxEvent.objects.filter(event_type="tracking.started")

    assert event.payload["tracking_number"] == shipment.tracking_number
    assert event.payload["subject"] == "order" and event.payload["subject_id"] == str(confirmed.id)
    assert sorted(event.payload["party_organization_ids"]) == sorted([str(shipper.org.id), str(carrier.org.id)])
    assert event.organization_id == carrier.org.id  # the carrier's move started it


def test_an_order_is_tracked_once_however_often_its_event_arrives(carrier, confirmed):
    with tenant_scope(carrier.org.id):
        again = tracking_follow_order(order_id=confirmed.id)
        once_more = tracking_follow_order(order_id=confirmed.id)

    assert len(_tracked(confirmed.id)) == 1
    assert again.id == once_more.id == _tracked(confirmed.id)[0].id


def test_without_route_waypoints_the_route_is_taking_over_to_delivery(api, shipper, carrier):
    order = freight_order(
        shipper,
        carrier,
        route=[],
        taking_over={**HAMBURG, "address_lines": ["Kai 1"], "date": "2027-01-11", "time_from": "08:00"},
        delivery={"city": "Berlin", "country": "DE", "date_until": "2027-01-13"},
    )
    move(api, carrier.staff, order.id, "confirmed")

    [shipment] = _tracked(order.id)
    assert [(point["kind"], point["city"]) for point in shipment.route] == [
        ("pickup", "Hamburg"),
        ("delivery", "Berlin"),
    ]
    assert shipment.route[0]["window_from"] == "2027-01-11T08:00:00Z"
    assert shipment.route[1]["latitude"] is None  # a place given without coordinates
    assert shipment.route_length_m == 0
    assert shipment.promised_at == datetime(2027, 1, 13, 23, 59, 59, tzinfo=UTC)


def test_the_temperature_range_is_the_narrowest_the_cargo_lines_allow(api, shipper, carrier):
    line = {
        "number_of_packages": 1,
        "method_of_packing": "Pallet",
        "nature_of_goods": "Vaccines",
        "gross_weight_kg": "100",
    }
    order = freight_order(
        shipper,
        carrier,
        cargo_lines=[
            {**line, "temperature": {"min_c": "2", "max_c": "8"}},
            {**line, "temperature": {"min_c": "4", "max_c": "10"}},
        ],
    )
    move(api, carrier.staff, order.id, "confirmed")

    [shipment] = _tracked(order.id)
    assert (shipment.temperature_min_c, shipment.temperature_max_c) == (Decimal("4.0"), Decimal("8.0"))


def test_the_tracked_status_follows_the_order_and_completion_stops_it(api, shipper, carrier, confirmed):
    move(api, carrier.staff, confirmed.id, "in_transit")
    in_transit = _tracked(confirmed.id)[0]
    move(api, carrier.staff, confirmed.id, "delivered")
    move(api, shipper.staff, confirmed.id, "completed")
    completed = _tracked(confirmed.id)[0]

    assert (in_transit.status, in_transit.is_active) == ("in_transit", True)
    assert (completed.status, completed.is_active) == ("completed", False)
    assert completed.completed_at is not None


def test_a_cancelled_order_stops_its_tracking(api, carrier, confirmed):
    response = api(carrier.staff).post(f"/api/v1/orders/{confirmed.id}/cancel", {"reason": "No truck"}, format="json")
    assert response.status_code == 200, response.json()
    relay()

    [shipment] = _tracked(confirmed.id)
    assert (shipment.status, shipment.is_active) == ("cancelled", False)


def test_the_starting_partys_geofences_are_copied_onto_the_shipment(api, shipper, carrier):
    order = freight_order(shipper, carrier)
    relay()
    with tenant_scope(carrier.org.id):
        depot = Geofence.objects.create(
            organization_id=carrier.org.id,
            name="Depot",
            shape="circle",
            center_latitude=Decimal("52.23"),
            center_longitude=Decimal("21.01"),
            radius_m=800,
        )
    move(api, carrier.staff, order.id, "confirmed")

    [shipment] = _tracked(order.id)
    assert [(entry["id"], entry["organization_id"], entry["radius_m"]) for entry in shipment.geofences] == [
        (str(depot.id), str(carrier.org.id), 800)
    ]


def test_the_clients_cold_chain_flag_is_copied_in_the_clients_own_scope(api, shipper, carrier):
    FeatureFactory(organization=shipper.org, name="cold_chain", is_entitled=True, is_enabled=True)
    order = freight_order(shipper, carrier)
    relay()
    move(api, carrier.staff, order.id, "confirmed")  # started in the carrier's scope: the flag unread
    [started] = _tracked(order.id)

    with tenant_scope(shipper.org.id):  # what the client's refresh task runs after the start commits
        geofences_copy_to_shipment(shipment_id=started.id)

    [refreshed] = _tracked(order.id)
    assert (started.cold_chain, refreshed.cold_chain) == (False, True)
