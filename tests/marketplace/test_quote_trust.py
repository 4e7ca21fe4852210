"""Quotes a shipper can trust: a per-pallet tariff prices a shipment without a pallet count from
pallets estimated from its weight and volume (and says so), and an offering that prices a
shipment at 0.00 is quoted only when its carrier marked it free."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.marketplace.models import ServiceOffering, Tariff
from apps.marketplace.pricing import (
    Distance,
    Exclusion,
    Place,
    Quote,
    Shipment,
    quote_offering,
    shipment_pallets,
)
from tests.marketplace.factories import OfferingFactory, TariffFactory

NOW = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)
QUOTE = "/api/v1/pricing/quote"


def make_offering(**fields) -> ServiceOffering:
    defaults = {
        "id": uuid.uuid4(),
        "name": "Berlin - Paris LTL",
        "organization_name": "Volga Carriers",
        "service_type": "road_ltl",
        "transit_days": 3,
        "pricing_model": "fixed",
        "base_price": Decimal("0.0000"),
        "currency": "EUR",
    }
    return ServiceOffering(**(defaults | fields))


def per_pallet(price="12.5000", **fields) -> Tariff:
    defaults = {
        "id": uuid.uuid4(),
        "name": "Per pallet",
        "tariff_type": "base",
        "unit": "pallet",
        "price_per_unit": Decimal(price),
        "seasonal_multiplier": Decimal("1.000"),
        "fuel_multiplier": Decimal("1.000"),
        "is_active": True,
    }
    return Tariff(**(defaults | fields))


def make_shipment(weight="1200", volume=None, pallets=None) -> Shipment:
    return Shipment(
        origin=Place(country="DE", city="Berlin"),
        destination=Place(country="FR", city="Paris"),
        weight_kg=Decimal(weight),
        volume_cbm=None if volume is None else Decimal(volume),
        pallet_count=pallets,
    )


def price(offering, tariffs=(), shipment=None) -> Quote | Exclusion:
    return quote_offering(
        offering=offering,
        tariffs=list(tariffs),
        shipment=shipment or make_shipment(),
        distance=Distance(km=Decimal("1050.0"), method="great_circle"),
        now=NOW,
    )


# --- Pallets estimated from weight and volume -------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "volume", "pallets"),
    [
        ("1200", "8", 6),  # by volume: 8 / 1.5 = 5.33 -> 6; by weight 1.2 -> 2
        ("2500", "1", 3),  # by weight: 2.5 -> 3
        ("3000", "4.5", 3),  # both exact: no pallet added by rounding
        ("1200", None, 2),  # no volume: by weight alone
        ("0.5", None, 1),  # at least one
        ("0.5", "0.001", 1),
    ],
)
def test_pallets_are_the_larger_of_the_weight_and_volume_estimates_rounded_up(weight, volume, pallets):
    estimate = shipment_pallets(make_shipment(weight=weight, volume=volume))

    assert (estimate.count, estimate.estimated) == (Decimal(pallets), True)


def test_pallet_tariff_without_a_pallet_count_prices_the_estimate_and_says_so():
    # given 12.50 per pallet and 1,200 kg in 8 m³, no pallet count
    shipment = make_shipment(weight="1200", volume="8")

    # when
    quote = price(make_offering(), [per_pallet()], shipment)

    # then it is quoted for 6 pallets, the line marked estimated with how
    assert isinstance(quote, Quote), quote
    line = quote.lines[1]
    assert (line.quantity, line.amount, quote.total) == (Decimal(6), Decimal("75.00"), Decimal("75.00"))
    assert line.quantity_estimated is True
    assert line.note.startswith("6 pallets estimated from 1200 kg and 8 m³")
    assert line.to_dict()["quantity_estimated"] is True


def test_pallet_tariff_with_a_pallet_count_prices_the_count_given_without_a_note():
    quote = price(make_offering(), [per_pallet()], make_shipment(weight="1200", volume="8", pallets=4))

    assert isinstance(quote, Quote), quote
    line = quote.lines[1]
    assert (line.quantity, line.quantity_estimated, line.note) == (Decimal(4), False, "")


def test_lines_not_per_pallet_carry_no_estimate_note():
    fixed = per_pallet(unit="fixed", name="Loading")

    quote = price(make_offering(), [fixed, per_pallet()], make_shipment(volume="8"))

    assert isinstance(quote, Quote), quote
    assert [line.quantity_estimated for line in quote.lines] == [False, False, True]


# --- A price of 0.00 ------------------------------------------------------------------------


def test_offering_pricing_a_shipment_at_zero_is_excluded_as_zero_price():
    result = price(make_offering(base_price=Decimal("0.0000")))

    assert isinstance(result, Exclusion), result
    assert [reason.code for reason in result.reasons] == ["zero_price"]
    assert "0.00 EUR" in result.reasons[0].message


def test_a_discount_down_to_zero_is_excluded_as_zero_price():
    # given 10 EUR and a seasonal line of 10 x (0.5 - 1) - 5 = -10
    season = per_pallet(
        tariff_type="seasonal", unit="fixed", price_per_unit=Decimal("-5"), seasonal_multiplier=Decimal("0.500")
    )

    result = price(make_offering(base_price=Decimal("10.0000")), [season])

    assert isinstance(result, Exclusion), result
    assert [reason.code for reason in result.reasons] == ["zero_price"]


def test_free_offering_is_quoted_at_zero():
    quote = price(make_offering(base_price=Decimal("0.0000"), is_free=True, currency="JPY"))

    assert isinstance(quote, Quote), quote
    assert quote.total == Decimal(0)


def test_free_offering_with_a_price_is_quoted_at_its_price():
    quote = price(make_offering(base_price=Decimal("10.0000"), is_free=True))

    assert isinstance(quote, Quote), quote
    assert quote.total == Decimal("10.00")


# --- Through the API ------------------------------------------------------------------------


def quote_body(**overrides) -> dict:
    body = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
        "volume_cbm": "8",
    }
    return body | overrides


@pytest.mark.django_db
def test_api_quotes_a_per_pallet_offering_without_a_pallet_count(api, carrier, shipper):
    # given an offering priced only per pallet
    offering = OfferingFactory(organization=carrier.org, pricing_model="fixed", base_price=Decimal("0"))
    TariffFactory(offering=offering, unit="pallet", price_per_unit=Decimal("12.5000"))

    # when a shipper asks without a pallet count
    body = api(shipper.staff).post(QUOTE, quote_body(), format="json").json()

    # then it is quoted for the 6 pallets estimated, and the line says so
    assert [row["offering_id"] for row in body["data"]] == [str(offering.id)]
    line = body["data"][0]["lines"][1]
    assert (line["quantity"], line["amount"], line["quantity_estimated"]) == ("6", "75.00", True)
    assert line["note"].startswith("6 pallets estimated from 1200 kg and 8 m³")


@pytest.mark.django_db
def test_api_leaves_out_a_zero_price_and_quotes_a_free_offering(api, carrier, rival, shipper):
    # given one offering pricing the shipment at 0 by mistake, one free on purpose, one at 100
    unfinished = OfferingFactory(organization=carrier.org, pricing_model="fixed", base_price=Decimal("0"))
    free = OfferingFactory(organization=rival.org, pricing_model="fixed", base_price=Decimal("0"), is_free=True)
    paid = OfferingFactory(organization=rival.org, pricing_model="fixed", base_price=Decimal("100"))

    # when
    plain = api(shipper.staff).post(QUOTE, quote_body(), format="json").json()
    explained = api(shipper.staff).post(QUOTE, quote_body(explain=True), format="json").json()

    # then the free one and the paid one are quoted, in both ways; the unfinished one is explained
    for body in (plain, explained):
        assert [row["offering_id"] for row in body["data"]] == [str(free.id), str(paid.id)]
        assert body["data"][0]["total"] == "0.00"
        assert body["meta"]["total"] == 2
    excluded = {row["offering"]["id"]: [reason["code"] for reason in row["reasons"]] for row in explained["excluded"]}
    assert excluded == {str(unfinished.id): ["zero_price"]}
    assert explained["excluded_meta"]["by_reason"] == {"zero_price": 1}


@pytest.mark.django_db
def test_carrier_marks_its_offering_free(api, carrier):
    offering = OfferingFactory(organization=carrier.org)

    response = api(carrier.admin).patch(f"/api/v1/catalog/offerings/{offering.id}", {"is_free": True}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["is_free"] is True
    with system_scope(reason="test: read the row as stored", audit=False):
        assert ServiceOffering.objects.get(pk=offering.id).is_free is True
