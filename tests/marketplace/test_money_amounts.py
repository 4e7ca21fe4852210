"""Amounts of money as the marketplace takes them: exactly the schema's pattern, and no more
decimal places than the currency has (ISO 4217: JPY 0, EUR 2, KWD 3), so that an offer
never becomes an order its escrow refuses (issue 13, items 6 and 8)."""

import re

import pytest

from apps.core.context import system_scope
from apps.marketplace.models import Offer
from apps.orders.models import Order
from tests.marketplace.conftest import offer_body, rfq_body

pytestmark = pytest.mark.django_db


def _open_rfq(api, shipper, **overrides) -> dict:
    client = api(shipper.staff)
    created = client.post("/api/v1/rfqs", rfq_body(**overrides), format="json")
    assert created.status_code == 201, created.json()
    published = client.post(f"/api/v1/rfqs/{created.json()['id']}/publish")
    assert published.status_code == 200, published.json()
    return published.json()


def _submit(api, carrier, rfq_id, **overrides):
    return api(carrier.staff).post(f"/api/v1/rfqs/{rfq_id}/offers", offer_body(**overrides), format="json")


def test_an_offer_with_cents_on_a_yen_rfq_is_refused_naming_the_price(api, shipper, carrier):
    # given: an RFQ in yen, which has no minor units
    rfq = _open_rfq(api, shipper, currency="JPY", declared_value="2500000")

    # when
    response = _submit(api, carrier, rfq["id"], price="100.50", currency="JPY")

    # then
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert body["details"]["price"] == ["JPY amounts have at most 0 decimal places."]
    with system_scope(reason="test: count", audit=False):
        assert Offer.objects.count() == 0


def test_a_revision_to_cents_on_a_yen_rfq_is_refused(api, shipper, carrier):
    rfq = _open_rfq(api, shipper, currency="JPY", declared_value="2500000")
    offer = _submit(api, carrier, rfq["id"], price="100", currency="JPY").json()

    # the revision gives the price alone: the currency is the offer's, from the record
    response = api(carrier.staff).patch(f"/api/v1/offers/{offer['id']}", {"price": "99.99"}, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["details"]["price"] == ["JPY amounts have at most 0 decimal places."]


def test_an_rfq_declaring_cents_in_yen_is_refused(api, shipper):
    response = api(shipper.staff).post("/api/v1/rfqs", rfq_body(currency="JPY", declared_value="10.5"), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["details"]["declared_value"] == ["JPY amounts have at most 0 decimal places."]


def test_a_kwd_offer_with_fils_is_accepted_and_awarded_to_the_fils(api, shipper, carrier):
    # given: Kuwaiti dinars have three minor units (fils)
    rfq = _open_rfq(api, shipper, currency="KWD", declared_value="7500.125")
    assert rfq["declared_value"] == "7500.125"

    # when
    submitted = _submit(api, carrier, rfq["id"], price="5.125", currency="KWD")
    accepted = api(shipper.staff).post(f"/api/v1/offers/{submitted.json()['id']}/accept")

    # then
    assert submitted.status_code == 201, submitted.json()
    assert submitted.json()["price"] == "5.125"
    assert accepted.status_code == 200, accepted.json()
    order = api(shipper.staff).get(f"/api/v1/orders/{accepted.json()['order']}").json()
    assert (order["total_amount"], order["currency"]) == ("5.125", "KWD")


def test_euro_amounts_still_read_with_two_places(api, shipper, carrier):
    rfq = _open_rfq(api, shipper)

    offer = _submit(api, carrier, rfq["id"], price="1850.5").json()

    assert (rfq["declared_value"], offer["price"]) == ("25000.00", "1850.50")


@pytest.mark.parametrize(
    "price",
    [
        *("1e2", " 10 ", "10 ", "10.", ".5", "", "+10", "0x10", "10\n", "1_000", "NaN", "Infinity"),
        "\uff11\uff10",  # full-width 10
        "\u0661\u0660",  # Arabic-Indic 10
        100,  # JSON numbers: the schema says string
        100.5,
    ],
)
def test_an_amount_outside_the_schema_pattern_is_refused(api, shipper, carrier, price):
    rfq = _open_rfq(api, shipper)

    response = _submit(api, carrier, rfq["id"], price=price)

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(response.json()["details"]) == ["price"]
    with system_scope(reason="test: count", audit=False):
        assert (Offer.objects.count(), Order.objects.count()) == (0, 0)


def test_the_schema_states_the_pattern_that_money_fields_apply(api):
    schema = api().get("/api/schema/", {"format": "json"}).json()

    price = schema["components"]["schemas"]["OfferInputRequest"]["properties"]["price"]

    assert price["type"] == "string"
    assert price["pattern"] == r"^[0-9]{1,12}(\.[0-9]{1,3})?$"
    assert re.fullmatch(price["pattern"].strip("^$"), "1850.50")
    assert not re.fullmatch(price["pattern"].strip("^$"), "1e2")
