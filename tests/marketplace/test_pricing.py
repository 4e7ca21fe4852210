"""Pricing an offering for a shipment (apps.marketplace.pricing): eligibility, distance, the
itemized price and its rounding. Pure: unsaved model instances, no database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.marketplace.models import ServiceOffering, Tariff
from apps.marketplace.pricing import (
    Distance,
    Exclusion,
    Place,
    Quote,
    Shipment,
    ineligibility_reasons,
    quote_as_dict,
    quote_offering,
    shipment_distance,
)

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # a Monday
KNOWN_DISTANCE = Distance(km=Decimal("100.0"), method="great_circle")
UNKNOWN_DISTANCE = Distance(km=None, method="unknown")


def make_offering(**fields) -> ServiceOffering:
    defaults = {
        "id": uuid.uuid4(),
        "name": "Berlin - Paris FTL",
        "organization_name": "Volga Carriers",
        "service_type": "road_ftl",
        "transit_days": 3,
        "pricing_model": "fixed",
        "base_price": Decimal("100.0000"),
        "currency": "EUR",
    }
    return ServiceOffering(**{**defaults, **fields})


def make_tariff(**fields) -> Tariff:
    defaults = {
        "id": uuid.uuid4(),
        "name": "Tariff",
        "tariff_type": "base",
        "unit": "fixed",
        "seasonal_multiplier": Decimal("1.000"),
        "fuel_multiplier": Decimal("1.000"),
        "is_active": True,
    }
    return Tariff(**{**defaults, **fields})


def make_shipment(**fields) -> Shipment:
    defaults = {
        "origin": Place(country="DE", city="Berlin"),
        "destination": Place(country="FR", city="Paris"),
        "weight_kg": Decimal("500.000"),
    }
    return Shipment(**{**defaults, **fields})


def price(offering, tariffs=(), shipment=None, distance=KNOWN_DISTANCE, now=NOW) -> Quote | Exclusion:
    return quote_offering(
        offering=offering,
        tariffs=list(tariffs),
        shipment=shipment or make_shipment(),
        distance=distance,
        now=now,
    )


def quoted(offering, tariffs=(), shipment=None, distance=KNOWN_DISTANCE, now=NOW) -> Quote:
    result = price(offering, tariffs, shipment, distance, now)
    assert isinstance(result, Quote), result
    return result


def excluded_codes(offering, tariffs=(), shipment=None, distance=KNOWN_DISTANCE) -> list[str]:
    result = price(offering, tariffs, shipment, distance)
    assert isinstance(result, Exclusion), result
    return [reason.code for reason in result.reasons]


def reason_codes(offering, shipment) -> list[str]:
    return [reason.code for reason in ineligibility_reasons(offering=offering, shipment=shipment)]


def skipped_codes(quote: Quote) -> list[str]:
    return [reason.code for _, reason in quote.skipped_tariffs]


# --- Distance ---


def test_distance_between_known_coordinates_is_great_circle_to_a_tenth_of_a_km():
    # given Moscow and Saint Petersburg with coordinates
    shipment = make_shipment(
        origin=Place(country="RU", city="Moscow", latitude=Decimal("55.7558"), longitude=Decimal("37.6173")),
        destination=Place(
            country="RU", city="Saint Petersburg", latitude=Decimal("59.9343"), longitude=Decimal("30.3351")
        ),
    )

    # when
    distance = shipment_distance(shipment)

    # then about 634 km, as a Decimal with one decimal place
    assert distance.method == "great_circle"
    assert abs(distance.km - Decimal("634")) <= Decimal("2")
    assert distance.km.as_tuple().exponent == -1


def test_distance_without_coordinates_is_unknown():
    # given a destination without coordinates
    shipment = make_shipment(origin=Place(country="RU", latitude=Decimal("55.7558"), longitude=Decimal("37.6173")))

    # when
    distance = shipment_distance(shipment)

    # then
    assert distance == Distance(km=None, method="unknown")


# --- Pricing models (the offering's base price line) ---


def test_fixed_pricing_charges_the_base_price_once():
    # given a fixed price of 250 per shipment
    offering = make_offering(pricing_model="fixed", base_price=Decimal("250.0000"))

    # when
    quote = quoted(offering)

    # then one "Base price" line of 250.00
    (line,) = quote.lines
    assert (line.name, line.source, line.tariff_id, line.tariff_type) == ("Base price", "offering", None, "")
    assert (line.unit, line.quantity, line.rate) == ("fixed", Decimal(1), Decimal("250.0000"))
    assert line.amount == Decimal("250.00")
    assert quote.total == Decimal("250.00")
    assert (quote.offering_id, quote.currency, quote.transit_days) == (offering.id, "EUR", 3)


def test_per_kg_pricing_charges_the_base_price_per_kilogram():
    # given 0.15 per kg and 1200 kg
    offering = make_offering(pricing_model="per_kg", base_price=Decimal("0.1500"))

    # when
    quote = quoted(offering, shipment=make_shipment(weight_kg=Decimal("1200.000")))

    # then 0.15 x 1200 = 180.00
    assert (quote.lines[0].unit, quote.lines[0].quantity) == ("kg", Decimal("1200.000"))
    assert quote.total == Decimal("180.00")


def test_per_km_pricing_charges_the_base_price_per_kilometre():
    # given 1.25 per km over 634.2 km
    offering = make_offering(pricing_model="per_km", base_price=Decimal("1.2500"))

    # when
    quote = quoted(offering, distance=Distance(km=Decimal("634.2"), method="great_circle"))

    # then 1.25 x 634.2 = 792.75
    assert (quote.lines[0].unit, quote.lines[0].quantity) == ("km", Decimal("634.2"))
    assert quote.total == Decimal("792.75")


def test_per_cbm_pricing_charges_the_base_price_per_cubic_metre():
    # given 45 per m³ and 12.5 m³
    offering = make_offering(pricing_model="per_cbm", base_price=Decimal("45.0000"))

    # when
    quote = quoted(offering, shipment=make_shipment(volume_cbm=Decimal("12.500")))

    # then 45 x 12.5 = 562.50
    assert (quote.lines[0].unit, quote.lines[0].quantity) == ("cbm", Decimal("12.500"))
    assert quote.total == Decimal("562.50")


# --- Tariff types ---


def test_base_tariff_adds_its_price_per_unit():
    # given a base tariff of 0.05 per kg, 500 kg
    tariff = make_tariff(name="Handling", tariff_type="base", unit="kg", price_per_unit=Decimal("0.0500"))

    # when
    quote = quoted(make_offering(), [tariff])

    # then 0.05 x 500 = 25.00 on top of the base price 100.00
    line = quote.lines[1]
    assert (line.name, line.source, line.tariff_id, line.tariff_type) == ("Handling", "tariff", tariff.id, "base")
    assert (line.quantity, line.rate, line.multiplier, line.base) == (Decimal("500.000"), Decimal("0.0500"), None, None)
    assert (line.calculated, line.clamped_to, line.amount) == (Decimal("25"), None, Decimal("25.00"))
    assert quote.total == Decimal("125.00")


def test_distance_tariff_charges_per_kilometre():
    # given a distance tariff of 0.80 per km over 100.0 km
    tariff = make_tariff(tariff_type="distance", unit="km", price_per_unit=Decimal("0.8000"))

    # when
    quote = quoted(make_offering(), [tariff])

    # then 0.80 x 100.0 = 80.00; 100.00 + 80.00 = 180.00
    assert (quote.lines[1].quantity, quote.lines[1].amount) == (Decimal("100.0"), Decimal("80.00"))
    assert quote.total == Decimal("180.00")


def test_pallet_tariff_charges_per_pallet():
    # given 12.50 per pallet and 4 pallets
    tariff = make_tariff(unit="pallet", price_per_unit=Decimal("12.5000"))

    # when
    quote = quoted(make_offering(), [tariff], shipment=make_shipment(pallet_count=4))

    # then 12.50 x 4 = 50.00; 100.00 + 50.00 = 150.00
    assert (quote.lines[1].quantity, quote.lines[1].amount) == (Decimal(4), Decimal("50.00"))
    assert quote.total == Decimal("150.00")


def test_per_unit_tariff_applies_its_own_multipliers():
    # given 0.10 per kg with a seasonal multiplier of 1.100 and a fuel multiplier of 1.050
    tariff = make_tariff(
        unit="kg",
        price_per_unit=Decimal("0.1000"),
        seasonal_multiplier=Decimal("1.100"),
        fuel_multiplier=Decimal("1.050"),
    )

    # when
    quote = quoted(make_offering(), [tariff])

    # then 0.10 x 500 = 50; x 1.100 x 1.050 (= x 1.155) = 57.75
    line = quote.lines[1]
    assert line.multiplier == Decimal("1.155")
    assert line.amount == Decimal("57.75")
    assert quote.total == Decimal("157.75")


def test_seasonal_surcharge_is_a_share_of_the_base_subtotal():
    # given base price 100 and a base tariff of 25 (0.05 x 500 kg), then a seasonal 1.100
    base = make_tariff(unit="kg", price_per_unit=Decimal("0.0500"))
    season = make_tariff(name="Peak season", tariff_type="seasonal", seasonal_multiplier=Decimal("1.100"))

    # when
    quote = quoted(make_offering(), [season, base])

    # then S = 100 + 25 = 125; seasonal line 125 x 0.100 = 12.50; total 137.50
    line = quote.lines[2]
    assert (line.name, line.base, line.multiplier, line.rate) == (
        "Peak season",
        Decimal("125.00"),
        Decimal("1.100"),
        None,
    )
    assert line.amount == Decimal("12.50")
    assert quote.total == Decimal("137.50")


def test_seasonal_multiplier_below_one_is_a_discount():
    # given base price 100 and a seasonal 0.900
    season = make_tariff(tariff_type="seasonal", seasonal_multiplier=Decimal("0.900"))

    # when
    quote = quoted(make_offering(), [season])

    # then 100 x (0.900 - 1) = -10.00; total 90.00
    assert quote.lines[1].amount == Decimal("-10.00")
    assert quote.total == Decimal("90.00")


def test_seasonal_line_adds_its_own_per_unit_charge():
    # given base price 100, seasonal 1.100 plus 2.00 per pallet, 3 pallets
    season = make_tariff(
        tariff_type="seasonal", unit="pallet", price_per_unit=Decimal("2.0000"), seasonal_multiplier=Decimal("1.100")
    )

    # when
    quote = quoted(make_offering(), [season], shipment=make_shipment(pallet_count=3))

    # then 100 x 0.100 + 2.00 x 3 = 10 + 6 = 16.00; total 116.00
    assert quote.lines[1].amount == Decimal("16.00")
    assert quote.total == Decimal("116.00")


def test_fuel_surcharge_is_a_share_of_the_subtotal_after_seasonal_lines():
    # given base price 100, a seasonal 1.200 and a fuel surcharge 1.150, listed fuel first
    fuel = make_tariff(name="Fuel", tariff_type="fuel_surcharge", fuel_multiplier=Decimal("1.150"))
    season = make_tariff(name="Season", tariff_type="seasonal", seasonal_multiplier=Decimal("1.200"))

    # when
    quote = quoted(make_offering(), [fuel, season])

    # then S = 100; seasonal 100 x 0.200 = 20; S2 = 120; fuel 120 x 0.150 = 18.00; total 138.00
    assert [line.name for line in quote.lines] == ["Base price", "Season", "Fuel"]
    assert (quote.lines[2].base, quote.lines[2].multiplier) == (Decimal("120.00"), Decimal("1.150"))
    assert quote.lines[2].amount == Decimal("18.00")
    assert quote.total == Decimal("138.00")


def test_fuel_surcharge_ignores_the_seasonal_multiplier_of_its_own_row():
    # given a fuel surcharge row that also carries a seasonal multiplier 2.000
    fuel = make_tariff(
        tariff_type="fuel_surcharge", fuel_multiplier=Decimal("1.100"), seasonal_multiplier=Decimal("2.000")
    )

    # when
    quote = quoted(make_offering(), [fuel])

    # then only the fuel multiplier counts: 100 x 0.100 = 10.00
    assert quote.lines[1].amount == Decimal("10.00")


def test_per_unit_lines_keep_the_order_given():
    # given two base-type tariffs, a distance one listed first
    distance = make_tariff(name="Distance", tariff_type="distance", unit="km", price_per_unit=Decimal("0.1000"))
    base = make_tariff(name="Handling", tariff_type="base", price_per_unit=Decimal("5.0000"))

    # when
    quote = quoted(make_offering(), [distance, base])

    # then
    assert [line.name for line in quote.lines] == ["Base price", "Distance", "Handling"]


# --- Clamps ---


def test_line_below_its_minimum_charge_is_raised_to_it():
    # given 0.05 per kg x 500 kg = 25, minimum 40.00
    tariff = make_tariff(unit="kg", price_per_unit=Decimal("0.0500"), minimum_charge=Decimal("40.00"))

    # when
    line = quoted(make_offering(), [tariff]).lines[1]

    # then charged 40.00, the calculated 25 kept
    assert (line.calculated, line.clamped_to, line.amount) == (Decimal("25"), "minimum", Decimal("40.00"))


def test_line_above_its_maximum_charge_is_capped_to_it():
    # given 0.05 per kg x 500 kg = 25, maximum 20.00
    tariff = make_tariff(unit="kg", price_per_unit=Decimal("0.0500"), maximum_charge=Decimal("20.00"))

    # when
    quote = quoted(make_offering(), [tariff])

    # then charged 20.00; total 100 + 20 = 120.00
    line = quote.lines[1]
    assert (line.calculated, line.clamped_to, line.amount) == (Decimal("25"), "maximum", Decimal("20.00"))
    assert quote.total == Decimal("120.00")


def test_surcharge_line_is_clamped_too():
    # given a fuel surcharge 1.500 on 100 = 50, maximum 30.00
    fuel = make_tariff(tariff_type="fuel_surcharge", fuel_multiplier=Decimal("1.500"), maximum_charge=Decimal("30.00"))

    # when
    line = quoted(make_offering(), [fuel]).lines[1]

    # then
    assert (line.calculated, line.clamped_to, line.amount) == (Decimal("50"), "maximum", Decimal("30.00"))


# --- When a tariff applies ---


def test_tariff_before_its_validity_is_skipped():
    # given a tariff valid from tomorrow
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), valid_from=datetime(2025, 6, 3, tzinfo=UTC))

    # when
    quote = quoted(make_offering(), [tariff])

    # then not charged, and listed with its reason
    assert len(quote.lines) == 1
    assert quote.skipped_tariffs[0][0] == tariff.id
    assert skipped_codes(quote) == ["tariff_not_valid_at_pickup"]


def test_tariff_inside_its_validity_applies():
    # given a tariff valid through June
    tariff = make_tariff(
        price_per_unit=Decimal("5.0000"),
        valid_from=datetime(2025, 6, 1, tzinfo=UTC),
        valid_until=datetime(2025, 7, 1, tzinfo=UTC),
    )

    # when
    quote = quoted(make_offering(), [tariff])

    # then 100 + 5 = 105.00
    assert quote.total == Decimal("105.00")
    assert quote.skipped_tariffs == ()


def test_tariff_applies_from_the_moment_of_valid_from():
    # given a tariff valid from exactly now
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), valid_from=NOW)

    # when
    quote = quoted(make_offering(), [tariff])

    # then
    assert quote.total == Decimal("105.00")


def test_tariff_no_longer_applies_at_valid_until():
    # given a tariff valid until exactly now (exclusive)
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), valid_until=NOW)

    # when
    quote = quoted(make_offering(), [tariff])

    # then
    assert quote.total == Decimal("100.00")
    assert skipped_codes(quote) == ["tariff_not_valid_at_pickup"]


def test_tariff_is_judged_at_midnight_utc_of_the_pickup_date():
    # given a tariff valid from 1 July 00:00 UTC, one until then, and a pickup on 1 July (now is June)
    july = make_tariff(name="July", price_per_unit=Decimal("7.0000"), valid_from=datetime(2025, 7, 1, tzinfo=UTC))
    june = make_tariff(name="June", price_per_unit=Decimal("5.0000"), valid_until=datetime(2025, 7, 1, tzinfo=UTC))

    # when
    quote = quoted(make_offering(), [july, june], shipment=make_shipment(pickup_date=date(2025, 7, 1)))

    # then the July tariff applies, the June one is skipped: 100 + 7 = 107.00
    assert quote.total == Decimal("107.00")
    assert quote.skipped_tariffs[0][0] == june.id


def test_inactive_tariff_is_skipped():
    # given an inactive tariff
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), is_active=False)

    # when
    quote = quoted(make_offering(), [tariff])

    # then
    assert quote.total == Decimal("100.00")
    assert skipped_codes(quote) == ["tariff_inactive"]


@pytest.mark.parametrize("weight", [Decimal("100.000"), Decimal("500.000")])
def test_tariff_weight_range_includes_its_bounds(weight):
    # given a tariff for 100 to 500 kg
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), min_weight_kg=Decimal("100"), max_weight_kg=Decimal("500"))

    # when the shipment weighs exactly a bound
    quote = quoted(make_offering(), [tariff], shipment=make_shipment(weight_kg=weight))

    # then it applies
    assert quote.total == Decimal("105.00")


@pytest.mark.parametrize("weight", [Decimal("99.999"), Decimal("500.001")])
def test_tariff_outside_its_weight_range_is_skipped(weight):
    # given a tariff for 100 to 500 kg
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), min_weight_kg=Decimal("100"), max_weight_kg=Decimal("500"))

    # when
    quote = quoted(make_offering(), [tariff], shipment=make_shipment(weight_kg=weight))

    # then
    assert quote.total == Decimal("100.00")
    assert skipped_codes(quote) == ["tariff_weight_out_of_range"]


@pytest.mark.parametrize("km", [Decimal("50.0"), Decimal("100.0")])
def test_tariff_distance_range_includes_its_bounds(km):
    # given a tariff for 50 to 100 km
    tariff = make_tariff(
        price_per_unit=Decimal("5.0000"), min_distance_km=Decimal("50.0"), max_distance_km=Decimal("100.0")
    )

    # when the distance is exactly a bound
    quote = quoted(make_offering(), [tariff], distance=Distance(km=km, method="great_circle"))

    # then it applies
    assert quote.total == Decimal("105.00")


def test_tariff_outside_its_distance_range_is_skipped():
    # given a tariff up to 100 km, a distance of 100.1 km
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), max_distance_km=Decimal("100.0"))

    # when
    quote = quoted(make_offering(), [tariff], distance=Distance(km=Decimal("100.1"), method="great_circle"))

    # then
    assert quote.total == Decimal("100.00")
    assert skipped_codes(quote) == ["tariff_distance_out_of_range"]
    assert "100.1 km" in quote.skipped_tariffs[0][1].message


# --- Rounding and the total ---


@pytest.mark.parametrize(("base_price", "amount"), [("0.1250", "0.12"), ("0.1350", "0.14")])
def test_euro_lines_round_half_to_even(base_price, amount):
    # given a fixed price exactly half a cent away from two cents
    offering = make_offering(base_price=Decimal(base_price))

    # when
    line = quoted(offering).lines[0]

    # then 0.125 -> 0.12 (2 is even), 0.135 -> 0.14 (4 is even)
    assert line.amount == Decimal(amount)
    assert line.amount.as_tuple().exponent == -2


def test_yen_lines_round_to_whole_yen():
    # given 2.5 JPY per kg and 5 kg
    offering = make_offering(currency="JPY", pricing_model="per_kg", base_price=Decimal("2.5000"))

    # when
    quote = quoted(offering, shipment=make_shipment(weight_kg=Decimal("5")))

    # then 2.5 x 5 = 12.5 -> 12 (half to even, no decimals)
    assert quote.total == Decimal("12")
    assert quote.total.as_tuple().exponent == 0


def test_kuwaiti_dinar_lines_round_to_three_decimals():
    # given a fixed price of 1.2345 KWD
    offering = make_offering(currency="KWD", base_price=Decimal("1.2345"))

    # when
    quote = quoted(offering)

    # then 1.2345 -> 1.234 (half to even, three decimals)
    assert quote.total == Decimal("1.234")
    assert quote.total.as_tuple().exponent == -3


def test_total_is_the_sum_of_the_rounded_line_amounts():
    # given a zero base price and three tariffs of 0.125 each
    offering = make_offering(base_price=Decimal("0.0000"))
    tariffs = [make_tariff(price_per_unit=Decimal("0.1250")) for _ in range(3)]

    # when
    quote = quoted(offering, tariffs)

    # then each line is 0.12, the total 0.36 (not 0.375 rounded to 0.38)
    assert [line.amount for line in quote.lines[1:]] == [Decimal("0.12")] * 3
    assert quote.total == sum(line.amount for line in quote.lines) == Decimal("0.36")


def test_total_below_zero_is_floored_at_zero_without_a_line():
    # given a free service's base price 10 and a seasonal 0.500 with a fixed -20.00
    offering = make_offering(base_price=Decimal("10.0000"), is_free=True)
    season = make_tariff(tariff_type="seasonal", seasonal_multiplier=Decimal("0.500"), price_per_unit=Decimal("-20"))

    # when
    quote = quoted(offering, [season])

    # then the lines add to 10 + (10 x -0.500 - 20) = 10 - 25 = -15; the total is 0.00
    assert sum(line.amount for line in quote.lines) == Decimal("-15.00")
    assert len(quote.lines) == 2
    assert quote.total == Decimal("0.00")


def test_quote_as_dict_renders_amounts_as_strings():
    # given a quote with a skipped tariff
    applied = make_tariff(name="Handling", unit="kg", price_per_unit=Decimal("0.0500"))
    inactive = make_tariff(is_active=False)
    quote = quoted(make_offering(), [applied, inactive])

    # when
    data = quote_as_dict(quote)

    # then JSON-ready, amounts as strings
    assert json.loads(json.dumps(data)) == data
    assert data["total"] == "125.00"
    assert data["offering_id"] == str(quote.offering_id)
    assert data["lines"][1] == {
        "name": "Handling",
        "source": "tariff",
        "tariff_id": str(applied.id),
        "tariff_type": "base",
        "unit": "kg",
        "quantity": "500.000",
        "rate": "0.0500",
        "multiplier": None,
        "base": None,
        "calculated": "25.0000000000000",  # 0.0500 x 500.000 x (1.000 x 1.000): 4 + 3 + 6 decimals, unrounded
        "clamped_to": None,
        "amount": "25.00",
        "quantity_estimated": False,
        "note": "",
    }
    assert data["skipped_tariffs"][0]["code"] == "tariff_inactive"
    assert data == quote.to_dict()


# --- Eligibility ---


def test_offering_without_limits_carries_anything_but_dangerous_goods():
    # given an offering with every limit empty
    offering = make_offering()

    # when a heavy, large, cooled shipment is checked
    shipment = make_shipment(
        weight_kg=Decimal("40000"), volume_cbm=Decimal("90"), length_cm=1360, width_cm=245, height_cm=270
    )

    # then no reason
    assert reason_codes(offering, shipment) == []


def test_other_service_type_is_excluded():
    assert reason_codes(make_offering(service_type="rail"), make_shipment(service_type="road_ftl")) == [
        "service_type_differs"
    ]


def test_other_currency_is_excluded():
    assert reason_codes(make_offering(currency="EUR"), make_shipment(currency="USD")) == ["currency_differs"]


def test_origin_country_outside_the_list_is_not_covered():
    assert reason_codes(make_offering(origin_countries=["PL", "CZ"]), make_shipment()) == ["origin_not_covered"]


def test_cities_compare_case_insensitively():
    # given an offering from "BERLIN" to "paris", a shipment Berlin -> Paris
    offering = make_offering(origin_cities=["BERLIN"], destination_cities=["paris"], origin_countries=["de"])

    # then covered
    assert reason_codes(offering, make_shipment()) == []


def test_blank_city_is_not_covered_by_a_city_list():
    # given an offering from Berlin only and a shipment without an origin city
    offering = make_offering(origin_cities=["Berlin"])

    # then
    assert reason_codes(offering, make_shipment(origin=Place(country="DE"))) == ["origin_not_covered"]


def test_destination_outside_the_list_is_not_covered():
    assert reason_codes(make_offering(destination_cities=["Lyon"]), make_shipment()) == ["destination_not_covered"]


def test_heavier_than_the_maximum_is_too_heavy_and_says_by_how_much():
    # given at most 1000 kg, a shipment of 1200 kg
    offering = make_offering(max_weight_kg=Decimal("1000.000"))

    # when
    reasons = ineligibility_reasons(offering=offering, shipment=make_shipment(weight_kg=Decimal("1200.000")))

    # then
    assert [(reason.code, reason.message) for reason in reasons] == [
        ("too_heavy", "Weighs 1200 kg; this service carries at most 1000 kg.")
    ]


def test_weight_equal_to_the_maximum_is_carried():
    assert reason_codes(make_offering(max_weight_kg=Decimal("500")), make_shipment()) == []


def test_larger_volume_than_the_maximum_is_too_voluminous():
    offering = make_offering(max_volume_cbm=Decimal("10.000"))
    assert reason_codes(offering, make_shipment(volume_cbm=Decimal("10.001"))) == ["too_voluminous"]


def test_a_dimension_over_its_maximum_is_too_large_without_rotation():
    # given at most 600 cm long and 250 cm high; a load 250 long and 600 high would fit rotated
    offering = make_offering(max_length_cm=600, max_width_cm=250, max_height_cm=250)
    shipment = make_shipment(length_cm=250, width_cm=200, height_cm=600)

    # then
    assert reason_codes(offering, shipment) == ["too_large"]


def test_cargo_type_outside_the_list_is_not_carried():
    offering = make_offering(cargo_types=["general", "palletized"])
    assert reason_codes(offering, make_shipment(cargo_type="liquid")) == ["cargo_type_not_carried"]


def test_empty_hazmat_list_carries_no_dangerous_goods():
    assert reason_codes(make_offering(hazmat_classes=[]), make_shipment(hazmat_class="3")) == ["hazmat_not_carried"]


def test_listed_hazmat_class_is_carried():
    assert reason_codes(make_offering(hazmat_classes=["3", "8"]), make_shipment(hazmat_class="3")) == []


def test_temperature_requirement_needs_a_controlled_service():
    shipment = make_shipment(temperature_max_c=Decimal("8.0"))
    assert reason_codes(make_offering(temperature_controlled=False), shipment) == ["temperature_not_controlled"]


def test_temperature_range_outside_the_services_is_not_covered():
    # given a service keeping -20..5 °C, a shipment needing -25..-18 °C
    offering = make_offering(
        temperature_controlled=True, temperature_min_c=Decimal("-20.0"), temperature_max_c=Decimal("5.0")
    )
    shipment = make_shipment(temperature_min_c=Decimal("-25.0"), temperature_max_c=Decimal("-18.0"))

    # then
    assert reason_codes(offering, shipment) == ["temperature_range_not_covered"]


def test_temperature_bound_the_shipment_leaves_open_is_not_checked():
    # given a service keeping -20..5 °C with no lower bound asked, and one with no upper bound of its own
    bounded = make_offering(
        temperature_controlled=True, temperature_min_c=Decimal("-20.0"), temperature_max_c=Decimal("5.0")
    )
    open_above = make_offering(temperature_controlled=True, temperature_min_c=Decimal("-20.0"))

    # then both cover a shipment needing at most 4 °C
    assert reason_codes(bounded, make_shipment(temperature_max_c=Decimal("4.0"))) == []
    assert reason_codes(open_above, make_shipment(temperature_max_c=Decimal("4.0"))) == []


def test_pickup_on_a_day_without_service_is_not_available():
    # given pickups Monday to Friday, a pickup on Sunday 2025-06-01
    offering = make_offering(available_days=[1, 2, 3, 4, 5])

    # then
    assert reason_codes(offering, make_shipment(pickup_date=date(2025, 6, 1))) == ["not_available_on_pickup_day"]


def test_every_failing_rule_is_reported_together():
    # given an offering for 1000 kg of general cargo, no dangerous goods, priced in EUR
    offering = make_offering(max_weight_kg=Decimal("1000"), cargo_types=["general"], currency="EUR")
    shipment = make_shipment(weight_kg=Decimal("1200"), cargo_type="liquid", hazmat_class="3", currency="USD")

    # when
    result = price(offering, shipment=shipment)

    # then all four reasons, none dropped
    assert isinstance(result, Exclusion)
    assert result.offering_id == offering.id
    assert [reason.code for reason in result.reasons] == [
        "currency_differs",
        "too_heavy",
        "cargo_type_not_carried",
        "hazmat_not_carried",
    ]


# --- Quantities pricing needs ---


def test_per_km_pricing_without_a_distance_is_excluded():
    assert excluded_codes(make_offering(pricing_model="per_km"), distance=UNKNOWN_DISTANCE) == ["distance_unknown"]


def test_km_tariff_without_a_distance_is_excluded():
    tariff = make_tariff(tariff_type="distance", unit="km", price_per_unit=Decimal("0.8000"))
    assert excluded_codes(make_offering(), [tariff], distance=UNKNOWN_DISTANCE) == ["distance_unknown"]


def test_tariff_with_a_distance_range_without_a_distance_is_excluded():
    tariff = make_tariff(price_per_unit=Decimal("5.0000"), max_distance_km=Decimal("500.0"))
    assert excluded_codes(make_offering(), [tariff], distance=UNKNOWN_DISTANCE) == ["distance_unknown"]


def test_inactive_km_tariff_needs_no_distance():
    # given an inactive km tariff and no distance
    tariff = make_tariff(unit="km", price_per_unit=Decimal("0.8000"), is_active=False)

    # when
    quote = quoted(make_offering(), [tariff], distance=UNKNOWN_DISTANCE)

    # then priced without it
    assert quote.total == Decimal("100.00")


def test_per_cbm_pricing_without_a_volume_is_excluded():
    assert excluded_codes(make_offering(pricing_model="per_cbm")) == ["volume_unknown"]


def test_cbm_tariff_without_a_volume_is_excluded():
    tariff = make_tariff(unit="cbm", price_per_unit=Decimal("3.0000"))
    assert excluded_codes(make_offering(), [tariff]) == ["volume_unknown"]


def test_missing_quantities_are_reported_with_the_limit_reasons():
    # given a per-km offering for at most 100 kg, a cbm tariff, no distance and no volume
    offering = make_offering(pricing_model="per_km", max_weight_kg=Decimal("100"))
    tariff = make_tariff(unit="cbm", price_per_unit=Decimal("12.5000"))

    # then
    assert excluded_codes(offering, [tariff], distance=UNKNOWN_DISTANCE) == [
        "too_heavy",
        "distance_unknown",
        "volume_unknown",
    ]
