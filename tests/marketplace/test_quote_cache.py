"""Quotes at scale (docs/marketplace.md): the lane index narrows the candidates without ever
dropping one that can serve, and the cached ranking is the fresh one until the catalogue
changes, which makes it unreachable at the commit of the change."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.context import system_scope, tenant_scope
from apps.marketplace import quotes, selectors, services
from apps.marketplace.models import ServiceOffering, Tariff
from apps.marketplace.pricing import Place, Quote, Shipment, quote_offering, shipment_distance
from apps.tenancy.roles import Actor, Role
from bench import quote as bench_quote
from tests.factories import UserFactory
from tests.marketplace.factories import OfferingFactory, TariffFactory
from tests.marketplace.test_quote_ranking import _tariffs

NOW = datetime(2027, 1, 8, 12, 0, tzinfo=UTC)
HAMBURG = Place(country="DE", city="Hamburg", latitude=Decimal("53.551100"), longitude=Decimal("9.993700"))
WARSAW = Place(country="PL", city="Warsaw", latitude=Decimal("52.229700"), longitude=Decimal("21.012200"))
SHIPMENT = Shipment(origin=HAMBURG, destination=WARSAW, weight_kg=Decimal("1200"), pallet_count=4)
LANE_INDEX = "offering_lane_idx"


def _quote(party, shipment=SHIPMENT, *, now=NOW, limit=20, sort="price"):
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return quotes.quote_shipment(shipment=shipment, now=now, limit=limit, sort=sort)


def _seen(result) -> tuple:
    """What a quote answers: how many, and each shown quote in full."""
    return result.total, [json.dumps(priced.to_dict(), sort_keys=True) for _, priced in result.quotes]


def _ranking_statements(captured) -> int:
    return sum("marketplace_round_half_even" in query["sql"] for query in captured)


def _actor(party) -> Actor:
    return Actor(user_id=party.admin.id, organization_id=party.org.id, role=Role.ORG_ADMIN)


def _catalogue(carrier) -> list[ServiceOffering]:
    offerings = []
    for number, price in enumerate(["100.0000", "120.0000", "150.0000"]):
        offering = OfferingFactory(
            organization=carrier.org, name=f"Lane {number}", pricing_model="fixed", base_price=Decimal(price)
        )
        TariffFactory(offering=offering, name="Per pallet", unit="pallet", price_per_unit=Decimal("5.0000"))
        offerings.append(offering)
    return offerings


# --- The cache --------------------------------------------------------------------------------


def test_a_quote_served_from_the_cache_equals_the_fresh_one(committed, carrier, shipper):
    # given a committed catalogue and a first quote, which ranks in SQL and fills the cache
    _catalogue(carrier)
    with CaptureQueriesContext(connection) as first:
        fresh = _quote(shipper)
    assert _ranking_statements(first) == 1

    # when the same shipment is quoted again
    with CaptureQueriesContext(connection) as second:
        cached = _quote(shipper)

    # then the ranking comes from the cache and the answer is the same, line for line
    assert _ranking_statements(second) == 0
    assert _seen(cached) == _seen(fresh)
    assert cached.total == 3
    # and the other sort, or another limit, is another entry, ranked afresh
    with CaptureQueriesContext(connection) as other:
        by_time = _quote(shipper, sort="transit_time", limit=2)
    assert _ranking_statements(other) == 1
    assert by_time.total == 3 and len(by_time.quotes) == 2


def test_a_tariff_change_reaches_the_next_quote(committed, carrier, shipper):
    # given a cached ranking
    offerings = _catalogue(carrier)
    before = _quote(shipper)
    cheapest = before.quotes[0][0]
    assert cheapest.id == offerings[0].id
    with system_scope(reason="test: the offering's tariff", audit=False):
        tariff = Tariff.objects.get(offering_id=cheapest.id)

    # when its carrier raises the cheapest offering's tariff through the service (committed)
    with tenant_scope(carrier.org.id, user_id=carrier.admin.id):
        services.tariff_update(
            actor=_actor(carrier), offering_id=cheapest.id, tariff_id=tariff.id, data={"price_per_unit": "50.0000"}
        )

    # then the very next quote ranks afresh and prices it at the new rate
    with CaptureQueriesContext(connection) as after_change:
        after = _quote(shipper)
    assert _ranking_statements(after_change) == 1
    totals = {offering.id: priced.total for offering, priced in after.quotes}
    assert totals[cheapest.id] == Decimal("100.00") + 4 * Decimal("50.00")
    assert after.quotes[0][0].id == offerings[1].id


def test_an_offering_hidden_by_staff_leaves_the_next_quote(committed, carrier, shipper):
    offerings = _catalogue(carrier)
    assert _quote(shipper).total == 3
    staff = UserFactory(is_staff=True)

    with system_scope(reason="test: staff hide an offering", audit=False):
        services.offering_set_hidden(
            actor=Actor.staff(staff.id), offering_id=offerings[0].id, hidden=True, reason="Misleading prices."
        )

    after = _quote(shipper)
    assert after.total == 2
    assert offerings[0].id not in {offering.id for offering, _ in after.quotes}


def test_an_offering_created_or_deactivated_is_reflected_at_once(committed, carrier, shipper):
    _catalogue(carrier)
    assert _quote(shipper).total == 3

    with tenant_scope(carrier.org.id, user_id=carrier.admin.id):
        created = services.offering_create(
            actor=_actor(carrier),
            data={
                "name": "Newcomer",
                "service_type": "road_ftl",
                "transit_days": 1,
                "currency": "EUR",
                "base_price": Decimal("90"),
            },
        )
    assert _quote(shipper).total == 4

    with tenant_scope(carrier.org.id, user_id=carrier.admin.id):
        services.offering_update(actor=_actor(carrier), offering_id=created.id, data={"is_active": False})
    assert _quote(shipper).total == 3


def test_a_write_by_any_path_changes_the_version_at_commit_only(committed, carrier, shipper):
    # given the catalogue's version as a reader sees it
    _catalogue(carrier)
    with tenant_scope(shipper.org.id):
        version = selectors.catalogue_version()
    assert version

    # when a raw UPDATE (no service, no event) runs in a transaction
    with system_scope(reason="test: a raw write", audit=False), connection.cursor() as cursor:
        cursor.execute("UPDATE marketplace_serviceoffering SET base_price = base_price + 1")
        # then that transaction knows it wrote the catalogue (its quotes bypass the cache)
        cursor.execute("SELECT current_setting('marketplace.catalogue_written', true)")
        assert cursor.fetchone()[0] == "on"
        # and other transactions still read the old version: nothing is committed yet
        with connections["owner"].cursor() as elsewhere:
            elsewhere.execute("SELECT version::text FROM marketplace_catalogueversion")
            assert elsewhere.fetchone()[0] == version

    # and after the commit every reader sees a new version
    with tenant_scope(shipper.org.id):
        assert selectors.catalogue_version() not in (version, None)


def test_quotes_in_the_transaction_that_wrote_the_catalogue_neither_read_nor_fill_the_cache(
    committed, carrier, shipper
):
    offerings = _catalogue(carrier)
    assert _quote(shipper).total == 3  # cached

    with transaction.atomic(), tenant_scope(carrier.org.id, user_id=carrier.admin.id):
        services.offering_update(actor=_actor(carrier), offering_id=offerings[0].id, data={"is_active": False})
        with CaptureQueriesContext(connection) as inside:
            own_view = quotes.quote_shipment(shipment=SHIPMENT, now=NOW)
        assert own_view.total == 2  # its own write, not the cached ranking
        assert _ranking_statements(inside) == 1
        transaction.set_rollback(True)

    assert _quote(shipper).total == 3  # rolled back: the catalogue as it was


def test_a_ranking_judged_now_ends_at_the_next_tariff_validity_bound(committed, carrier, shipper):
    # given a surcharge on the cheapest offering from an hour on, and a quote without pickup
    # date (tariffs judged now)
    offerings = _catalogue(carrier)
    TariffFactory(
        offering=offerings[0],
        name="Peak season",
        unit="fixed",
        price_per_unit=Decimal("1000.0000"),
        valid_from=NOW + timedelta(hours=1),
    )
    before = _quote(shipper)
    assert before.quotes[0][0].id == offerings[0].id

    # when the same shipment is quoted before the bound, the ranking cached at NOW serves
    with CaptureQueriesContext(connection) as earlier:
        assert _quote(shipper, now=NOW + timedelta(minutes=30)).quotes[0][0].id == offerings[0].id
    assert _ranking_statements(earlier) == 0

    # and after the bound it is computed afresh: the surcharged offering is no longer first
    with CaptureQueriesContext(connection) as later:
        after = _quote(shipper, now=NOW + timedelta(hours=2))
    assert _ranking_statements(later) == 1
    assert after.quotes[0][0].id == offerings[1].id


def test_the_key_keeps_every_digit_of_the_shipment():
    one = quotes.ranking_key(
        version="v", shipment=SHIPMENT, distance=shipment_distance(SHIPMENT), sort="price", limit=20
    )
    heavier = Shipment(origin=HAMBURG, destination=WARSAW, weight_kg=Decimal("1200.001"), pallet_count=4)
    assert one != quotes.ranking_key(
        version="v", shipment=heavier, distance=shipment_distance(heavier), sort="price", limit=20
    )
    assert one != quotes.ranking_key(
        version="w", shipment=SHIPMENT, distance=shipment_distance(SHIPMENT), sort="price", limit=20
    )


# --- The lane index -----------------------------------------------------------------------------

COUNTRIES = ["DE", "PL", "CZ", "FR", "SE", "NO"]


def _lane_catalogue(parties, seed: int) -> None:
    """~50 offerings over random country lists (empty = anywhere), with tariffs at random."""
    pick = random.Random(seed)

    def countries():
        return [] if pick.random() < 0.2 else sorted(pick.sample(COUNTRIES, k=pick.randint(1, 3)))

    for number in range(50):
        offering = OfferingFactory(
            organization=pick.choice(parties).org,
            name=f"Lane {number}",
            origin_countries=countries(),
            destination_countries=countries(),
            pricing_model=pick.choice(["fixed", "per_kg", "per_km"]),
            base_price=Decimal(pick.choice(["0.1250", "2.5000", "120.0000"])),
            currency=pick.choice(["EUR", "EUR", "PLN"]),
            is_active=pick.random() > 0.1,
            is_hidden=pick.random() < 0.05,
        )
        for tariff in _tariffs(pick):
            TariffFactory(offering=offering, **tariff)


POINTS = {"DE": ("52.52", "13.40"), "PL": ("52.23", "21.01"), "CZ": ("50.08", "14.43"), "FR": ("48.86", "2.35")}


@st.composite
def lane_shipments(draw) -> Shipment:
    def place(country):
        latitude, longitude = POINTS.get(country, (None, None))
        return Place(
            country=country,
            city="",
            latitude=None if latitude is None else Decimal(latitude),
            longitude=None if longitude is None else Decimal(longitude),
        )

    return Shipment(
        origin=place(draw(st.sampled_from(COUNTRIES))),
        destination=place(draw(st.sampled_from(COUNTRIES))),
        weight_kg=Decimal(draw(st.sampled_from(["0.5", "100", "1000", "1000.001"]))),
        volume_cbm=draw(st.sampled_from([None, Decimal("8")])),
        pallet_count=draw(st.sampled_from([None, 4])),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_the_lane_narrowing_never_drops_an_offering_that_can_serve(carrier, rival, shipper, seed):
    # given random catalogues over random lanes, read in full as pricing reads them
    _lane_catalogue([carrier, rival], seed)
    with system_scope(reason="test: the catalogue as stored", audit=False):
        published = [
            (offering, [tariff for tariff in offering.tariffs.all() if tariff.is_active])
            for offering in ServiceOffering.objects.prefetch_related("tariffs").order_by("id")
            if offering.is_published
        ]
    served = []

    @settings(max_examples=40, deadline=None, database=None, derandomize=True)
    @given(shipment=lane_shipments())
    def agree(shipment):
        # when every published offering is priced in Python (no narrowing at all)
        distance = shipment_distance(shipment)
        full = []
        for offering, tariffs in published:
            priced = quote_offering(offering=offering, tariffs=tariffs, shipment=shipment, distance=distance, now=NOW)
            if isinstance(priced, Quote):
                full.append((priced.currency, priced.total, priced.transit_days, str(offering.id)))
        full.sort()
        # and the quote ranks the lane's candidates the index finds (sequential scans off)
        with tenant_scope(shipper.org.id, user_id=shipper.staff.id):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
            result = quotes.quote_shipment(shipment=shipment, now=NOW, limit=len(published))
        narrowed = [(q.currency, q.total, q.transit_days, str(o.id)) for o, q in result.quotes]

        # then both find exactly the same offerings, at the same totals, in the same order
        assert result.total == len(full)
        assert narrowed == full
        served.append(len(full))

    agree()
    # and the property was exercised: some lanes are served by many, some by few
    assert max(served) >= 5
    assert min(served) < max(served)


def _plan_nodes(plan):
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    stack = [entry["Plan"] for entry in plan]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.get("Plans", []))


def test_the_lane_index_is_used_over_10000_offerings(committed):
    # given the quote benchmark's catalogue: 10,000 published offerings, 50,000 tariffs
    seeded = bench_quote._seed(offerings=10_000, tariffs=5, carriers=20)
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "ANALYZE marketplace_serviceoffering; ANALYZE marketplace_tariff; ANALYZE marketplace_offeringlane"
        )
    nordic = Shipment(
        origin=Place(country="SE", city="Stockholm"),
        destination=Place(country="FI", city="Helsinki"),
        weight_kg=Decimal("1200"),
        volume_cbm=Decimal("8"),
        cargo_type="palletized",
        pallet_count=4,
    )

    # when the candidates of a lane few offerings serve are planned
    with tenant_scope(seeded.shipper.id):
        sql, params = (
            selectors.offerings_for_quote_queryset(shipment=nordic).order_by().values("id").query.sql_with_params()
        )
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = json.dumps(cursor.fetchone()[0])
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS candidates", params)
            candidates = cursor.fetchone()[0]

    # then PostgreSQL finds the lane's offerings through the lane index, never by scanning every
    # lane (the offerings themselves may be hash-joined: with every table analyzed the planner
    # may rightly read 10,000 small rows in one pass rather than probe them one by one)
    seq_scanned = {
        node.get("Relation Name") for node in _plan_nodes(json.loads(plan)) if node["Node Type"] == "Seq Scan"
    }
    assert LANE_INDEX in plan, plan
    assert "marketplace_offeringlane" not in seq_scanned, plan
    assert 0 < candidates < 2_000
