"""Instant quotes through the API (POST /api/v1/pricing/quote): which offerings can carry a
shipment and which are left out (and why), the order, the distance, one itemized price worked
out by hand, bad input, the query count, and the SQL narrowing agreeing with the pricing rules."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.context import system_scope, tenant_scope
from apps.marketplace import selectors
from apps.marketplace.models import HAZMAT_CLASSES, ServiceOffering
from apps.marketplace.pricing import (
    Place,
    Quote,
    Shipment,
    ineligibility_reasons,
    quote_offering,
    shipment_distance,
)
from tests.marketplace.factories import HAMBURG, WARSAW, OfferingFactory, TariffFactory

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/pricing/quote"
MONDAY, SATURDAY = "2027-01-11", "2027-01-16"


def quote_body(**overrides) -> dict:
    """1.2 t from Hamburg to Warsaw, without coordinates."""
    body = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
    }
    body.update(overrides)
    return body


def ask(api, party, **overrides):
    response = api(party.staff).post(QUOTE, quote_body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def quoted_ids(body) -> list[str]:
    return [row["offering_id"] for row in body["data"]]


def excluded_reasons(body) -> dict[str, list[str]]:
    return {row["offering"]["id"]: [reason["code"] for reason in row["reasons"]] for row in body["excluded"]}


def offering(party, **fields) -> ServiceOffering:
    """A published offering of the party at a fixed price of 100 EUR, carrying anything not
    dangerous or refrigerated unless told otherwise."""
    defaults = {"pricing_model": "fixed", "base_price": Decimal("100.0000"), "currency": "EUR"}
    return OfferingFactory(organization=party.org, **(defaults | fields))


def anything_offering(party) -> ServiceOffering:
    """Carries every shipment the limit cases send: the control that shows the request worked."""
    return offering(party, name="Anything", hazmat_classes=list(HAZMAT_CLASSES), temperature_controlled=True)


# --- Each limit, through the API ------------------------------------------------------------

# limit of the offering, a shipment that breaks it, one that is within it, the reason code
REFRIGERATED = {"temperature_controlled": True, "temperature_min_c": Decimal(0), "temperature_max_c": Decimal(25)}
LIMITS = {
    "origin country": (
        {"origin_countries": ["DE"]},
        {"origin": {"country": "FR", "city": "Paris"}},
        {"origin": {"country": "de", "city": "Hamburg"}},
        "origin_not_covered",
    ),
    "destination country": (
        {"destination_countries": ["PL"]},
        {"destination": {"country": "CZ", "city": "Prague"}},
        {},
        "destination_not_covered",
    ),
    "origin city": (
        {"origin_cities": ["Hamburg"]},
        {"origin": {"country": "DE", "city": "Bremen"}},
        {"origin": {"country": "DE", "city": "HAMBURG"}},
        "origin_not_covered",
    ),
    "destination city": (
        {"destination_cities": ["Warsaw"]},
        {"destination": {"country": "PL", "city": "Krakow"}},
        {},
        "destination_not_covered",
    ),
    "blank city against a city list": (
        {"destination_cities": ["Warsaw"]},
        {"destination": {"country": "PL", "city": ""}},
        {},
        "destination_not_covered",
    ),
    "maximum weight": ({"max_weight_kg": Decimal(1000)}, {"weight_kg": "1000.001"}, {"weight_kg": "1000"}, "too_heavy"),
    "maximum volume": (
        {"max_volume_cbm": Decimal(10)},
        {"volume_cbm": "10.5"},
        {"volume_cbm": "10"},
        "too_voluminous",
    ),
    "maximum length": ({"max_length_cm": 1360}, {"length_cm": 1400}, {"length_cm": 1360}, "too_large"),
    "maximum width": ({"max_width_cm": 245}, {"width_cm": 250}, {"width_cm": 245}, "too_large"),
    "maximum height": ({"max_height_cm": 270}, {"height_cm": 300}, {"height_cm": 270}, "too_large"),
    "cargo type": (
        {"cargo_types": ["general", "palletized"]},
        {"cargo_type": "liquid"},
        {"cargo_type": "palletized"},
        "cargo_type_not_carried",
    ),
    "hazmat class": ({"hazmat_classes": ["3"]}, {"hazmat_class": "8"}, {"hazmat_class": "3"}, "hazmat_not_carried"),
    "empty hazmat list": ({"hazmat_classes": []}, {"hazmat_class": "3"}, {"hazmat_class": ""}, "hazmat_not_carried"),
    "temperature control": (
        {"temperature_controlled": False},
        {"temperature_min_c": "2", "temperature_max_c": "8"},
        {},
        "temperature_not_controlled",
    ),
    "lowest temperature": (
        REFRIGERATED,
        {"temperature_min_c": "-18"},
        {"temperature_min_c": "0", "temperature_max_c": "25"},
        "temperature_range_not_covered",
    ),
    "highest temperature": (
        REFRIGERATED,
        {"temperature_max_c": "30"},
        {"temperature_max_c": "25"},
        "temperature_range_not_covered",
    ),
    "pickup day": (
        {"available_days": [1, 2, 3, 4, 5]},
        {"pickup_date": SATURDAY},
        {"pickup_date": MONDAY},
        "not_available_on_pickup_day",
    ),
    "service type": (
        {"service_type": "air"},
        {"service_type": "road_ftl"},
        {"service_type": "air"},
        "service_type_differs",
    ),
    "currency": ({"currency": "USD"}, {"currency": "EUR"}, {"currency": "usd"}, "currency_differs"),
}
LIMIT_CASES = pytest.mark.parametrize(("limits", "breaks", "fits", "code"), LIMITS.values(), ids=LIMITS.keys())


@LIMIT_CASES
def test_offering_that_cannot_carry_the_shipment_is_left_out(api, carrier, rival, shipper, limits, breaks, fits, code):
    # given an offering with the limit, and one that carries anything
    control = anything_offering(carrier)
    offering(rival, name="Limited", **limits)

    # when
    body = ask(api, shipper, **breaks)

    # then
    assert quoted_ids(body) == [str(control.id)]
    assert body["meta"]["total"] == 1
    assert "excluded" not in body


@LIMIT_CASES
def test_offering_within_its_limit_is_quoted(api, rival, shipper, limits, breaks, fits, code):
    # given
    limited = offering(rival, name="Limited", **limits)

    # when
    body = ask(api, shipper, **fits)

    # then
    assert quoted_ids(body) == [str(limited.id)]


@LIMIT_CASES
def test_explain_lists_the_offering_left_out_with_its_reason(api, carrier, rival, shipper, limits, breaks, fits, code):
    # given
    control = anything_offering(carrier)
    limited = offering(rival, name="Limited", **limits)

    # when
    body = ask(api, shipper, explain=True, **breaks)

    # then
    assert quoted_ids(body) == [str(control.id)]
    assert excluded_reasons(body) == {str(limited.id): [code]}
    assert body["excluded"][0]["offering"]["name"] == "Limited"
    assert body["excluded_meta"] == {"total": 1, "by_reason": {code: 1}}


def test_excluded_meta_counts_the_offerings_left_out_by_each_reason(api, carrier, shipper):
    # given two offerings too small for 1.2 t, one of which also carries only liquids
    offering(carrier, name="Van", max_weight_kg=Decimal(1000))
    offering(carrier, name="Small tanker", max_weight_kg=Decimal(800), cargo_types=["liquid"])
    offering(carrier, name="Truck")

    # when
    body = ask(api, shipper, explain=True)

    # then
    assert body["meta"]["total"] == 1
    assert body["excluded_meta"] == {"total": 2, "by_reason": {"too_heavy": 2, "cargo_type_not_carried": 1}}


def test_unpublished_offerings_are_neither_quoted_nor_explained(api, carrier, shipper):
    # given
    published = offering(carrier, name="Published")
    offering(carrier, name="Inactive", is_active=False)
    offering(carrier, name="Hidden", is_hidden=True, hidden_reason="Misleading prices.")

    # when
    plain, explained = ask(api, shipper), ask(api, shipper, explain=True)

    # then
    assert quoted_ids(plain) == quoted_ids(explained) == [str(published.id)]
    assert explained["excluded"] == []


# --- Order, limit, distance -----------------------------------------------------------------


def test_quotes_are_sorted_by_price_within_each_currency(api, carrier, shipper):
    # given
    for name, price, currency in [("C", 300, "EUR"), ("A", 100, "EUR"), ("U", 50, "USD"), ("B", 200, "EUR")]:
        offering(carrier, name=name, base_price=Decimal(price), currency=currency)

    # when
    body = ask(api, shipper, sort="price")

    # then each currency together, cheapest first within it
    rows = [(row["currency"], Decimal(row["total"])) for row in body["data"]]
    assert [currency for currency, _ in rows] in (["EUR", "EUR", "EUR", "USD"], ["USD", "EUR", "EUR", "EUR"])
    assert [total for currency, total in rows if currency == "EUR"] == [100, 200, 300]


def test_quotes_are_sorted_by_transit_time_fastest_first(api, carrier, shipper):
    # given the fastest is the dearest
    for days, price in [(5, 100), (1, 300), (3, 200)]:
        offering(carrier, transit_days=days, base_price=Decimal(price))

    # when
    body = ask(api, shipper, sort="transit_time")

    # then
    assert [row["transit_days"] for row in body["data"]] == [1, 3, 5]
    assert body["meta"]["sort"] == "transit_time"


def test_limit_returns_the_cheapest_and_meta_total_counts_every_quote(api, carrier, shipper):
    # given five offerings
    for price in (500, 100, 400, 200, 300):
        offering(carrier, base_price=Decimal(price))

    # when
    body = ask(api, shipper, limit=2)

    # then
    assert [row["total"] for row in body["data"]] == ["100.00", "200.00"]
    assert (body["meta"]["total"], body["meta"]["limit"]) == (5, 2)


def test_distance_between_given_coordinates_is_great_circle(api, carrier, shipper):
    # given
    offering(carrier)

    # when
    body = ask(api, shipper, origin=HAMBURG, destination=WARSAW)

    # then about 753 km
    distance = body["meta"]["distance"]
    assert distance["method"] == "great_circle"
    assert abs(Decimal(distance["km"]) - Decimal(753)) <= 1


def test_distance_without_coordinates_is_unknown(api, carrier, shipper):
    # given
    offering(carrier)

    # when
    body = ask(api, shipper)

    # then
    assert body["meta"]["distance"] == {"km": None, "method": "unknown"}


def test_per_km_offering_without_coordinates_is_left_out_as_distance_unknown(api, carrier, shipper):
    # given
    per_km = offering(carrier, name="Per km", pricing_model="per_km", base_price=Decimal("1.2000"))
    fixed = offering(carrier, name="Fixed")

    # when
    body = ask(api, shipper, explain=True)

    # then
    assert quoted_ids(body) == [str(fixed.id)]
    assert excluded_reasons(body) == {str(per_km.id): ["distance_unknown"]}


def test_per_km_offering_with_coordinates_is_priced_by_the_distance(api, carrier, shipper):
    # given
    offering(carrier, pricing_model="per_km", base_price=Decimal("1.0000"))

    # when
    body = ask(api, shipper, origin=HAMBURG, destination=WARSAW)

    # then the one line charges the distance of meta
    (quote,) = body["data"]
    assert quote["lines"][0]["quantity"] == body["meta"]["distance"]["km"]
    assert Decimal(quote["total"]) == Decimal(body["meta"]["distance"]["km"]).quantize(Decimal("0.01"))


# --- One price, by hand ---------------------------------------------------------------------


def test_quote_itemizes_a_price_worked_out_by_hand(api, carrier, shipper):
    # given 0.08 EUR per kg and five tariffs, one not yet valid at the pickup date
    per_kg = offering(carrier, pricing_model="per_kg", base_price=Decimal("0.0800"))
    tariff = {"offering": per_kg, "seasonal_multiplier": Decimal(1), "fuel_multiplier": Decimal(1)}
    TariffFactory(**tariff, name="Loading", unit="fixed", price_per_unit=Decimal("45.0000"))
    TariffFactory(**tariff, name="Per pallet", unit="pallet", price_per_unit=Decimal("12.5000"))
    TariffFactory(
        **tariff, name="Handling", unit="kg", price_per_unit=Decimal("0.0125"), minimum_charge=Decimal("20.00")
    )
    TariffFactory(
        **(tariff | {"seasonal_multiplier": Decimal("1.100")}),
        name="Winter",
        tariff_type="seasonal",
        unit="fixed",
        price_per_unit=None,
    )
    summer = TariffFactory(
        **(tariff | {"seasonal_multiplier": Decimal("1.300")}),
        name="Summer peak",
        tariff_type="seasonal",
        unit="fixed",
        price_per_unit=None,
        valid_from=datetime(2027, 6, 1, tzinfo=UTC),
    )
    TariffFactory(
        **(tariff | {"fuel_multiplier": Decimal("1.075")}),
        name="Fuel",
        tariff_type="fuel_surcharge",
        unit="fixed",
        price_per_unit=None,
    )

    # when 1200 kg on 4 pallets, picked up on 11 January 2027
    body = ask(api, shipper, pallet_count=4, pickup_date=MONDAY)

    # then
    (quote,) = body["data"]
    amounts = {line["name"]: line["amount"] for line in quote["lines"]}
    assert amounts == {
        "Base price": "96.00",  # 0.08 x 1200
        "Loading": "45.00",
        "Per pallet": "50.00",  # 12.50 x 4
        "Handling": "20.00",  # 0.0125 x 1200 = 15.00, raised to the minimum
        "Winter": "21.10",  # (96 + 45 + 50 + 20) x 0.1
        "Fuel": "17.41",  # 232.10 x 0.075 = 17.4075, half to even
    }
    assert quote["total"] == "249.51"
    assert sum(Decimal(amount) for amount in amounts.values()) == Decimal(quote["total"])
    handling = next(line for line in quote["lines"] if line["name"] == "Handling")
    assert (Decimal(handling["calculated"]), handling["clamped_to"]) == (Decimal(15), "minimum")
    assert [(skip["tariff_id"], skip["code"]) for skip in quote["skipped_tariffs"]] == [
        (str(summer.id), "tariff_not_valid_at_pickup")
    ]
    assert (quote["currency"], quote["transit_days"], quote["offering"]["id"]) == ("EUR", 3, str(per_kg.id))


# --- Bad input ------------------------------------------------------------------------------


def without_origin() -> dict:
    body = quote_body()
    del body["origin"]
    return body


BAD_QUOTES = {
    "negative weight": (quote_body(weight_kg="-5"), ["weight_kg"], "VALIDATION_FIELD_INVALID"),
    "weight over the sanity limit": (quote_body(weight_kg="10000000"), ["weight_kg"], "VALIDATION_FIELD_INVALID"),
    "missing origin": (without_origin(), ["origin"], "VALIDATION_FIELD_REQUIRED"),
    "unknown origin country": (
        quote_body(origin={"country": "XX", "city": "Atlantis"}),
        ["origin", "country"],
        "VALIDATION_FIELD_INVALID",
    ),
    "reversed temperature range": (
        quote_body(temperature_min_c="10", temperature_max_c="2"),
        ["temperature_min_c"],
        "VALIDATION_FIELD_INVALID",
    ),
    "latitude without longitude": (
        quote_body(origin={"country": "DE", "city": "Hamburg", "latitude": 53.55}),
        ["origin", "longitude"],
        "VALIDATION_FIELD_INVALID",
    ),
    "limit 0": (quote_body(limit=0), ["limit"], "VALIDATION_FIELD_INVALID"),
    "limit 101": (quote_body(limit=101), ["limit"], "VALIDATION_FIELD_INVALID"),
    "withdrawn currency": (quote_body(currency="DEM"), ["currency"], "VALIDATION_FIELD_INVALID"),
    "unknown sort": (quote_body(sort="rating"), ["sort"], "VALIDATION_FIELD_INVALID"),
}


@pytest.mark.parametrize(("body", "path", "code"), BAD_QUOTES.values(), ids=BAD_QUOTES.keys())
def test_bad_quote_request_is_rejected_naming_the_field(api, shipper, body, path, code):
    # when
    response = api(shipper.staff).post(QUOTE, body, format="json")

    # then
    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] == code
    details = response.json()["details"]
    for key in path:
        assert key in details, response.json()["details"]
        details = details[key]


# --- Query count ----------------------------------------------------------------------------


@pytest.mark.parametrize("explain", [False, True], ids=["quotes", "quotes explained"])
def test_quote_runs_the_same_number_of_queries_for_2_or_12_eligible_offerings(
    api, carrier, shipper, django_assert_num_queries, explain
):
    # given eligible offerings, each with two tariffs, and one that is not
    def eligible(count):
        for _ in range(count):
            TariffFactory.create_batch(2, offering=offering(carrier))

    eligible(2)
    offering(carrier, max_weight_kg=Decimal(10))
    client = api(shipper.staff)
    body = quote_body(pallet_count=4, explain=explain)
    client.post(QUOTE, body, format="json")  # warm caches that are not per request

    # when / then
    # savepoint, user scope, user+memberships, tenant scope, release, restore, and then: explained,
    # every offering and its tariffs; otherwise the plan mode and the ranking's totals, the shown
    # offerings and their tariffs; and one INSERT of every quote shown (its record, to book it by)
    with django_assert_num_queries(9 if explain else 11) as few:
        assert client.post(QUOTE, body, format="json").json()["meta"]["total"] == 2
    eligible(10)
    with django_assert_num_queries(len(few.captured_queries)) as many:
        assert client.post(QUOTE, body, format="json").json()["meta"]["total"] == 12
    for captured in (few, many):
        inserts = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("INSERT")]
        assert len(inserts) == 1 and '"marketplace_quoterecord"' in inserts[0], inserts


# --- The SQL narrowing agrees with the pricing rules ----------------------------------------

NOW = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)
TARIFF_TEMPLATES = [
    {"name": "Loading", "unit": "fixed", "price_per_unit": Decimal("25.0000")},
    {"name": "Per pallet", "unit": "pallet", "price_per_unit": Decimal("12.5000")},
    {"name": "Per m³", "unit": "cbm", "price_per_unit": Decimal("3.0000")},
    {
        "name": "Distance",
        "tariff_type": "distance",
        "unit": "km",
        "price_per_unit": Decimal("0.8000"),
        "min_distance_km": Decimal(0),
        "max_distance_km": Decimal(1000),
    },
    {"name": "Light loads", "unit": "kg", "price_per_unit": Decimal("0.2000"), "max_weight_kg": Decimal(800)},
    {"name": "Old pallets", "unit": "pallet", "price_per_unit": Decimal("9.0000"), "is_active": False},
    {
        "name": "Summer",
        "tariff_type": "seasonal",
        "price_per_unit": None,
        "seasonal_multiplier": Decimal("1.200"),
        "valid_from": datetime(2027, 6, 1, tzinfo=UTC),
    },
    {"name": "Fuel", "tariff_type": "fuel_surcharge", "price_per_unit": None, "fuel_multiplier": Decimal("1.050")},
]


def varied_offerings(parties) -> None:
    """~40 offerings with every kind of limit, pricing model and tariff, some unpublished."""
    pick = random.Random(20270111)

    def sometimes(*limits):
        """No limit two times in three, else one of `limits`."""
        return pick.choice([None, None] * len(limits) + list(limits))

    def listed(*lists):
        return sometimes(*lists) or []

    for number in range(40):
        controlled = pick.random() < 0.4
        kept = sometimes((-25, -15), (2, 8), (None, 25), (-5, None)) if controlled else None
        low, high = kept or (None, None)
        created = OfferingFactory(
            organization=pick.choice(parties).org,
            name=f"Varied {number}",
            service_type=pick.choice(["road_ftl", "road_ftl", "road_ftl", "road_ltl", "air"]),
            currency=pick.choice(["EUR", "EUR", "USD"]),
            origin_countries=listed(["DE"], ["DE", "PL"], ["FR"]),
            destination_countries=listed(["PL"], ["PL", "CZ"]),
            origin_cities=listed(["Hamburg"], ["hamburg", "Bremen"]),
            destination_cities=listed(["Warsaw"]),
            max_weight_kg=sometimes(Decimal(500), Decimal(1000), Decimal(20000)),
            max_volume_cbm=sometimes(Decimal(5), Decimal(30)),
            max_length_cm=sometimes(400, 1360),
            max_width_cm=sometimes(245),
            max_height_cm=sometimes(270),
            cargo_types=listed(["general"], ["general", "palletized"], ["liquid"]),
            hazmat_classes=listed(["3"], ["3", "8"]),
            temperature_controlled=controlled,
            temperature_min_c=None if low is None else Decimal(low),
            temperature_max_c=None if high is None else Decimal(high),
            available_days=listed([1, 2, 3, 4, 5], [6, 7]),
            pricing_model=pick.choice(["fixed", "fixed", "per_kg", "per_km", "per_cbm"]),
            base_price=Decimal(pick.choice(["90.0000", "0.0900", "1.1000"])),
            is_active=pick.random() > 0.1,
            is_hidden=pick.random() < 0.08,
        )
        for template in pick.sample(TARIFF_TEMPLATES, k=pick.randint(0, 3)):
            TariffFactory(offering=created, **({"tariff_type": "base"} | template))


def decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def place(country: str, city: str, point: tuple[str, str] | None = None) -> Place:
    """A place, with coordinates when given a point (then the distance is known)."""
    latitude, longitude = point or (None, None)
    return Place(country=country, city=city, latitude=decimal(latitude), longitude=decimal(longitude))


ORIGINS = st.sampled_from(
    [
        place("DE", "Hamburg", ("53.551100", "9.993700")),
        place("DE", "Hamburg"),
        place("DE", "HAMBURG"),
        place("DE", "Bremen", ("53.079300", "8.801700")),
        place("DE", ""),
        place("PL", "Warsaw", ("52.229700", "21.012200")),
        place("FR", "Paris"),
    ]
)
DESTINATIONS = st.sampled_from(
    [
        place("PL", "Warsaw", ("52.229700", "21.012200")),
        place("PL", "warsaw"),
        place("PL", "Krakow", ("50.064700", "19.945000")),
        place("CZ", "Prague"),
        place("FR", "Lyon", ("45.764000", "4.835700")),
    ]
)


def rarely(*values, absent=None):
    """`absent` three times in four (and first, so that failures shrink towards it), else one of `values`."""
    return st.sampled_from([absent] * (3 * len(values)) + list(values))


TEMPERATURES = rarely(("-25", "-18"), ("-18", None), ("2", "8"), (None, "8"), ("0", "30"), ("5", "25"))


@st.composite
def shipments(draw) -> Shipment:
    """Shipments around the limits of `varied_offerings`, each limit tested now and then."""
    low, high = draw(TEMPERATURES) or (None, None)
    return Shipment(
        origin=draw(ORIGINS),
        destination=draw(DESTINATIONS),
        weight_kg=Decimal(draw(st.sampled_from(["0.5", "499.999", "500", "500.001", "800", "1000", "15000", "25000"]))),
        volume_cbm=decimal(draw(rarely("1", "5", "5.001", "30", "50"))),
        length_cm=draw(rarely(100, 400, 401, 1360, 1400)),
        width_cm=draw(rarely(100, 245, 246)),
        height_cm=draw(rarely(100, 270, 271)),
        pallet_count=draw(st.sampled_from([None, 1, 4, 33])),
        cargo_type=draw(st.sampled_from(["general", "general", "palletized", "liquid", "bulk"])),
        hazmat_class=draw(rarely("3", "8", "2.1", absent="")),
        temperature_min_c=decimal(low),
        temperature_max_c=decimal(high),
        pickup_date=draw(st.none() | st.sampled_from([date(2027, 1, 11) + timedelta(days=day) for day in range(7)])),
        service_type=draw(rarely("road_ftl", "road_ltl", "air", absent="")),
        currency=draw(rarely("EUR", "USD", absent="")),
    )


def priced_totals(pairs, shipment) -> dict:
    """{offering id: total} of the (offering, tariffs) pairs that price the shipment."""
    distance = shipment_distance(shipment)
    totals = {}
    for candidate, tariffs in pairs:
        result = quote_offering(offering=candidate, tariffs=tariffs, shipment=shipment, distance=distance, now=NOW)
        if isinstance(result, Quote):
            totals[candidate.id] = result.total
    return totals


def test_sql_narrowing_quotes_exactly_the_offerings_the_pricing_rules_accept(carrier, rival, shipper):
    # given ~40 varied offerings of two carriers, read once in full (published or not)
    varied_offerings([carrier, rival])
    with system_scope(reason="test: every offering as stored", audit=False):
        everything = [
            (candidate, [tariff for tariff in candidate.tariffs.all() if tariff.is_active])
            for candidate in ServiceOffering.objects.prefetch_related("tariffs").order_by("id")
        ]
    published = [(candidate, tariffs) for candidate, tariffs in everything if candidate.is_published]
    assert 25 <= len(published) < len(everything)
    quoted_counts = []

    # The data is made once for the test, so the examples run inside @given of an inner
    # function: the function-scoped fixtures are not re-run per example (nor need to be).
    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(shipment=shipments())
    def agree(shipment):
        # when the rules run in Python over every published offering
        eligible = [pair for pair in published if not ineligibility_reasons(offering=pair[0], shipment=shipment)]
        in_python = priced_totals(eligible, shipment)
        # and the selector narrows in SQL for a shipper, and for a carrier that owns unpublished ones
        for viewer in (shipper, carrier):
            with tenant_scope(viewer.org.id, user_id=viewer.staff.id):
                narrowed = [(row, row.pricing_tariffs) for row in selectors.offerings_for_quote(shipment=shipment)]
            from_sql = priced_totals(narrowed, shipment)

            # then both quote the same offerings at the same prices
            assert from_sql == in_python, viewer.org.name
        quoted_counts.append(len(in_python))

    agree()
    # and the property was exercised: many examples quote something, none quotes everything
    assert sum(1 for count in quoted_counts if count) >= 20
    assert max(quoted_counts) < len(published)


def test_explained_quotes_have_a_rate_of_their_own_and_plain_ones_do_not_count(api, shipper, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "quote_explain": "2/min"}
    client = api(shipper.staff)

    plain = [client.post(QUOTE, quote_body(), format="json").status_code for _ in range(3)]
    explained = [client.post(QUOTE, quote_body(explain=True), format="json") for _ in range(3)]

    assert plain == [200, 200, 200]
    assert [response.status_code for response in explained] == [200, 200, 429]
    assert explained[-1].json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert "Retry-After" in explained[-1]
