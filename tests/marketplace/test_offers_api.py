"""Offers through the API: submitting (KYC, one live offer, terms), revising, withdrawing,
rejecting and the award that becomes a freight order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.marketplace.models import Offer, Rfq
from apps.orders.models import Order
from tests.marketplace.conftest import offer_body
from tests.marketplace.factories import OfferingFactory, TariffFactory

pytestmark = pytest.mark.django_db


def _submit(api, party, rfq_id, **overrides):
    return api(party.staff).post(f"/api/v1/rfqs/{rfq_id}/offers", offer_body(**overrides), format="json")


def _offer_count() -> int:
    with system_scope(reason="test: count", audit=False):
        return Offer.objects.count()


def test_a_verified_carrier_submits_an_offer_with_its_first_version(api, carrier, open_rfq):
    response = _submit(api, carrier, open_rfq["id"])

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["version"] == 1
    assert body["rfq"] == {"id": open_rfq["id"], "number": open_rfq["number"]}
    assert body["carrier_organization"]["name"] == "Volga Carriers"
    assert [revision["price"] for revision in body["revisions"]] == ["1850.00"]


def test_an_unverified_carrier_is_refused_with_kyc_not_verified(api, unverified_carrier, open_rfq):
    response = _submit(api, unverified_carrier, open_rfq["id"])

    assert response.status_code == 422
    assert response.json()["error_code"] == "KYC_NOT_VERIFIED"
    assert _offer_count() == 0


def test_a_second_live_offer_from_the_same_carrier_is_refused(api, carrier, open_rfq):
    _submit(api, carrier, open_rfq["id"])

    response = _submit(api, carrier, open_rfq["id"], price="1500")

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert _offer_count() == 1


def test_after_withdrawing_a_carrier_may_offer_again(api, carrier, open_rfq):
    first = _submit(api, carrier, open_rfq["id"]).json()

    withdrawn = api(carrier.staff).post(f"/api/v1/offers/{first['id']}/withdraw", {"reason": "Typo"}, format="json")
    again = _submit(api, carrier, open_rfq["id"], price="1700")

    assert withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 201
    assert _offer_count() == 2


def test_a_shipper_cannot_offer_on_its_own_rfq(api, shipper, open_rfq):
    response = api(shipper.admin).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json")

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-10"}, "price"),
        ({"price": "0"}, "price"),
        ({"currency": "EUX"}, "currency"),
        ({"currency": "USD"}, "currency"),  # the RFQ asks for EUR
        ({"transit_days": -1}, "transit_days"),
        ({"valid_until": "2020-01-01T00:00:00Z"}, "valid_until"),
    ],
)
def test_bad_offer_terms_answer_400_naming_the_field(api, carrier, open_rfq, overrides, field):
    response = _submit(api, carrier, open_rfq["id"], **overrides)

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert _offer_count() == 0


def test_an_offer_without_a_price_or_offering_names_the_missing_terms(api, carrier, open_rfq):
    response = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert set(response.json()["details"]) == {"price", "currency", "transit_days"}


def test_an_offer_made_from_an_offering_is_priced_by_its_quote(api, carrier, open_rfq):
    offering = OfferingFactory(
        organization=carrier.org, pricing_model="per_kg", base_price=Decimal("1.5"), transit_days=4
    )
    TariffFactory(offering=offering, tariff_type="base", unit="pallet", price_per_unit=Decimal("20"))

    response = api(carrier.staff).post(
        f"/api/v1/rfqs/{open_rfq['id']}/offers", {"service_offering": str(offering.id)}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    # 1,200 kg x 1.50 = 1,800.00; 4 pallets x 20.00 = 80.00
    assert body["price"] == "1880.00"
    assert body["transit_days"] == 4
    assert body["valid_until"] == open_rfq["deadline"]
    assert [line["amount"] for line in body["price_breakdown"]["lines"]] == ["1800.00", "80.00"]


def test_an_offering_that_cannot_carry_the_cargo_is_400_with_the_reasons(api, carrier, open_rfq):
    offering = OfferingFactory(organization=carrier.org, max_weight_kg=Decimal("500"))

    response = api(carrier.staff).post(
        f"/api/v1/rfqs/{open_rfq['id']}/offers", {"service_offering": str(offering.id)}, format="json"
    )

    assert response.status_code == 400
    assert "service_offering" in response.json()["details"]
    assert _offer_count() == 0


def test_someone_elses_offering_cannot_price_an_offer(api, carrier, rival, open_rfq):
    offering = OfferingFactory(organization=rival.org)

    response = api(carrier.staff).post(
        f"/api/v1/rfqs/{open_rfq['id']}/offers", {"service_offering": str(offering.id)}, format="json"
    )

    assert response.status_code == 400
    assert "service_offering" in response.json()["details"]


def test_a_revision_makes_a_new_version_and_keeps_the_earlier_ones(api, shipper, carrier, open_rfq):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]

    response = api(carrier.staff).patch(
        f"/api/v1/offers/{offer_id}", {"price": "1790.00", "conditions": "Two drivers."}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 2
    assert body["price"] == "1790.00"
    assert [(revision["version"], revision["price"]) for revision in body["revisions"]] == [
        (1, "1850.00"),
        (2, "1790.00"),
    ]
    seen_by_shipper = api(shipper.staff).get(f"/api/v1/offers/{offer_id}").json()
    assert len(seen_by_shipper["revisions"]) == 2
    with tenant_scope(carrier.org.id):
        assert OutboxEvent.objects.filter(aggregate_id=offer_id, event_type="offer.revised").count() == 1


def test_a_withdrawn_offer_cannot_be_revised(api, carrier, open_rfq):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]
    api(carrier.staff).post(f"/api/v1/offers/{offer_id}/withdraw", {}, format="json")

    response = api(carrier.staff).patch(f"/api/v1/offers/{offer_id}", {"price": "1"}, format="json")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_the_shipper_rejects_an_offer_and_the_carrier_is_told(api, shipper, carrier, open_rfq):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]

    response = api(shipper.staff).post(f"/api/v1/offers/{offer_id}/reject", {"reason": "Too dear"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    with tenant_scope(shipper.org.id):
        event = OutboxEvent.objects.get(aggregate_id=offer_id, event_type="offer.rejected")
    assert event.payload["reason"] == "Too dear"
    assert str(carrier.org.id) in event.payload["party_organization_ids"]


def test_a_carrier_cannot_accept_or_reject_offers(api, carrier, open_rfq):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]

    accept = api(carrier.staff).post(f"/api/v1/offers/{offer_id}/accept")
    reject = api(carrier.admin).post(f"/api/v1/offers/{offer_id}/reject", {}, format="json")

    assert accept.status_code == 403  # the carrier role holds no offer:accept
    assert reject.status_code == 404  # the carrier's admin may, but it is not its RFQ
    assert api(carrier.staff).get(f"/api/v1/offers/{offer_id}").json()["status"] == "submitted"


def test_the_award_accepts_one_rejects_the_others_and_makes_one_freight_order(api, shipper, carrier, rival, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    loser = _submit(api, rival, open_rfq["id"], price="1990").json()["id"]

    response = api(shipper.staff).post(f"/api/v1/offers/{winner}/accept")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["offer"]["status"] == "accepted"
    assert body["rfq"]["status"] == "awarded"
    assert body["rfq"]["awarded_offer"] == winner
    assert body["rejected_offers"] == [loser]
    assert api(rival.staff).get(f"/api/v1/offers/{loser}").json()["status"] == "rejected"
    with system_scope(reason="test: the orders", audit=False):
        orders = list(Order.objects.all())
    assert len(orders) == 1
    order = orders[0]
    assert str(order.id) == body["order"] == body["rfq"]["order"]
    assert order.kind == "freight"
    assert order.status == "pending"
    assert (order.client_organization_id, order.supplier_organization_id) == (shipper.org.id, carrier.org.id)
    assert order.total_amount == Decimal("1850.00")
    assert order.currency == "EUR"
    assert order.metadata["offer_id"] == winner
    assert order.metadata["rfq_number"] == open_rfq["number"]


def test_the_award_publishes_accepted_rejected_and_closed_events(api, shipper, carrier, rival, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    loser = _submit(api, rival, open_rfq["id"], price="1990").json()["id"]

    api(shipper.staff).post(f"/api/v1/offers/{winner}/accept")

    with tenant_scope(shipper.org.id):
        events = {
            (event.event_type, event.aggregate_id)
            for event in OutboxEvent.objects.filter(event_type__in=["offer.accepted", "offer.rejected", "rfq.closed"])
        }
    assert events == {("offer.accepted", winner), ("offer.rejected", loser), ("rfq.closed", open_rfq["id"])}


def test_both_parties_see_the_order_the_award_made(api, shipper, carrier, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    order_id = api(shipper.staff).post(f"/api/v1/offers/{winner}/accept").json()["order"]

    as_carrier = api(carrier.staff).get(f"/api/v1/orders/{order_id}")
    as_shipper = api(shipper.staff).get(f"/api/v1/orders/{order_id}")

    assert as_carrier.status_code == as_shipper.status_code == 200
    assert as_carrier.json()["items"][0]["name"] == f"Freight {open_rfq['number']}: Hamburg → Warsaw"


def test_a_second_accept_on_an_awarded_rfq_is_rfq_already_closed(api, shipper, carrier, rival, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    other = _submit(api, rival, open_rfq["id"]).json()["id"]
    api(shipper.staff).post(f"/api/v1/offers/{winner}/accept")

    response = api(shipper.staff).post(f"/api/v1/offers/{other}/accept")

    assert response.status_code == 422
    assert response.json()["error_code"] == "RFQ_ALREADY_CLOSED"
    with system_scope(reason="test: the orders", audit=False):
        assert Order.objects.count() == 1


def test_offering_on_an_awarded_rfq_is_rfq_already_closed_for_the_winner(api, shipper, carrier, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    api(shipper.staff).post(f"/api/v1/offers/{winner}/accept")

    response = _submit(api, carrier, open_rfq["id"])

    assert response.status_code == 422
    assert response.json()["error_code"] == "RFQ_ALREADY_CLOSED"


def test_an_accept_replayed_with_its_idempotency_key_answers_the_first_response(api, shipper, carrier, open_rfq):
    winner = _submit(api, carrier, open_rfq["id"]).json()["id"]
    client = api(shipper.staff)

    first = client.post(f"/api/v1/offers/{winner}/accept", HTTP_IDEMPOTENCY_KEY="award-1")
    replay = client.post(f"/api/v1/offers/{winner}/accept", HTTP_IDEMPOTENCY_KEY="award-1")

    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    with system_scope(reason="test: the orders", audit=False):
        assert Order.objects.count() == 1


def test_an_expired_offer_cannot_be_accepted(api, shipper, carrier, open_rfq):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]
    with system_scope(reason="test: the validity ends", audit=False):
        Offer.objects.filter(pk=offer_id).update(valid_until=timezone.now() - timedelta(minutes=1))

    response = api(shipper.staff).post(f"/api/v1/offers/{offer_id}/accept")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    with system_scope(reason="test: nothing changed", audit=False):
        assert Rfq.objects.get(pk=open_rfq["id"]).status == "open"


def test_an_rfq_past_its_deadline_takes_no_offer_even_before_the_expiry_job(api, carrier, open_rfq):
    with system_scope(reason="test: the deadline passes", audit=False):
        Rfq.objects.filter(pk=open_rfq["id"]).update(deadline=timezone.now() - timedelta(minutes=1))

    response = _submit(api, carrier, open_rfq["id"])

    assert response.status_code == 422
    assert response.json()["error_code"] == "RFQ_ALREADY_CLOSED"


def test_an_unverified_shipper_cannot_award(api, carrier, open_rfq, shipper):
    offer_id = _submit(api, carrier, open_rfq["id"]).json()["id"]
    with system_scope(reason="test: the verification lapses", audit=False):
        shipper.org.kyc_verification.delete()

    response = api(shipper.staff).post(f"/api/v1/offers/{offer_id}/accept")

    assert response.status_code == 422
    assert response.json()["error_code"] == "KYC_NOT_VERIFIED"
    assert api(carrier.staff).get(f"/api/v1/offers/{offer_id}").json()["status"] == "submitted"
