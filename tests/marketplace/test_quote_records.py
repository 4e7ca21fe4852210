"""Quotes get ids and a validity: every quote shown is recorded for the organization that
asked, so that a booking can hold its price until `valid_until`; an expired or another
organization's quote cannot be had; old records are cleaned up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import NotFound
from apps.marketplace import selectors
from apps.marketplace.models import QuoteRecord
from apps.marketplace.pricing import Place, Shipment, shipment_as_dict, shipment_from_dict
from apps.marketplace.tasks import marketplace_delete_old_quotes
from tests.beat import run_beat_job
from tests.marketplace.factories import OfferingFactory, TariffFactory

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/pricing/quote"


def quote_body(**overrides) -> dict:
    body = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
        "volume_cbm": "8",
    }
    return body | overrides


def offering(party, price="100.0000", **fields):
    return OfferingFactory(organization=party.org, pricing_model="fixed", base_price=Decimal(price), **fields)


def ask(api, party, **overrides) -> dict:
    response = api(party.staff).post(QUOTE, quote_body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def records_of(party) -> dict[str, QuoteRecord]:
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return {str(record.id): record for record in QuoteRecord.objects.all()}


def bookable(party, quote_id, now=None) -> QuoteRecord:
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return selectors.quote_get_bookable(
            organization_id=party.org.id, quote_id=UUID(str(quote_id)), now=now or timezone.now()
        )


# --- Ids, validity and what is stored --------------------------------------------------------


def test_each_quote_has_an_id_and_holds_for_the_quote_validity(api, carrier, rival, shipper, settings):
    # given two offerings, one with a per-pallet tariff the shipment gives no count for
    settings.QUOTE_VALIDITY = timedelta(minutes=45)
    cheap = offering(carrier, "80.0000")
    TariffFactory(offering=cheap, unit="pallet", price_per_unit=Decimal("2.5000"))
    offering(rival, "120.0000")
    before = timezone.now()

    # when
    body = ask(api, shipper)

    # then each quote has its own id and is valid 45 minutes from when it was made
    quote_ids = [row["quote_id"] for row in body["data"]]
    assert len(set(quote_ids)) == 2
    stored = records_of(shipper)
    assert set(stored) == set(quote_ids)
    for row in body["data"]:
        record = stored[row["quote_id"]]
        assert parse_datetime(row["valid_until"]) == record.valid_until
        assert record.valid_until - record.created_at == timedelta(minutes=45)
        assert before <= record.created_at <= timezone.now()


def test_a_quote_record_keeps_what_was_quoted(api, carrier, shipper):
    # given an offering priced 80 + 2.50 per pallet
    cheap = offering(carrier, "80.0000")
    TariffFactory(offering=cheap, unit="pallet", price_per_unit=Decimal("2.5000"))

    # when
    row = ask(api, shipper, pickup_date="2027-01-11")["data"][0]

    # then the record holds the offering, its carrier, the price and its lines, the shipment, who asked
    record = records_of(shipper)[row["quote_id"]]
    assert (record.offering_id, record.carrier_organization_id) == (cheap.id, carrier.org.id)
    assert (record.organization_id, record.created_by_id) == (shipper.org.id, shipper.staff.id)
    assert (record.currency, record.total, record.transit_days) == ("EUR", Decimal("95.000"), row["transit_days"])
    assert record.lines == row["lines"]
    assert record.lines[1]["quantity_estimated"] is True
    shipment = shipment_from_dict(record.shipment)
    assert (shipment.weight_kg, shipment.volume_cbm, shipment.pallet_count) == (Decimal("1200"), Decimal("8"), None)
    assert (shipment.origin.city, shipment.pickup_date) == ("Hamburg", date(2027, 1, 11))


def test_explained_quotes_have_ids_and_the_offerings_left_out_have_none(api, carrier, shipper):
    # given one offering that carries the shipment and one too small for it
    fits = offering(carrier)
    offering(carrier, max_weight_kg=Decimal("1000"))

    # when
    body = ask(api, shipper, explain=True)

    # then
    assert [row["offering_id"] for row in body["data"]] == [str(fits.id)]
    assert set(records_of(shipper)) == {body["data"][0]["quote_id"]}
    assert [set(row) & {"quote_id", "valid_until"} for row in body["excluded"]] == [set()]


def test_no_quote_records_nothing(api, carrier, shipper):
    offering(carrier, max_weight_kg=Decimal("1000"))

    body = ask(api, shipper)

    assert body["data"] == []
    assert records_of(shipper) == {}


def test_the_carrier_does_not_see_the_shippers_quote_records(api, carrier, shipper):
    offering(carrier)

    ask(api, shipper)

    assert len(records_of(shipper)) == 1
    assert records_of(carrier) == {}


# --- Bookable: the caller's, and still valid ------------------------------------------------


def test_a_valid_quote_is_bookable_by_its_organization(api, carrier, shipper):
    offering(carrier)
    quote_id = ask(api, shipper)["data"][0]["quote_id"]

    record = bookable(shipper, quote_id)

    assert str(record.id) == quote_id


def test_a_quote_is_bookable_until_just_before_its_validity_ends_then_expired(api, carrier, shipper):
    # given a quote
    offering(carrier)
    row = ask(api, shipper)["data"][0]
    valid_until = parse_datetime(row["valid_until"])

    # then it holds until the last microsecond before valid_until, and not at valid_until
    assert str(bookable(shipper, row["quote_id"], now=valid_until - timedelta(microseconds=1)).id) == row["quote_id"]
    with pytest.raises(selectors.QuoteExpired) as expired:
        bookable(shipper, row["quote_id"], now=valid_until)
    assert (expired.value.code, expired.value.status_code) == ("QUOTE_EXPIRED", 422)
    assert expired.value.details == {"valid_until": [valid_until.isoformat()]}


def test_another_organizations_quote_is_not_found(api, carrier, rival, shipper):
    # given the shipper's quote
    offering(carrier)
    quote_id = ask(api, shipper)["data"][0]["quote_id"]

    # then a third organization asking for it by id finds nothing, as for an id never given out
    for unknown in (quote_id, uuid4()):
        with pytest.raises(NotFound) as missing:
            bookable(rival, unknown)
        assert missing.value.status_code == 404


# --- Clean-up ---------------------------------------------------------------------------------


def test_the_clean_up_deletes_records_older_than_a_day_only(api, carrier, rival, shipper):
    # given two quotes of the shipper and one of the rival, one of the shipper's made 25 hours ago
    offering(carrier)
    old = ask(api, shipper)["data"][0]["quote_id"]
    recent = ask(api, shipper)["data"][0]["quote_id"]
    others = ask(api, rival)["data"][0]["quote_id"]
    with system_scope(reason="test: time passes", audit=False):
        QuoteRecord.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(hours=25))

    # when the beat job runs (twice: the second finds nothing)
    first, second = sum(run_beat_job(marketplace_delete_old_quotes)), sum(run_beat_job(marketplace_delete_old_quotes))

    # then only the old one is gone
    assert (first, second) == (1, 0)
    assert set(records_of(shipper)) == {recent}
    assert set(records_of(rival)) == {others}


# --- The shipment as stored -------------------------------------------------------------------


def test_a_shipment_reads_back_equal_from_its_stored_form():
    shipment = Shipment(
        origin=Place(country="DE", city="Hamburg", latitude=Decimal("53.551100"), longitude=Decimal("9.993700")),
        destination=Place(country="PL", city="Warsaw"),
        weight_kg=Decimal("1200.000"),
        volume_cbm=Decimal("8"),
        length_cm=120,
        pallet_count=None,
        cargo_type="palletized",
        hazmat_class="3",
        temperature_min_c=Decimal("-18.0"),
        pickup_date=datetime(2027, 1, 11, tzinfo=UTC).date(),
        service_type="road_ltl",
        currency="EUR",
    )

    stored = shipment_as_dict(shipment)

    assert stored["weight_kg"] == "1200.000"
    assert shipment_from_dict(stored) == shipment
    assert repr(shipment_from_dict(stored)) == repr(shipment)  # the same digits: 1200.000, not 1200
