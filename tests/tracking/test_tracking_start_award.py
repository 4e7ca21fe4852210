"""An awarded RFQ's places keep their coordinates on the order's shipment, so the tracked
route of the confirmed order is drawn between them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.tracking.models import TrackedShipment
from tests.marketplace.conftest import offer_body
from tests.marketplace.factories import HAMBURG, WARSAW, VerificationFactory
from tests.tracking.read_support import move, relay

pytestmark = pytest.mark.django_db


@pytest.fixture
def awarded(api, shipper, carrier):
    for party in (shipper, carrier):
        VerificationFactory(organization=party.org)
    rfq = api(shipper.staff).post(
        "/api/v1/rfqs",
        {
            "title": "Machine parts",
            "weight_kg": "1200",
            "cargo_type": "palletized",
            "pallet_count": 4,
            "currency": "EUR",
            "segments": [
                {"origin": HAMBURG, "destination": WARSAW, "pickup_date": "2027-01-11", "delivery_date": "2027-01-13"}
            ],
            "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert rfq.status_code == 201, rfq.json()
    assert api(shipper.staff).post(f"/api/v1/rfqs/{rfq.json()['id']}/publish").status_code == 200
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{rfq.json()['id']}/offers", offer_body(), format="json")
    assert offer.status_code == 201, offer.json()
    accepted = api(shipper.staff).post(f"/api/v1/offers/{offer.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.json()
    relay()
    return accepted.json()["order"]


def test_the_award_copies_the_places_coordinates_onto_the_shipment(api, shipper, awarded):
    shipment = api(shipper.staff).get(f"/api/v1/orders/{awarded}/shipment").json()

    assert [
        (point["kind"], point["place"].get("latitude"), point["place"].get("longitude")) for point in shipment["route"]
    ] == [("pickup", "53.551100", "9.993700"), ("delivery", "52.229700", "21.012200")]
    assert (shipment["taking_over"]["latitude"], shipment["delivery"]["longitude"]) == ("53.551100", "21.012200")


def test_the_confirmed_award_is_tracked_between_the_places(api, carrier, awarded):
    move(api, carrier.staff, awarded, "confirmed")

    with tenant_scope(carrier.org.id):
        shipment = TrackedShipment.objects.get(order_id=awarded)
    assert [(point["latitude"], point["longitude"]) for point in shipment.route] == [
        ("53.551100", "9.993700"),
        ("52.229700", "21.012200"),
    ]
    assert 745_000 < shipment.route_length_m < 760_000  # Hamburg → Warsaw, great circle ≈ 752 km


def test_a_place_with_only_one_coordinate_is_refused(api, shipper, awarded):
    response = api(shipper.staff).patch(
        f"/api/v1/orders/{awarded}/shipment",
        {"delivery": {"city": "Warsaw", "country": "PL", "latitude": "52.2"}},
        format="json",
    )

    assert response.status_code == 400
    assert "Give both latitude and longitude" in str(response.json()["details"])


def test_a_latitude_out_of_range_is_refused(api, shipper, awarded):
    response = api(shipper.staff).patch(
        f"/api/v1/orders/{awarded}/shipment",
        {"delivery": {"city": "Warsaw", "country": "PL", "latitude": "91", "longitude": "21"}},
        format="json",
    )

    assert response.status_code == 400
    assert "latitude" in str(response.json()["details"])
