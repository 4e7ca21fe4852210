"""Races on one RFQ or one booking, with real commits and one database connection per thread."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from apps.accounts.services import session_start
from apps.core.context import system_scope
from apps.marketplace.models import Booking, Offer, Rfq
from apps.orders.models import Order
from tests.marketplace.conftest import offer_body
from tests.marketplace.factories import OfferingFactory


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_start(user=user).access}")
    return client


def _race(*calls):
    """Run the calls at the same moment, each in its own thread and connection; their responses."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _state(rfq_id):
    with system_scope(reason="test: the outcome", audit=False):
        rfq = Rfq.objects.get(pk=rfq_id)
        statuses = sorted(Offer.objects.filter(rfq=rfq).values_list("status", flat=True))
        orders = Order.objects.count()
    return rfq, statuses, orders


@pytest.mark.usefixtures("committed")
def test_two_concurrent_accepts_on_one_rfq_exactly_one_wins(api, shipper, carrier, rival, open_rfq):
    first = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    second = api(rival.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(price="1700"), format="json")
    one, other = _client(shipper.staff), _client(shipper.admin)

    responses = _race(
        lambda: one.post(f"/api/v1/offers/{first['id']}/accept"),
        lambda: other.post(f"/api/v1/offers/{second.json()['id']}/accept"),
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [200, 422]
    loser = next(response for response in responses if response.status_code == 422)
    assert loser.json()["error_code"] == "RFQ_ALREADY_CLOSED"
    rfq, statuses, orders = _state(open_rfq["id"])
    assert rfq.status == "awarded"
    assert statuses == ["accepted", "rejected"]
    assert orders == 1


@pytest.mark.usefixtures("committed")
def test_the_same_offer_accepted_twice_at_once_makes_one_order(api, shipper, carrier, open_rfq):
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    one, other = _client(shipper.staff), _client(shipper.staff)

    responses = _race(
        lambda: one.post(f"/api/v1/offers/{offer['id']}/accept"),
        lambda: other.post(f"/api/v1/offers/{offer['id']}/accept"),
    )

    assert sorted(response.status_code for response in responses) == [200, 422]
    _, statuses, orders = _state(open_rfq["id"])
    assert statuses == ["accepted"]
    assert orders == 1


@pytest.mark.usefixtures("committed")
def test_a_late_offer_racing_the_award_is_either_rejected_by_it_or_refused(api, shipper, carrier, rival, open_rfq):
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    owner, late = _client(shipper.staff), _client(rival.staff)

    award, late_offer = _race(
        lambda: owner.post(f"/api/v1/offers/{offer['id']}/accept"),
        lambda: late.post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(price="1500"), format="json"),
    )

    assert award.status_code == 200
    assert late_offer.status_code in (201, 422)
    _, statuses, _ = _state(open_rfq["id"])
    # No offer is left live on an awarded RFQ, whichever came first.
    assert "submitted" not in statuses
    if late_offer.status_code == 201:
        assert statuses == ["accepted", "rejected"]
    else:
        assert late_offer.json()["error_code"] == "RFQ_ALREADY_CLOSED"
        assert statuses == ["accepted"]


@pytest.mark.usefixtures("committed")
def test_a_concurrent_confirm_and_decline_of_one_booking_exactly_one_wins(api, shipper, carrier):
    offering = OfferingFactory(organization=carrier.org, pricing_model="fixed", base_price=Decimal("900.0000"))
    quote = api(shipper.staff).post(
        "/api/v1/pricing/quote",
        {
            "origin": {"country": "DE", "city": "Hamburg"},
            "destination": {"country": "PL", "city": "Warsaw"},
            "weight_kg": "1200",
        },
        format="json",
    )
    quote_id = next(row["quote_id"] for row in quote.json()["data"] if row["offering_id"] == str(offering.id))
    booking = api(shipper.staff).post("/api/v1/bookings", {"quote_id": quote_id}, format="json").json()
    one, other = _client(carrier.staff), _client(carrier.admin)

    confirm, decline = _race(
        lambda: one.post(f"/api/v1/bookings/{booking['id']}/confirm"),
        lambda: other.post(f"/api/v1/bookings/{booking['id']}/decline", {"reason": "No truck"}, format="json"),
    )

    assert sorted(response.status_code for response in (confirm, decline)) == [200, 422]
    loser = confirm if confirm.status_code == 422 else decline
    assert loser.json()["error_code"] == "INVALID_STATE_TRANSITION"
    with system_scope(reason="test: the outcome", audit=False):
        status = Booking.objects.get(pk=booking["id"]).status
        order_status = Order.objects.get(pk=booking["order"]).status
    # The booking and its order tell the same outcome: the winner's.
    assert (status, order_status) in {("confirmed", "confirmed"), ("declined", "cancelled")}
    assert status == ("confirmed" if confirm.status_code == 200 else "declined")
