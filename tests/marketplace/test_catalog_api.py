"""The service catalogue through the API: carriers publish offerings and their tariffs, every
tenant reads the published ones, nobody else reads or changes the rest, and bad input writes
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.marketplace import services
from apps.marketplace.models import ServiceOffering, Tariff
from tests.factories import UserFactory
from tests.marketplace.factories import OfferingFactory, TariffFactory

pytestmark = pytest.mark.django_db

OFFERINGS = "/api/v1/catalog/offerings"


def offering_url(offering_id) -> str:
    return f"{OFFERINGS}/{offering_id}"


def tariffs_url(offering_id) -> str:
    return f"{OFFERINGS}/{offering_id}/tariffs"


def tariff_url(offering_id, tariff_id) -> str:
    return f"{OFFERINGS}/{offering_id}/tariffs/{tariff_id}"


def offering_body(**overrides) -> dict:
    """What a carrier posts to publish an offering: FTL from Germany to Poland, per kg."""
    body = {
        "name": "Hamburg - Warsaw FTL",
        "description": "Curtainsider, tail-lift on request.",
        "service_type": "road_ftl",
        "origin_countries": ["DE"],
        "destination_countries": ["PL"],
        "origin_cities": ["Hamburg"],
        "destination_cities": ["Warsaw"],
        "max_weight_kg": "24000.000",
        "max_volume_cbm": "90.000",
        "max_length_cm": 1360,
        "max_width_cm": 245,
        "max_height_cm": 270,
        "cargo_types": ["general", "palletized"],
        "hazmat_classes": ["3", "8"],
        "transit_days": 2,
        "pricing_model": "per_kg",
        "base_price": "0.0800",
        "currency": "EUR",
        "available_days": [1, 2, 3, 4, 5],
    }
    body.update(overrides)
    return body


def tariff_body(**overrides) -> dict:
    body = {"name": "Tail-lift", "tariff_type": "base", "price_per_unit": "45.0000", "unit": "fixed"}
    body.update(overrides)
    return body


def row_count(model) -> int:
    with system_scope(reason="test: count every tenant's rows", audit=False):
        return model.objects.count()


def written() -> dict[str, int]:
    """How many catalogue rows, and events about them, every tenant has."""
    return {model.__name__: row_count(model) for model in (ServiceOffering, Tariff, OutboxEvent)}


def stored(model, pk):
    with system_scope(reason="test: read the row as stored", audit=False):
        return model.objects.get(pk=pk)


def publish(api, party, **overrides) -> dict:
    """An offering the party's carrier published through the API."""
    response = api(party.staff).post(OFFERINGS, offering_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def add_tariff(api, party, offering_id, **overrides) -> dict:
    response = api(party.staff).post(tariffs_url(offering_id), tariff_body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def ids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["data"]}


def hide_by_staff(offering_id) -> None:
    staff = UserFactory(is_staff=True)
    with system_scope(reason="test: staff hide an offering", audit=False):
        services.offering_set_hidden(
            actor=Actor.staff(staff.id), offering_id=offering_id, hidden=True, reason="Misleading prices."
        )


def deactivate(api, party, offering_id) -> None:
    response = api(party.staff).patch(offering_url(offering_id), {"is_active": False}, format="json")
    assert response.status_code == 200, response.json()


def raw_tariff_ids(offering_id) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id::text FROM "{Tariff._meta.db_table}" WHERE offering_id = %s', [str(offering_id)])
        return {row[0] for row in cursor.fetchall()}


# --- Publishing and changing -------------------------------------------------------------------


def test_carrier_publishes_an_offering_with_its_fields_and_organization_name(api, carrier):
    # given
    body = offering_body()

    # when
    response = api(carrier.staff).post(OFFERINGS, body, format="json")

    # then
    assert response.status_code == 201, response.json()
    offering = response.json()
    assert offering["organization"] == {"id": str(carrier.org.id), "name": "Volga Carriers"}
    for field in ("name", "description", "service_type", "pricing_model", "currency", "transit_days"):
        assert offering[field] == body[field], field
    for field in ("origin_countries", "destination_countries", "origin_cities", "destination_cities"):
        assert offering[field] == body[field], field
    assert offering["cargo_types"] == ["general", "palletized"]
    assert offering["hazmat_classes"] == ["3", "8"]
    assert offering["available_days"] == [1, 2, 3, 4, 5]
    for field in ("max_weight_kg", "max_volume_cbm", "base_price"):
        assert Decimal(offering[field]) == Decimal(body[field]), field
    assert (offering["max_length_cm"], offering["max_width_cm"], offering["max_height_cm"]) == (1360, 245, 270)
    assert (offering["is_active"], offering["is_hidden"]) == (True, False)
    assert stored(ServiceOffering, offering["id"]).organization_id == carrier.org.id


def test_carrier_changes_its_offering(api, carrier):
    # given
    offering = publish(api, carrier)

    # when
    response = api(carrier.staff).patch(
        offering_url(offering["id"]), {"transit_days": 3, "base_price": "0.0950"}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["transit_days"], response.json()["base_price"]) == (3, "0.0950")
    row = stored(ServiceOffering, offering["id"])
    assert (row.transit_days, row.base_price, row.name) == (3, Decimal("0.0950"), "Hamburg - Warsaw FTL")


def test_carrier_adds_a_tariff_to_its_offering(api, carrier):
    # given
    offering = publish(api, carrier)

    # when
    response = api(carrier.staff).post(
        tariffs_url(offering["id"]), tariff_body(minimum_charge="40.00", min_weight_kg="100"), format="json"
    )

    # then
    assert response.status_code == 201, response.json()
    tariff = response.json()
    assert (tariff["offering"], tariff["name"], tariff["tariff_type"], tariff["unit"]) == (
        offering["id"],
        "Tail-lift",
        "base",
        "fixed",
    )
    assert (Decimal(tariff["price_per_unit"]), Decimal(tariff["minimum_charge"])) == (Decimal(45), Decimal(40))
    row = stored(Tariff, tariff["id"])
    assert (row.organization_id, row.offering_is_published) == (carrier.org.id, True)


def test_carrier_changes_a_tariff_of_its_offering(api, carrier):
    # given
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])

    # when
    response = api(carrier.staff).patch(
        tariff_url(offering["id"], tariff["id"]), {"price_per_unit": "55.0000", "is_active": False}, format="json"
    )

    # then
    assert response.status_code == 200, response.json()
    assert (response.json()["price_per_unit"], response.json()["is_active"]) == ("55.0000", False)
    row = stored(Tariff, tariff["id"])
    assert (row.price_per_unit, row.is_active) == (Decimal("55.0000"), False)


def test_carrier_deletes_a_tariff_of_its_offering(api, carrier):
    # given
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])
    client = api(carrier.staff)

    # when
    response = client.delete(tariff_url(offering["id"], tariff["id"]))

    # then
    assert response.status_code == 204
    assert client.get(tariff_url(offering["id"], tariff["id"])).status_code == 404
    assert row_count(Tariff) == 0


# --- Who sees what ---------------------------------------------------------------------------


def test_every_tenant_sees_an_active_offering_in_the_catalogue(api, carrier, shipper, rival):
    # given
    offering = publish(api, carrier)

    # when
    seen_by = {party.org.name: api(party.staff).get(OFFERINGS) for party in (shipper, rival, carrier)}

    # then
    for name, response in seen_by.items():
        assert ids(response) == {offering["id"]}, name
        assert response.json()["data"][0]["organization"]["name"] == "Volga Carriers"
    assert api(shipper.staff).get(offering_url(offering["id"])).json()["name"] == "Hamburg - Warsaw FTL"


def test_other_tenants_see_only_the_active_tariffs_of_a_published_offering(api, carrier, shipper):
    # given an active and an inactive tariff
    offering = publish(api, carrier)
    active = add_tariff(api, carrier, offering["id"], name="Tail-lift")
    inactive = add_tariff(api, carrier, offering["id"], name="Old tail-lift", is_active=False)

    # when
    seen_by_shipper = api(shipper.staff).get(tariffs_url(offering["id"]))
    seen_by_carrier = api(carrier.staff).get(tariffs_url(offering["id"]))

    # then
    assert ids(seen_by_shipper) == {active["id"]}
    assert api(shipper.staff).get(tariff_url(offering["id"], inactive["id"])).status_code == 404
    assert ids(seen_by_carrier) == {active["id"], inactive["id"]}


@pytest.mark.parametrize("how", ["deactivated by its carrier", "hidden by staff"])
def test_an_unpublished_offering_is_invisible_to_other_tenants(api, carrier, shipper, rival, how):
    # given
    offering = publish(api, carrier)
    if how == "hidden by staff":
        hide_by_staff(offering["id"])
    else:
        deactivate(api, carrier, offering["id"])

    # when
    lists = [api(party.staff).get(OFFERINGS) for party in (shipper, rival)]
    details = [api(party.staff).get(offering_url(offering["id"])) for party in (shipper, rival)]

    # then
    assert [ids(response) for response in lists] == [set(), set()]
    assert [response.status_code for response in details] == [404, 404]
    assert details[0].json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("how", ["deactivated by its carrier", "hidden by staff"])
def test_its_carrier_still_sees_an_unpublished_offering(api, carrier, how):
    # given
    offering = publish(api, carrier)
    if how == "hidden by staff":
        hide_by_staff(offering["id"])
    else:
        deactivate(api, carrier, offering["id"])

    # when
    response = api(carrier.staff).get(offering_url(offering["id"]))

    # then
    assert response.status_code == 200
    assert (response.json()["is_active"], response.json()["is_hidden"]) == (
        how != "deactivated by its carrier",
        how == "hidden by staff",
    )


def test_its_carrier_lists_its_unpublished_offering_among_the_published_ones(api, carrier, rival):
    # given
    inactive = publish(api, carrier, is_active=False)
    others = publish(api, rival, name="Rhein FTL")

    # when
    listed = api(carrier.staff).get(OFFERINGS)

    # then
    assert ids(listed) == {inactive["id"], others["id"]}


def test_carrier_cannot_put_back_an_offering_staff_hid(api, carrier, shipper):
    # given
    offering = publish(api, carrier)
    hide_by_staff(offering["id"])

    # when
    api(carrier.staff).patch(offering_url(offering["id"]), {"is_hidden": False, "name": "Renamed"}, format="json")

    # then the name changed, the offering stays out of the catalogue
    row = stored(ServiceOffering, offering["id"])
    assert (row.name, row.is_hidden) == ("Renamed", True)
    assert api(shipper.staff).get(offering_url(offering["id"])).status_code == 404


def test_catalogue_filters_by_covered_origin_country_and_service_type(api, carrier, shipper):
    # given
    germany = publish(api, carrier, name="From Germany", origin_countries=["DE"])
    anywhere = publish(api, carrier, name="From anywhere", origin_countries=[])
    publish(api, carrier, name="From France", origin_countries=["FR"])
    publish(api, carrier, name="Air from Germany", origin_countries=["DE"], service_type="air")

    # when
    listed = api(shipper.staff).get(OFFERINGS, {"origin_country": "de", "service_type": "road_ftl"})

    # then
    assert ids(listed) == {germany["id"], anywhere["id"]}


def test_catalogue_filtered_to_mine_lists_only_the_organizations_own(api, carrier, rival):
    # given
    own = publish(api, carrier)
    publish(api, rival, name="Rhein FTL")

    # when
    listed = api(carrier.staff).get(OFFERINGS, {"mine": "true"})

    # then
    assert ids(listed) == {own["id"]}


def test_deactivating_an_offering_hides_its_tariffs_from_other_tenants(api, carrier, shipper):
    # given a published offering whose tariff the shipper can read
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])
    assert api(shipper.staff).get(tariff_url(offering["id"], tariff["id"])).status_code == 200

    # when
    deactivate(api, carrier, offering["id"])

    # then the copied flag follows, and the shipper reads neither the offering nor its tariffs
    assert stored(Tariff, tariff["id"]).offering_is_published is False
    assert api(shipper.staff).get(tariffs_url(offering["id"])).status_code == 404
    assert api(shipper.staff).get(tariff_url(offering["id"], tariff["id"])).status_code == 404


def test_deactivated_offerings_tariffs_are_invisible_to_raw_sql_in_another_tenants_scope(api, carrier, shipper):
    # given
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        assert raw_tariff_ids(offering["id"]) == {tariff["id"]}

    # when
    deactivate(api, carrier, offering["id"])

    # then PostgreSQL itself hides the row from the shipper; the carrier still reads it
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        assert raw_tariff_ids(offering["id"]) == set()
    with tenant_scope(carrier.org.id, user_id=carrier.staff.id):
        assert raw_tariff_ids(offering["id"]) == {tariff["id"]}


def test_hidden_offerings_tariffs_are_invisible_to_raw_sql_in_another_tenants_scope(api, carrier, shipper):
    # given
    offering = publish(api, carrier)
    add_tariff(api, carrier, offering["id"])

    # when
    hide_by_staff(offering["id"])

    # then
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        assert raw_tariff_ids(offering["id"]) == set()


def test_reactivating_an_offering_shows_its_tariffs_again(api, carrier, shipper):
    # given
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])
    client = api(carrier.staff)
    client.patch(offering_url(offering["id"]), {"is_active": False}, format="json")

    # when
    client.patch(offering_url(offering["id"]), {"is_active": True}, format="json")

    # then
    assert ids(api(shipper.staff).get(tariffs_url(offering["id"]))) == {tariff["id"]}
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        assert raw_tariff_ids(offering["id"]) == {tariff["id"]}


def test_tariff_added_to_an_inactive_offering_is_invisible_to_other_tenants(api, carrier, shipper):
    # given
    offering = publish(api, carrier, is_active=False)

    # when
    tariff = add_tariff(api, carrier, offering["id"])

    # then
    assert stored(Tariff, tariff["id"]).offering_is_published is False
    with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
        assert raw_tariff_ids(offering["id"]) == set()


# --- Who may change what ---------------------------------------------------------------------


def test_shipper_cannot_publish_an_offering(api, shipper):
    # when
    response = api(shipper.staff).post(OFFERINGS, offering_body(), format="json")

    # then
    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert written() == {"ServiceOffering": 0, "Tariff": 0, "OutboxEvent": 0}


def test_another_carrier_cannot_change_an_offering(api, carrier, rival):
    # given
    offering = publish(api, carrier)

    # when
    response = api(rival.staff).patch(
        offering_url(offering["id"]), {"base_price": "0.0100", "is_active": False}, format="json"
    )

    # then
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    row = stored(ServiceOffering, offering["id"])
    assert (row.base_price, row.is_active) == (Decimal("0.0800"), True)


def test_another_carrier_cannot_add_a_tariff_to_an_offering(api, carrier, rival):
    # given
    offering = publish(api, carrier)

    # when
    response = api(rival.staff).post(tariffs_url(offering["id"]), tariff_body(), format="json")

    # then
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"
    assert row_count(Tariff) == 0


def test_another_carrier_cannot_change_or_delete_a_tariff_of_an_offering(api, carrier, rival):
    # given
    offering = publish(api, carrier)
    tariff = add_tariff(api, carrier, offering["id"])
    client = api(rival.staff)

    # when
    changed = client.patch(tariff_url(offering["id"], tariff["id"]), {"price_per_unit": "1.0000"}, format="json")
    deleted = client.delete(tariff_url(offering["id"], tariff["id"]))

    # then
    assert (changed.status_code, deleted.status_code) == (404, 404)
    assert stored(Tariff, tariff["id"]).price_per_unit == Decimal("45.0000")


def test_carrier_cannot_reach_a_tariff_through_another_offering(api, carrier):
    # given a tariff of one offering, addressed under another of the same carrier
    first, second = publish(api, carrier), publish(api, carrier, name="Second")
    tariff = add_tariff(api, carrier, first["id"])

    # when
    response = api(carrier.staff).patch(tariff_url(second["id"], tariff["id"]), {"name": "Moved"}, format="json")

    # then
    assert response.status_code == 404
    assert stored(Tariff, tariff["id"]).name == "Tail-lift"


# --- Bad input writes nothing ----------------------------------------------------------------

BAD_OFFERINGS = {
    "negative weight": ({"max_weight_kg": "-5"}, "max_weight_kg"),
    "absurd weight": ({"max_weight_kg": "10000000"}, "max_weight_kg"),
    "zero volume": ({"max_volume_cbm": "0"}, "max_volume_cbm"),
    "negative length": ({"max_length_cm": -1}, "max_length_cm"),
    "reversed temperature range": (
        {"temperature_controlled": True, "temperature_min_c": "8", "temperature_max_c": "2"},
        "temperature_min_c",
    ),
    "temperature range without control": (
        {"temperature_controlled": False, "temperature_min_c": "2", "temperature_max_c": "8"},
        "temperature_controlled",
    ),
    "made-up currency": ({"currency": "EUX"}, "currency"),
    "digits for a currency": ({"currency": "12"}, "currency"),
    "withdrawn currency": ({"currency": "DEM"}, "currency"),
    "unknown origin country": ({"origin_countries": ["DE", "XX"]}, "origin_countries"),
    "unknown destination country": ({"destination_countries": ["XX"]}, "destination_countries"),
    "unknown hazmat class": ({"hazmat_classes": ["3", "10"]}, "hazmat_classes"),
    "unknown cargo type": ({"cargo_types": ["plutonium"]}, "cargo_types"),
    "weekday 0": ({"available_days": [0]}, "available_days"),
    "weekday 8": ({"available_days": [8]}, "available_days"),
    "negative base price": ({"base_price": "-1"}, "base_price"),
    "unknown service type": ({"service_type": "teleport"}, "service_type"),
    "pickup window ending before it starts": (
        {"available_from": "17:00", "available_until": "08:00"},
        "available_from",
    ),
}


def assert_rejected(response, field: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["error_code"] in ("VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED")
    assert field in body["details"], body["details"]


@pytest.mark.parametrize(("overrides", "field"), BAD_OFFERINGS.values(), ids=BAD_OFFERINGS.keys())
def test_offering_with_bad_input_is_rejected_and_nothing_is_written(api, carrier, overrides, field):
    # given
    before = written()

    # when
    response = api(carrier.staff).post(OFFERINGS, offering_body(**overrides), format="json")

    # then
    assert_rejected(response, field)
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert written() == before


def test_offering_without_a_currency_is_rejected_as_missing(api, carrier):
    # given
    body = offering_body()
    del body["currency"]

    # when
    response = api(carrier.staff).post(OFFERINGS, body, format="json")

    # then
    assert_rejected(response, "currency")
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert written() == {"ServiceOffering": 0, "Tariff": 0, "OutboxEvent": 0}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"max_weight_kg": "-5"}, "max_weight_kg"),
        ({"currency": "DEM"}, "currency"),
        # Reversed against the range already stored: the merged offering is checked.
        ({"temperature_min_c": "30"}, "temperature_min_c"),
    ],
    ids=["negative weight", "withdrawn currency", "minimum above the stored maximum"],
)
def test_bad_change_to_an_offering_is_rejected_and_the_row_is_unchanged(api, carrier, overrides, field):
    # given a refrigerated offering kept between 2 and 8 °C
    offering = publish(api, carrier, temperature_controlled=True, temperature_min_c="2", temperature_max_c="8")
    before = written()

    # when
    response = api(carrier.staff).patch(offering_url(offering["id"]), overrides, format="json")

    # then
    assert_rejected(response, field)
    assert written() == before
    row = stored(ServiceOffering, offering["id"])
    assert (row.max_weight_kg, row.currency, row.temperature_min_c) == (Decimal("24000"), "EUR", Decimal("2"))


BAD_TARIFFS = {
    "reversed charge range": ({"minimum_charge": "100.00", "maximum_charge": "50.00"}, "minimum_charge"),
    "reversed weight range": ({"min_weight_kg": "5000", "max_weight_kg": "1000"}, "min_weight_kg"),
    "reversed distance range": (
        {"tariff_type": "distance", "unit": "km", "min_distance_km": "500", "max_distance_km": "100"},
        "min_distance_km",
    ),
    "validity ending before it starts": (
        {"valid_from": "2027-03-01T00:00:00Z", "valid_until": "2027-02-01T00:00:00Z"},
        "valid_from",
    ),
    "validity ending as it starts": (
        {"valid_from": "2027-03-01T00:00:00Z", "valid_until": "2027-03-01T00:00:00Z"},
        "valid_from",
    ),
    "negative weight": ({"max_weight_kg": "-5"}, "max_weight_kg"),
    "absurd weight": ({"max_weight_kg": "10000000"}, "max_weight_kg"),
    "absurd minimum weight": ({"min_weight_kg": "10000000"}, "min_weight_kg"),
    "absurd minimum distance": (
        {"tariff_type": "distance", "unit": "km", "price_per_unit": "0.5", "min_distance_km": "100000"},
        "min_distance_km",
    ),
    "negative price": ({"price_per_unit": "-1"}, "price_per_unit"),
    "distance tariff not per km": ({"tariff_type": "distance", "unit": "kg", "price_per_unit": "0.5"}, "unit"),
    "base tariff without price": ({"tariff_type": "base", "price_per_unit": None}, "price_per_unit"),
    "distance tariff without price": (
        {"tariff_type": "distance", "unit": "km", "price_per_unit": None},
        "price_per_unit",
    ),
    "fuel surcharge that adds nothing": ({"tariff_type": "fuel_surcharge", "price_per_unit": None}, "fuel_multiplier"),
    "zero multiplier": ({"seasonal_multiplier": "0"}, "seasonal_multiplier"),
    "unknown unit": ({"unit": "parsec"}, "unit"),
}


@pytest.mark.parametrize(("overrides", "field"), BAD_TARIFFS.values(), ids=BAD_TARIFFS.keys())
def test_tariff_with_bad_input_is_rejected_and_nothing_is_written(api, carrier, overrides, field):
    # given
    offering = publish(api, carrier)
    before = written()

    # when
    response = api(carrier.staff).post(tariffs_url(offering["id"]), tariff_body(**overrides), format="json")

    # then
    assert_rejected(response, field)
    assert written() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_weight_kg": "2000"}, "min_weight_kg"),
        ({"valid_until": "2026-12-01T00:00:00Z"}, "valid_from"),
        ({"tariff_type": "distance"}, "unit"),
    ],
    ids=["minimum above the stored maximum", "validity ending before the stored start", "distance type per fixed"],
)
def test_bad_change_to_a_tariff_is_rejected_and_the_row_is_unchanged(api, carrier, overrides, field):
    # given a tariff for 100 to 1000 kg, valid from 2027
    offering = publish(api, carrier)
    tariff = add_tariff(
        api, carrier, offering["id"], min_weight_kg="100", max_weight_kg="1000", valid_from="2027-01-01T00:00:00Z"
    )
    before = written()

    # when
    response = api(carrier.staff).patch(tariff_url(offering["id"], tariff["id"]), overrides, format="json")

    # then
    assert_rejected(response, field)
    assert written() == before
    row = stored(Tariff, tariff["id"])
    assert (row.min_weight_kg, row.valid_until, row.tariff_type) == (Decimal("100"), None, "base")


# --- Query counts ----------------------------------------------------------------------------


def test_catalogue_list_runs_the_same_number_of_queries_for_2_or_12_offerings(
    api, carrier, shipper, django_assert_num_queries
):
    # given
    OfferingFactory.create_batch(2, organization=carrier.org)
    client = api(shipper.staff)
    client.get(OFFERINGS)  # warm caches that are not per request

    # when / then
    with django_assert_num_queries(7) as few:
        assert client.get(OFFERINGS).json()["meta"]["total"] == 2
    OfferingFactory.create_batch(10, organization=carrier.org)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(OFFERINGS).json()["meta"]["total"] == 12


def test_tariff_list_runs_the_same_number_of_queries_for_2_or_12_tariffs(
    api, carrier, shipper, django_assert_num_queries
):
    # given
    offering = OfferingFactory(organization=carrier.org)
    TariffFactory.create_batch(2, offering=offering)
    client = api(shipper.staff)
    url = tariffs_url(offering.id)
    client.get(url)

    # when / then
    with django_assert_num_queries(8) as few:
        assert client.get(url).json()["meta"]["total"] == 2
    TariffFactory.create_batch(10, offering=offering)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).json()["meta"]["total"] == 12


def test_publishing_twice_with_one_idempotency_key_makes_one_offering(api, carrier):
    client = api(carrier.staff)

    first = client.post(OFFERINGS, offering_body(), format="json", HTTP_IDEMPOTENCY_KEY="offering-1")
    replay = client.post(OFFERINGS, offering_body(), format="json", HTTP_IDEMPOTENCY_KEY="offering-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert row_count(ServiceOffering) == 1
