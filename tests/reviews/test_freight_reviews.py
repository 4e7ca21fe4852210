"""Reviews of a freight order driven to completed through the real marketplace and orders API:
the shipper rates the carrier (which fills the rating of the offering that carried it, and the
carrier's summary), the carrier rates the shipper; an order not completed yet, or a third
organization, is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.marketplace.models import ServiceOffering
from apps.reviews.models import Review
from tests.factories import OrganizationFactory, member
from tests.marketplace.factories import OfferingFactory, TariffFactory
from tests.reviews.conftest import URL, awarded_freight_order, drive_freight_order, post_review

pytestmark = pytest.mark.django_db

FREIGHT = "FREIGHT_ORDER"


def offering_rating(offering) -> tuple[Decimal, int]:
    with system_scope(reason="test: the offering's rating", audit=False):
        stored = ServiceOffering.objects.get(pk=offering.pk)
    return stored.rating_average, stored.rating_count


def stored_reviews() -> int:
    with system_scope(reason="test: the reviews", audit=False):
        return Review.objects.count()


def test_the_shipper_reviews_the_carrier_and_the_offering_that_carried_it_shows_the_rating(
    api, shipper, carrier, offering, freight_order
):
    # when the shipper rates the carrier 4
    response = post_review(api, shipper.staff, FREIGHT, freight_order, rating=4, text="On time, one pallet dented.")

    # then the review names the carrier and the offering, and the offering's rating is filled
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["reviewee_type"], body["reviewee_id"], body["offering_id"]) == (
        "CARRIER",
        str(carrier.org.id),
        str(offering.id),
    )
    assert (body["author_organization_name"], body["reviewee_organization_name"]) == (
        "Baltic Shippers",
        "Volga Carriers",
    )
    assert body["subject_number"].startswith("FR-") and body["mine"] is True
    assert offering_rating(offering) == (Decimal("4.00"), 1)
    summary = api(carrier.staff).get(f"{URL}/summary?reviewee_type=CARRIER&reviewee_id={carrier.org.id}").json()
    assert (summary["average"], summary["count"]) == ("4.00", 1)
    # the catalogue shows it to every tenant
    browsing = member(OrganizationFactory(), role="shipper")
    listed = api(browsing).get(f"/api/v1/catalog/offerings/{offering.id}")
    assert (listed.json()["rating_average"], listed.json()["rating_count"]) == ("4.00", 1)


def test_the_carrier_reviews_the_shipper(api, shipper, carrier, offering, freight_order):
    response = post_review(api, carrier.staff, FREIGHT, freight_order, rating=5, text="Paid on time.")

    assert response.status_code == 201, response.json()
    assert (response.json()["reviewee_type"], response.json()["reviewee_id"]) == ("SHIPPER", str(shipper.org.id))
    assert response.json()["offering_id"] is None
    # the carrier's own offering is not rated by the carrier's review of its customer
    assert offering_rating(offering) == (Decimal("0.00"), 0)
    # both parties read it; the shipper's list of reviews about it holds it
    about_shipper = api(shipper.staff).get(f"{URL}?mine=false").json()["data"]
    assert [review["id"] for review in about_shipper] == [response.json()["id"]]


def test_the_offering_rating_is_the_average_of_its_orders_reviews(api, shipper, carrier, offering, freight_order):
    second = awarded_freight_order(api, shipper, carrier, offering)
    drive_freight_order(api, shipper, carrier, second)
    other_offering = OfferingFactory(organization=carrier.org)
    third = awarded_freight_order(api, shipper, carrier, other_offering)
    drive_freight_order(api, shipper, carrier, third)

    for order_id, rating in ((freight_order, 5), (second, 2), (third, 1)):
        assert post_review(api, shipper.staff, FREIGHT, order_id, rating=rating).status_code == 201

    # each offering counts its own orders' reviews; the carrier's summary counts all three
    assert offering_rating(offering) == (Decimal("3.50"), 2)
    assert offering_rating(other_offering) == (Decimal("1.00"), 1)
    summary = api(shipper.staff).get(f"{URL}/summary?reviewee_type=CARRIER&reviewee_id={carrier.org.id}").json()
    assert (summary["average"], summary["count"]) == ("2.67", 3)
    assert summary["histogram"] == [
        {"rating": 1, "count": 1},
        {"rating": 2, "count": 1},
        {"rating": 3, "count": 0},
        {"rating": 4, "count": 0},
        {"rating": 5, "count": 1},
    ]


def test_an_offer_made_without_an_offering_rates_the_carrier_only(api, shipper, carrier, offering):
    order_id = awarded_freight_order(api, shipper, carrier)
    drive_freight_order(api, shipper, carrier, order_id)

    response = post_review(api, shipper.staff, FREIGHT, order_id, rating=3)

    assert response.status_code == 201, response.json()
    assert response.json()["offering_id"] is None
    assert offering_rating(offering) == (Decimal("0.00"), 0)
    summary = api(shipper.staff).get(f"{URL}/summary?reviewee_type=CARRIER&reviewee_id={carrier.org.id}").json()
    assert (summary["average"], summary["count"]) == ("3.00", 1)


def test_a_freight_order_not_completed_yet_is_refused_and_nothing_is_written(api, shipper, carrier, offering):
    order_id = awarded_freight_order(api, shipper, carrier, offering)
    drive_freight_order(api, shipper, carrier, order_id, until="delivered")

    response = post_review(api, shipper.staff, FREIGHT, order_id)

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert "delivered" in response.json()["message"]
    assert stored_reviews() == 0
    assert offering_rating(offering) == (Decimal("0.00"), 0)


def test_a_third_organization_cannot_review_the_order(api, freight_order):
    stranger = member(OrganizationFactory(), role="shipper")

    response = post_review(api, stranger, FREIGHT, freight_order)

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert stored_reviews() == 0


def test_the_second_review_of_the_shipper_is_refused(api, shipper, carrier, offering, freight_order):
    assert post_review(api, shipper.staff, FREIGHT, freight_order, rating=5).status_code == 201

    again = post_review(api, shipper.admin, FREIGHT, freight_order, rating=1, text="Changed my mind.")

    assert again.status_code == 422
    assert again.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert "one review per party" in again.json()["message"]
    assert offering_rating(offering) == (Decimal("5.00"), 1)
    assert stored_reviews() == 1


def test_a_booked_instant_quote_rates_the_booked_offering(api, shipper, carrier, offering):
    # given the shipper booked the carrier's offering at its instant quote, and the carrier confirmed
    TariffFactory(offering=offering, unit="fixed", price_per_unit=Decimal("100.0000"))
    shipment = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
        "pallet_count": 4,
        "cargo_type": "palletized",
        "pickup_date": "2027-01-11",
    }
    quotes = api(shipper.staff).post("/api/v1/pricing/quote", shipment, format="json")
    assert quotes.status_code == 200, quotes.json()
    quote_id = next(row["quote_id"] for row in quotes.json()["data"] if row["offering_id"] == str(offering.id))
    booking = api(shipper.staff).post("/api/v1/bookings", {"quote_id": quote_id, "shipment": {}}, format="json")
    assert booking.status_code == 201, booking.json()
    assert api(carrier.staff).post(f"/api/v1/bookings/{booking.json()['id']}/confirm").status_code == 200
    drive_freight_order(api, shipper, carrier, booking.json()["order"], confirmed=True)

    # when the shipper reviews the order
    response = post_review(api, shipper.staff, FREIGHT, booking.json()["order"], rating=5)

    # then the booked offering carries the rating
    assert response.status_code == 201, response.json()
    assert response.json()["offering_id"] == str(offering.id)
    assert offering_rating(offering) == (Decimal("5.00"), 1)
