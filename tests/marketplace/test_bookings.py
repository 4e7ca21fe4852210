"""Booking an instant quote: a freight order pending the carrier's confirmation at the quoted
price, with the quote's shipment; the carrier confirms or declines, the beat job expires what
it left unanswered; a third organization neither books another's quote nor reads the booking.
(Concurrent confirm and decline: tests/marketplace/test_concurrency.py.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.marketplace.models import Booking, QuoteRecord, Tariff
from apps.marketplace.tasks import marketplace_expire_bookings
from apps.orders.models import Order, Shipment
from apps.tenancy.roles import Role
from tests.beat import run_beat_job
from tests.factories import OrganizationFactory, member
from tests.marketplace.conftest import Party, offer_body
from tests.marketplace.factories import HAMBURG, WARSAW, OfferingFactory, TariffFactory, VerificationFactory
from tests.support import admin_client

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/v1/bookings"
CONSIGNEE = {"name": "Mazovia Machines", "address_lines": ["Prosta 20"], "city": "Warsaw", "country": "PL"}
CARRIER_ADDRESS = {"name": "Volga Carriers", "address_lines": ["Naberezhnaya 1"], "city": "Kazan", "country": "RU"}


def quote_body(**overrides) -> dict:
    """1.2 t on 4 pallets, Hamburg to Warsaw, picked up on 11 January 2027."""
    body = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
        "volume_cbm": "8",
        "pallet_count": 4,
        "cargo_type": "palletized",
        "pickup_date": "2027-01-11",
    }
    return body | overrides


@pytest.fixture
def shipper():
    """A verified shipper whose organization has the address a CMR's box 1 needs."""
    organization = OrganizationFactory(
        name="Baltic Shippers", legal_name="Baltic Shippers GmbH", address_line1="Kai 1", city="Hamburg", country="DE"
    )
    VerificationFactory(organization=organization)
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, Role.SHIPPER))


@pytest.fixture
def offering(carrier):
    """The carrier's offering: 900 EUR per shipment plus a 100 EUR fixed tariff."""
    offering = OfferingFactory(organization=carrier.org, pricing_model="fixed", base_price=Decimal("900.0000"))
    TariffFactory(offering=offering, unit="fixed", price_per_unit=Decimal("100.0000"))
    return offering


def quote(api, party, offering, **overrides) -> dict:
    response = api(party.staff).post("/api/v1/pricing/quote", quote_body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return next(row for row in response.json()["data"] if row["offering_id"] == str(offering.id))


def book(api, party, quote_id, shipment=None, **headers):
    body = {"quote_id": quote_id, "shipment": shipment or {}}
    return api(party.staff).post(BOOKINGS, body, format="json", **headers)


@pytest.fixture
def booking(api, shipper, offering) -> dict:
    response = book(api, shipper, quote(api, shipper, offering)["quote_id"], {"consignee": CONSIGNEE})
    assert response.status_code == 201, response.json()
    return response.json()


def _events(booking_id) -> list[OutboxEvent]:
    with system_scope(reason="test: the events", audit=False):
        return list(OutboxEvent.objects.filter(aggregate_id=booking_id).order_by("created_at", "id"))


def _order(order_id) -> Order:
    with system_scope(reason="test: the order", audit=False):
        return Order.objects.prefetch_related("items").get(pk=order_id)


def _counts() -> tuple[int, int, int]:
    with system_scope(reason="test: what was written", audit=False):
        return Booking.objects.count(), Order.objects.count(), Shipment.objects.count()


# --- Booking ----------------------------------------------------------------------------------


def test_a_booking_makes_a_pending_freight_order_at_the_quoted_price(api, shipper, carrier, offering):
    # given a quote of 1,000 EUR
    row = quote(api, shipper, offering)
    assert row["total"] == "1000.00"

    # when the shipper books it
    response = book(api, shipper, row["quote_id"], {"consignee": CONSIGNEE})

    # then a pending booking holds the quoted price, and its order is the carrier's to confirm
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith(f"BKG-{timezone.now().year}-")
    assert (body["status"], body["price"], body["currency"]) == ("pending", "1000.00", "EUR")
    assert body["carrier_organization"] == {"id": str(carrier.org.id), "name": carrier.org.name}
    assert [change["to_status"] for change in body["history"]] == ["pending"]
    order = _order(body["order"])
    assert (order.kind, order.status, order.total_amount, order.currency) == ("freight", "pending", 1000, "EUR")
    assert (order.client_organization_id, order.supplier_organization_id) == (shipper.org.id, carrier.org.id)
    assert [item.name for item in order.items.all()] == [f"Freight {body['number']}: Hamburg → Warsaw"]
    assert [event.event_type for event in _events(body["id"])] == ["booking.created"]


def test_the_booked_shipment_has_the_quotes_places_and_weights_and_can_be_completed(api, shipper, carrier, booking):
    order_id = booking["order"]
    url = f"/api/v1/orders/{order_id}/shipment"

    # when the carrier adds its truck and its own address
    changes = {"vehicle_plate": "A123BC", "carrier": CARRIER_ADDRESS}
    assert api(carrier.staff).patch(url, changes, format="json").status_code == 200
    shipment = api(shipper.staff).get(url).json()

    # then the quote's places, date and cargo are there, with the consignee the booking gave
    assert (shipment["taking_over"]["city"], shipment["taking_over"]["date"]) == ("Hamburg", "2027-01-11")
    assert (shipment["delivery"]["city"], shipment["delivery"]["country"]) == ("Warsaw", "PL")
    assert [waypoint["kind"] for waypoint in shipment["route"]] == ["pickup", "delivery"]
    line = shipment["cargo_lines"][0]
    assert (Decimal(line["gross_weight_kg"]), Decimal(line["volume_m3"])) == (Decimal("1200"), Decimal("8"))
    assert (line["number_of_packages"], line["method_of_packing"]) == (4, "pallets")
    assert shipment["consignee"]["name"] == CONSIGNEE["name"]
    assert shipment["shipper"]["name"] == "Baltic Shippers GmbH"
    assert shipment["booking_reference"] == booking["number"]
    assert shipment["completeness"] == {"complete": True, "missing": []}


def test_an_award_and_a_booking_of_the_same_cargo_make_the_same_shipment(api, shipper, carrier, offering, open_rfq):
    # given the same 1.2 t on 4 pallets, Hamburg to Warsaw on 11 January, awarded and booked
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    awarded = api(shipper.staff).post(f"/api/v1/offers/{offer['id']}/accept").json()["order"]
    # (the RFQ's places have coordinates, which the shipment keeps for tracking: the quote's too)
    places = {"origin": HAMBURG, "destination": WARSAW}
    booked = book(api, shipper, quote(api, shipper, offering, **places)["quote_id"]).json()["order"]

    # when both shipments are read
    award, booking = (api(shipper.staff).get(f"/api/v1/orders/{order}/shipment").json() for order in (awarded, booked))

    # then they hold the same parties, places, date and cargo, and lack the same fields
    for field in ("shipper", "carrier", "taking_over", "delivery", "payment_instructions"):
        assert award[field] == booking[field], field
    assert [waypoint["place"] for waypoint in award["route"]] == [waypoint["place"] for waypoint in booking["route"]]
    for key in ("gross_weight_kg", "volume_m3", "number_of_packages", "method_of_packing"):
        assert award["cargo_lines"][0][key] == booking["cargo_lines"][0][key], key
    assert award["completeness"] == booking["completeness"]
    assert booking["completeness"]["complete"] is False


def test_the_shippers_cargo_details_merge_into_the_quoted_line(api, shipper, offering):
    row = quote(api, shipper, offering)

    response = book(
        api, shipper, row["quote_id"], {"cargo_lines": [{"nature_of_goods": "Machine parts", "hs_code": "8483"}]}
    )

    assert response.status_code == 201, response.json()
    with system_scope(reason="test: the shipment", audit=False):
        line = Shipment.objects.get(order_id=response.json()["order"]).cargo_lines[0]
    assert (line["nature_of_goods"], line["hs_code"], Decimal(line["gross_weight_kg"])) == (
        "Machine parts",
        "8483",
        Decimal("1200"),
    )


def test_a_tariff_changed_after_the_quote_does_not_change_the_booked_price(api, shipper, offering):
    # given a quote of 1,000 EUR, then the carrier's tariff doubles
    row = quote(api, shipper, offering)
    with system_scope(reason="test: the carrier changes its tariff", audit=False):
        Tariff.objects.filter(offering=offering).update(price_per_unit=Decimal("1100.0000"))
    assert quote(api, shipper, offering)["total"] == "2000.00"

    # when the first quote is booked
    response = book(api, shipper, row["quote_id"])

    # then its price holds
    assert response.status_code == 201, response.json()
    assert response.json()["price"] == "1000.00"
    assert _order(response.json()["order"]).total_amount == Decimal("1000")


def test_an_expired_quote_is_refused_and_nothing_is_written(api, shipper, offering):
    row = quote(api, shipper, offering)
    with system_scope(reason="test: the quote's validity ends", audit=False):
        QuoteRecord.objects.filter(pk=row["quote_id"]).update(valid_until=timezone.now() - timedelta(seconds=1))

    response = book(api, shipper, row["quote_id"], {"consignee": CONSIGNEE})

    assert response.status_code == 422
    assert response.json()["error_code"] == "QUOTE_EXPIRED"
    assert _counts() == (0, 0, 0)


def test_a_quote_is_booked_once(api, shipper, booking):
    response = book(api, shipper, booking["quote_id"])

    assert response.status_code == 422
    assert response.json()["details"] == {"quote_id": ["Booked."]}
    assert _counts() == (1, 1, 1)


def test_a_shipment_that_contradicts_the_quote_is_refused(api, shipper, offering):
    row = quote(api, shipper, offering)

    response = book(
        api,
        shipper,
        row["quote_id"],
        {"delivery": {"city": "Krakow"}, "cargo_lines": [{"gross_weight_kg": "9000"}]},
    )

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"delivery.city", "cargo_lines[0].gross_weight_kg"}
    assert _counts() == (0, 0, 0)


def test_the_shipper_cannot_say_the_carriers_part_at_booking(api, shipper, offering):
    row = quote(api, shipper, offering)

    response = book(api, shipper, row["quote_id"], {"vehicle_plate": "B777OO", "carrier": CARRIER_ADDRESS})

    assert response.status_code == 400
    assert response.json()["details"] == {
        "vehicle_plate": ["Only the carrier edits this."],
        "carrier": ["Only the carrier edits this."],
    }
    assert _counts() == (0, 0, 0)


def test_an_unverified_shipper_cannot_book(api, offering):
    unverified = OrganizationFactory(name="New Shippers")
    party = Party(org=unverified, admin=member(unverified, Role.ORG_ADMIN), staff=member(unverified, Role.SHIPPER))
    row = quote(api, party, offering)

    response = book(api, party, row["quote_id"])

    assert response.status_code == 422
    assert response.json()["error_code"] == "KYC_NOT_VERIFIED"
    assert _counts() == (0, 0, 0)


def test_the_same_idempotency_key_replays_the_first_booking(api, shipper, offering):
    row = quote(api, shipper, offering)

    first = book(api, shipper, row["quote_id"], {"consignee": CONSIGNEE}, HTTP_IDEMPOTENCY_KEY="book-1")
    replay = book(api, shipper, row["quote_id"], {"consignee": CONSIGNEE}, HTTP_IDEMPOTENCY_KEY="book-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert _counts() == (1, 1, 1)


# --- Who sees what ----------------------------------------------------------------------------


def test_a_third_organization_can_neither_book_anothers_quote_nor_read_the_booking(
    api, shipper, rival, offering, booking
):
    # given the shipper's own quote and booking, and a third organization (verified)
    row = quote(api, shipper, offering)
    third = api(rival.admin)

    # then the third organization can neither book the quote nor read, confirm or decline the booking
    refused = third.post(BOOKINGS, {"quote_id": row["quote_id"]}, format="json")
    assert refused.status_code == 404
    assert third.get(f"{BOOKINGS}/{booking['id']}").status_code == 404
    assert third.post(f"{BOOKINGS}/{booking['id']}/confirm").status_code == 404
    assert third.post(f"{BOOKINGS}/{booking['id']}/decline", {}, format="json").status_code == 404
    assert third.get(BOOKINGS).json()["meta"]["total"] == 0
    assert _counts() == (1, 1, 1)


def test_both_parties_list_the_booking(api, shipper, carrier, booking):
    for party in (shipper, carrier):
        body = api(party.staff).get(BOOKINGS).json()
        assert [row["id"] for row in body["data"]] == [booking["id"]]


def test_the_list_runs_the_same_queries_for_one_booking_or_three(api, shipper, carrier, offering, booking):
    client = api(carrier.staff)
    client.get(BOOKINGS)  # warm: the caller's compiled queries
    with CaptureQueriesContext(connection) as one:
        assert client.get(BOOKINGS).json()["meta"]["total"] == 1
    for _ in range(2):
        assert book(api, shipper, quote(api, shipper, offering)["quote_id"]).status_code == 201

    with CaptureQueriesContext(connection) as three:
        assert client.get(BOOKINGS).json()["meta"]["total"] == 3

    assert len(one.captured_queries) == len(three.captured_queries)


# --- The carrier's answer ---------------------------------------------------------------------


def test_the_carrier_confirms_and_the_order_is_confirmed(api, carrier, booking):
    response = api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/confirm")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    assert [change["to_status"] for change in response.json()["history"]] == ["pending", "confirmed"]
    assert _order(booking["order"]).status == "confirmed"
    confirmed = _events(booking["id"])[-1]
    assert confirmed.event_type == "booking.confirmed"
    assert str(booking["shipper_organization"]["id"]) in confirmed.payload["party_organization_ids"]


def test_the_carrier_declines_with_a_reason_and_the_order_is_cancelled(api, carrier, booking):
    response = api(carrier.staff).post(
        f"{BOOKINGS}/{booking['id']}/decline", {"reason": "No truck that week"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["decision_note"]) == ("declined", "No truck that week")
    order = _order(booking["order"])
    assert order.status == "cancelled"
    assert "No truck that week" in order.cancellation_reason
    declined = _events(booking["id"])[-1]
    assert (declined.event_type, declined.payload["reason"]) == ("booking.declined", "No truck that week")


def test_a_decided_booking_takes_no_second_answer(api, carrier, booking):
    assert api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/confirm").status_code == 200

    response = api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/decline", {}, format="json")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert _order(booking["order"]).status == "confirmed"


def test_the_shipper_cannot_confirm_or_decline_its_own_booking(api, shipper, booking):
    # a shipper's role has no order:update; its org admin has, but is not the carrier
    assert api(shipper.staff).post(f"{BOOKINGS}/{booking['id']}/confirm").status_code == 403
    for path in ("confirm", "decline"):
        response = api(shipper.admin).post(f"{BOOKINGS}/{booking['id']}/{path}", {}, format="json")
        assert response.status_code == 403
        assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert api(shipper.staff).get(f"{BOOKINGS}/{booking['id']}").json()["status"] == "pending"
    assert _order(booking["order"]).status == "pending"


# --- Expiry -----------------------------------------------------------------------------------


def test_the_beat_job_expires_unanswered_bookings_and_cancels_their_orders(api, shipper, carrier, offering, booking):
    # given one booking past its confirmation time and one still within it
    fresh = book(api, shipper, quote(api, shipper, offering)["quote_id"]).json()
    with system_scope(reason="test: the confirmation time passes", audit=False):
        Booking.objects.filter(pk=booking["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))

    # when
    results = run_beat_job(marketplace_expire_bookings)

    # then only the overdue one expired, its order cancelled, the shipper told
    assert results == [1]
    assert api(shipper.staff).get(f"{BOOKINGS}/{booking['id']}").json()["status"] == "expired"
    assert api(shipper.staff).get(f"{BOOKINGS}/{fresh['id']}").json()["status"] == "pending"
    assert _order(booking["order"]).status == "cancelled"
    assert _order(fresh["order"]).status == "pending"
    assert _events(booking["id"])[-1].event_type == "booking.expired"
    # and an expired booking can no longer be confirmed
    late = api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/confirm")
    assert late.status_code == 422
    assert late.json()["error_code"] == "INVALID_STATE_TRANSITION"
    # a second run finds nothing left
    assert run_beat_job(marketplace_expire_bookings) == []


# --- Back-office ------------------------------------------------------------------------------


def test_both_parties_admins_read_the_booking_with_its_history_and_a_third_does_not(
    api, shipper, carrier, rival, booking
):
    api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/decline", {"reason": "No truck that week"}, format="json")
    page_url = reverse("admin:marketplace_booking_change", args=[booking["id"]])

    pages = [admin_client(party.admin).get(page_url) for party in (shipper, carrier)]
    outsider = admin_client(rival.admin)

    for page in pages:
        assert page.status_code == 200
        content = page.content.decode()
        assert booking["number"] in content
        assert "No truck that week" in content  # the history's reason
    assert booking["number"] not in outsider.get(reverse("admin:marketplace_booking_changelist")).content.decode()
    assert outsider.get(page_url).status_code in (302, 404)
    # read-only: nobody changes a booking in the back-office
    posted = admin_client(carrier.admin).post(page_url, {"status": "confirmed"})
    assert posted.status_code in (302, 403)
    assert api(shipper.staff).get(f"{BOOKINGS}/{booking['id']}").json()["status"] == "declined"


def test_a_booked_order_cancelled_by_its_shipper_cancels_the_pending_booking_with_it(api, shipper, carrier, booking):
    from apps.core.context import tenant_scope
    from apps.core.services import outbox_relay

    cancelled = api(shipper.staff).post(
        f"/api/v1/orders/{booking['order']}/cancel", {"reason": "Plans changed"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.json()
    with system_scope(reason="test: the cancellation's event", audit=False):
        event = OutboxEvent.objects.filter(event_type="order.status_changed").latest("created_at")
    with tenant_scope(event.organization_id):
        assert outbox_relay(organization_id=event.organization_id, event_ids=[event.id]) == 1

    after = api(carrier.staff).get(f"{BOOKINGS}/{booking['id']}").json()
    late_answer = api(carrier.staff).post(f"{BOOKINGS}/{booking['id']}/confirm")

    assert after["status"] == "cancelled"
    assert [change["to_status"] for change in after["history"]] == ["pending", "cancelled"]
    assert _events(booking["id"])[-1].event_type == "booking.cancelled"
    assert late_answer.status_code == 422
    assert late_answer.json()["error_code"] == "INVALID_STATE_TRANSITION"
