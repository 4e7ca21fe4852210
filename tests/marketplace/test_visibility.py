"""Who sees what in the marketplace, through every API path and in PostgreSQL itself.

A carrier never sees another carrier's offer; an RFQ is seen by its owner, by the carriers
it is open to while it is open, and by the carrier it was awarded to afterwards."""

import pytest
from django.db import connection

from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from tests.factories import member
from tests.marketplace.conftest import offer_body
from tests.marketplace.factories import OfferingFactory, RfqFactory, TariffFactory

pytestmark = pytest.mark.django_db


def _raw_ids(table: str, organization_id, column: str = "id") -> set[str]:
    with tenant_scope(organization_id), connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}"::text FROM "{table}"')
        return {value for (value,) in cursor.fetchall()}


@pytest.fixture
def two_offers(api, carrier, rival, open_rfq):
    mine = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    theirs = api(rival.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(price="1700"), format="json")
    return mine, theirs.json()


def test_a_carrier_never_sees_another_carriers_offer_through_any_path(api, carrier, rival, open_rfq, two_offers):
    mine, theirs = two_offers
    client = api(carrier.staff)

    listed = {offer["id"] for offer in client.get("/api/v1/offers").json()["data"]}
    on_rfq = {offer["id"] for offer in client.get(f"/api/v1/rfqs/{open_rfq['id']}/offers").json()["data"]}
    filtered = {offer["id"] for offer in client.get(f"/api/v1/offers?rfq={open_rfq['id']}").json()["data"]}
    by_side = {offer["id"] for offer in client.get("/api/v1/offers?side=shipper").json()["data"]}

    assert listed == on_rfq == filtered == {mine["id"]}
    assert by_side == set()
    assert client.get(f"/api/v1/offers/{theirs['id']}").status_code == 404
    assert client.get(f"/api/v1/rfqs/{open_rfq['id']}").json()["live_offer_count"] is None


def test_a_carrier_cannot_act_on_another_carriers_offer(api, carrier, rival, two_offers):
    _, theirs = two_offers
    admin = api(carrier.admin)  # an org admin holds every permission: only visibility stops it

    answers = [
        admin.patch(f"/api/v1/offers/{theirs['id']}", {"price": "1"}, format="json"),
        admin.post(f"/api/v1/offers/{theirs['id']}/withdraw", {}, format="json"),
        admin.post(f"/api/v1/offers/{theirs['id']}/reject", {}, format="json"),
        admin.post(f"/api/v1/offers/{theirs['id']}/accept"),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
    assert {answer.json()["error_code"] for answer in answers} == {"NOT_FOUND"}
    unchanged = api(rival.staff).get(f"/api/v1/offers/{theirs['id']}").json()
    assert (unchanged["status"], unchanged["price"], unchanged["version"]) == ("submitted", "1700.00", 1)


def test_postgresql_hides_another_carriers_offers_and_their_history(carrier, rival, two_offers):
    mine, theirs = two_offers

    for table, column in (
        ("marketplace_offer", "id"),
        ("marketplace_offerrevision", "offer_id"),
        ("marketplace_offerstatuschange", "offer_id"),
    ):
        seen = _raw_ids(table, carrier.org.id, column)
        assert seen == {mine["id"]}, table
        assert theirs["id"] not in seen


def test_the_rfq_owner_sees_every_offer_on_it(api, shipper, open_rfq, two_offers):
    listed = api(shipper.staff).get(f"/api/v1/rfqs/{open_rfq['id']}/offers").json()

    assert {offer["id"] for offer in listed["data"]} == {offer["id"] for offer in two_offers}
    assert api(shipper.staff).get(f"/api/v1/rfqs/{open_rfq['id']}").json()["live_offer_count"] == 2


def test_a_carrier_user_with_an_own_grant_sees_only_the_offers_they_submitted(api, carrier, open_rfq, two_offers):
    colleague = member(carrier.org, Role.CARRIER)

    listed = api(colleague).get("/api/v1/offers").json()
    detail = api(colleague).get(f"/api/v1/offers/{two_offers[0]['id']}")
    admin = api(carrier.admin).get("/api/v1/offers").json()

    assert listed["data"] == []
    assert detail.status_code == 404
    assert [offer["id"] for offer in admin["data"]] == [two_offers[0]["id"]]


def test_after_the_award_the_winner_still_sees_the_rfq_and_the_losers_do_not(api, shipper, carrier, rival, two_offers):
    mine, theirs = two_offers
    rfq_id = mine["rfq"]["id"]

    api(shipper.staff).post(f"/api/v1/offers/{mine['id']}/accept")

    assert api(carrier.staff).get(f"/api/v1/rfqs/{rfq_id}").json()["status"] == "awarded"
    assert api(rival.staff).get(f"/api/v1/rfqs/{rfq_id}").status_code == 404
    # The loser keeps its own offer, with the RFQ's number copied onto it.
    lost = api(rival.staff).get(f"/api/v1/offers/{theirs['id']}").json()
    assert (lost["status"], lost["rfq"]["number"]) == ("rejected", mine["rfq"]["number"])


def test_postgresql_shows_a_published_rfq_to_its_audience_and_a_draft_to_none(shipper, carrier, rival):
    public = RfqFactory(organization=shipper.org)
    closed = RfqFactory(organization=shipper.org, status="cancelled")
    draft = RfqFactory(organization=shipper.org, status="draft")
    invited = RfqFactory(organization=shipper.org, audience="invited", invited_organization_ids=[carrier.org.id])

    seen = _raw_ids("marketplace_rfq", carrier.org.id)
    seen_by_rival = _raw_ids("marketplace_rfq", rival.org.id)

    assert {str(public.id), str(closed.id), str(invited.id)} <= seen
    assert str(draft.id) not in seen
    assert str(invited.id) not in seen_by_rival
    assert str(public.id) in seen_by_rival
    assert _raw_ids("marketplace_rfq", shipper.org.id) >= {str(public.id), str(draft.id), str(invited.id)}


def test_a_closed_rfq_is_not_listed_to_carriers_and_acting_on_it_says_it_is_closed(api, shipper, rival, open_rfq):
    api(shipper.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/cancel", {"reason": "Off"}, format="json")

    detail = api(rival.staff).get(f"/api/v1/rfqs/{open_rfq['id']}")
    listed = api(rival.staff).get("/api/v1/rfqs").json()
    offer = api(rival.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json")

    assert detail.status_code == 404
    assert listed["meta"]["total"] == 0
    assert offer.status_code == 422
    assert offer.json()["error_code"] == "RFQ_ALREADY_CLOSED"


def test_postgresql_lets_no_tenant_change_a_published_rfq_or_offering_it_does_not_own(shipper, carrier):
    rfq = RfqFactory(organization=shipper.org)
    offering = OfferingFactory(organization=shipper.org)

    with tenant_scope(carrier.org.id), connection.cursor() as cursor:
        cursor.execute("UPDATE marketplace_rfq SET title = 'hijacked' WHERE id = %s", [rfq.id])
        rfq_rows = cursor.rowcount
        cursor.execute("UPDATE marketplace_serviceoffering SET base_price = 0 WHERE id = %s", [offering.id])
        offering_rows = cursor.rowcount

    assert (rfq_rows, offering_rows) == (0, 0)


def test_postgresql_shows_tariffs_of_published_offerings_only(shipper, carrier):
    live = TariffFactory(offering=OfferingFactory(organization=carrier.org))
    withdrawn = TariffFactory(offering=OfferingFactory(organization=carrier.org, is_active=False))
    switched_off = TariffFactory(offering=OfferingFactory(organization=carrier.org), is_active=False)

    seen = _raw_ids("marketplace_tariff", shipper.org.id)

    assert seen == {str(live.id)}
    assert _raw_ids("marketplace_tariff", carrier.org.id) == {str(live.id), str(withdrawn.id), str(switched_off.id)}
