"""The public tracking page /t/<tracking number>: no login, only public fields, read through one
narrow path (a SECURITY DEFINER function), 404 alike for every number that is not one, rate
limited per IP, never indexed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from apps.core.context import Scope, activate, tenant_scope
from apps.tracking import selectors_public
from apps.tracking.models import TrackedShipment, TrackingEvent
from tests.factories import OrganizationFactory
from tests.tracking.live_support import tracked_order_of

pytestmark = pytest.mark.django_db

FUNCTION = "tracking_public_shipment"
ROUTE = [
    {
        "kind": "pickup",
        "name": "Baltic Shippers GmbH yard",
        "address": "Am Sandtorkai 5",
        "city": "Hamburg",
        "country": "DE",
        "latitude": "53.543210",
        "longitude": "9.987654",
    },
    {"kind": "border_crossing", "name": "Frankfurt (Oder)", "city": "Frankfurt (Oder)", "country": "DE",
     "latitude": "52.341234", "longitude": "14.550987"},
    {"kind": "delivery", "name": "Volga Kargo warehouse", "address": "Portovaya 5", "city": "Warsaw",
     "country": "PL", "latitude": "52.229676", "longitude": "21.012229"},
]  # fmt: skip


def _event(shipment, minutes_ago: int, **fields) -> TrackingEvent:
    return TrackingEvent.objects.create(
        shipment_id=shipment.id,
        client_organization_id=shipment.client_organization_id,
        supplier_organization_id=shipment.supplier_organization_id,
        source="device",
        occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        received_at=datetime.now(UTC),
        **fields,
    )


@pytest.fixture
def shipment():
    shipper = OrganizationFactory(name="Baltic Shippers GmbH")
    carrier = OrganizationFactory(name="Volga Carriers")
    with tenant_scope(shipper.id):
        shipment = tracked_order_of(shipper, carrier)
        TrackedShipment.objects.filter(pk=shipment.pk).update(
            status="in_transit",
            route=ROUTE,
            last_latitude=Decimal("52.400001"),
            last_longitude=Decimal("14.400001"),
            last_position_at=datetime.now(UTC) - timedelta(minutes=5),
            eta_at=datetime(2031, 5, 6, 14, 30, tzinfo=UTC),
            promised_at=datetime(2031, 5, 6, 18, 0, tzinfo=UTC),
        )
        for minutes_ago, (latitude, longitude) in zip(
            (60, 50, 40, 30, 5),
            (("53.543210", "9.987654"), ("53.541111", "9.989999"), ("52.9", "12.3"), ("80.0", "80.0"),
             ("52.400001", "14.400001")),
            strict=True,
        ):  # fmt: skip
            _event(
                shipment,
                minutes_ago,
                event_type="location_update",
                latitude=Decimal(latitude),
                longitude=Decimal(longitude),
                address="Am Sandtorkai 5, Hamburg",
                is_implausible=latitude == "80.0",
            )
        _event(shipment, 58, event_type="milestone", metadata={"milestone": "picked_up"}, description="By Ivan P.")
        _event(shipment, 20, event_type="geofence_enter", metadata={"geofence_id": "waypoint:1"})
        _event(shipment, 19, event_type="geofence_enter", metadata={"geofence_id": "3f1c-custom"})
        _event(shipment, 10, event_type="milestone", metadata={"milestone": "at Ivan's house"})
        shipment.refresh_from_db()
    return shipment


# --- The narrow path ---------------------------------------------------------------------------


def _declared_result_columns() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proargnames, proargmodes, prosecdef, proconfig FROM pg_proc WHERE proname = %s", [FUNCTION]
        )
        ((names, modes, security_definer, config),) = cursor.fetchall()
    assert security_definer
    assert any(setting.startswith("search_path=") for setting in config)
    return [name for name, mode in zip(names, modes, strict=True) if mode == "t"]


def test_the_function_returns_exactly_the_public_columns():
    assert _declared_result_columns() == list(selectors_public.PUBLIC_COLUMNS)
    secret = {"client_organization_id", "supplier_organization_id", "reference", "route", "last_latitude"}
    assert secret.isdisjoint(selectors_public.PUBLIC_COLUMNS)


def test_only_the_application_role_may_execute_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_function_privilege('public', %s, 'EXECUTE'),"
            " has_function_privilege(current_user, %s, 'EXECUTE')",
            [f"{FUNCTION}(text)"] * 2,
        )
        assert cursor.fetchone() == (False, True)


def test_without_a_tenant_the_table_reads_empty_but_the_path_answers_and_leaves_the_scope_as_it_was(shipment):
    with activate(Scope()):  # the public page's scope: no user, no tenant
        assert TrackedShipment.objects.count() == 0
        row = selectors_public.public_shipment_row(tracking_number=shipment.tracking_number)
        assert selectors_public.public_shipment_row(tracking_number="MF0000000000") is None
        # neither the bypass nor the client's tenant outlive the call
        assert TrackedShipment.objects.count() == 0
        assert TrackingEvent.objects.count() == 0

    assert list(row) == list(selectors_public.PUBLIC_COLUMNS)
    assert row["tracking_number"] == shipment.tracking_number and row["status"] == "in_transit"


# --- The page ------------------------------------------------------------------------------------


def test_the_page_shows_status_place_eta_milestones_and_the_route_to_anyone(shipment):
    response = Client().get(f"/t/{shipment.tracking_number}")

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    page = response.content.decode()
    assert '<meta name="viewport"' in page and "<svg" in page and "<polyline" in page
    assert "In transit" in page
    # the city of the waypoint nearest the last position (the shipment names no city)
    assert "Last seen near Frankfurt (Oder), DE" in page
    assert "6 May 2031, 14:30" in page
    assert "Picked up" in page and "Reached the border in Frankfurt (Oder)" in page


def test_the_page_shows_no_address_party_price_reference_or_coordinates(shipment):
    page = Client().get(f"/t/{shipment.tracking_number}").content.decode()

    for secret in (
        "Sandtorkai",
        "Portovaya",
        "Baltic Shippers",
        "Volga",
        "Ivan",
        "3f1c-custom",
        "at Ivan",  # a milestone code that is not one of ours: shown as "Milestone"
        shipment.reference,
        "53.543210",
        "9.987654",
        "52.400001",
        "14.400001",
        "EUR",
    ):
        assert secret not in page, secret


def test_the_json_has_the_same_public_fields_with_a_coarse_track(shipment):
    by_query = Client().get(f"/t/{shipment.tracking_number}?format=json")
    by_header = Client().get(f"/t/{shipment.tracking_number}", HTTP_ACCEPT="application/json")

    assert by_query.status_code == 200 and by_query["X-Robots-Tag"] == "noindex"
    body = by_query.json()
    assert by_header.json()["route"] == body["route"]
    assert body["status"] == "in_transit" and body["status_label"] == "In transit"
    assert body["location"] == {"city": "Frankfurt (Oder)", "country": "DE"}
    assert body["eta_at"] == "2031-05-06T14:30:00+00:00"
    assert [milestone["label"] for milestone in body["milestones"]] == [
        "Picked up",
        "Reached the border in Frankfurt (Oder)",
        "Milestone",
    ]
    # rounded to 0.01° (about 1 km); the two pings in one such cell are one point; the
    # implausible one is left out
    assert body["route"]["track"] == [[53.54, 9.99], [52.9, 12.3], [52.4, 14.4]]
    assert body["route"]["waypoints"][0] == {
        "kind": "pickup",
        "city": "Hamburg",
        "country": "DE",
        "latitude": 53.54,
        "longitude": 9.99,
    }
    assert set(body) == {
        "tracking_number",
        "kind",
        "status",
        "status_label",
        "location",
        "last_seen_at",
        "eta_at",
        "promised_at",
        "delivered_at",
        "milestones",
        "route",
    }


def test_a_city_the_shipment_names_is_shown_rather_than_the_nearest_waypoints(shipment):
    with tenant_scope(shipment.client_organization_id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(last_city="Poznań", last_country="PL")

    body = Client().get(f"/t/{shipment.tracking_number}?format=json").json()

    assert body["location"] == {"city": "Poznań", "country": "PL"}


def test_a_number_typed_in_lower_case_with_spaces_is_found(shipment):
    number = shipment.tracking_number.lower()
    response = Client().get(f"/t/{number[:4]} {number[4:]}")

    assert response.status_code == 200


def _without_nonce(page: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b"", page)


def test_an_unknown_and_a_malformed_number_get_the_same_404(shipment):
    unknown = Client().get("/t/MF0000000000")
    malformed = Client().get("/t/%3Cscript%3E")
    unknown_json = Client().get("/t/MF0000000000?format=json")

    assert unknown.status_code == malformed.status_code == 404
    assert _without_nonce(unknown.content) == _without_nonce(malformed.content)
    assert b"No shipment has this tracking number." in unknown.content
    assert unknown["X-Robots-Tag"] == "noindex"
    assert unknown_json.status_code == 404 and unknown_json.json()["error_code"] == "NOT_FOUND"


def test_the_page_is_rate_limited_per_address(shipment, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public_tracking_ip": "2/min"}
    client = Client(REMOTE_ADDR="127.0.0.91")

    answers = [client.get(f"/t/{shipment.tracking_number}") for _ in range(3)]
    limited_json = client.get(f"/t/{shipment.tracking_number}?format=json")
    elsewhere = Client(REMOTE_ADDR="127.0.0.92").get(f"/t/{shipment.tracking_number}")

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1
    assert limited_json.status_code == 429 and limited_json.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert elsewhere.status_code == 200


def test_a_delivered_shipment_says_when_instead_of_an_eta(shipment):
    delivered_at = datetime(2031, 5, 6, 12, 5, tzinfo=UTC)
    with tenant_scope(shipment.client_organization_id):
        TrackedShipment.objects.filter(pk=shipment.pk).update(status="completed", completed_at=delivered_at)

    body = Client().get(f"/t/{shipment.tracking_number}?format=json").json()

    assert body["status_label"] == "Delivered"
    assert body["eta_at"] is None and body["delivered_at"] == "2031-05-06T12:05:00+00:00"
