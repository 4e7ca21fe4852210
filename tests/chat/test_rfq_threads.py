"""Threads about an RFQ: one per carrier that offered, and contact details masked until the two
organizations have a deal (the original kept for staff; the sender told)."""

from __future__ import annotations

import pytest

from apps.chat.models import Message
from apps.core.context import system_scope
from apps.tenancy.roles import Role
from tests.chat.factories import Side, order_between
from tests.marketplace.conftest import _party, offer_body, rfq_body

pytestmark = pytest.mark.django_db

CONTACTS = "Call me on +7 916 123-45-67 or write to ivan at mail dot ru"


@pytest.fixture
def market(api):
    shipper, carrier, rival = (
        _party("Baltic Shippers", Role.SHIPPER),
        _party("Volga Carriers", Role.CARRIER),
        _party("Rhein Logistik", Role.CARRIER),
    )
    client = api(shipper.staff)
    rfq = client.post("/api/v1/rfqs", rfq_body(), format="json").json()
    assert client.post(f"/api/v1/rfqs/{rfq['id']}/publish").status_code == 200
    offered = api(carrier.staff).post(f"/api/v1/rfqs/{rfq['id']}/offers", offer_body(), format="json")
    assert offered.status_code == 201, offered.json()
    return {"shipper": shipper, "carrier": carrier, "rival": rival, "rfq": rfq}


def open_rfq_thread(api, user, rfq_id, counterparty_id=None):
    body = {"subject_type": "rfq", "subject_id": rfq_id}
    if counterparty_id is not None:
        body["counterparty_id"] = str(counterparty_id)
    return api(user).post("/api/v1/chat/threads", body, format="json")


def test_the_carrier_that_offered_and_the_shipper_share_one_thread(api, market):
    carrier, shipper = market["carrier"], market["shipper"]

    by_carrier = open_rfq_thread(api, carrier.staff, market["rfq"]["id"])
    by_shipper = open_rfq_thread(api, shipper.staff, market["rfq"]["id"], counterparty_id=carrier.org.id)

    assert by_carrier.status_code == 201, by_carrier.json()
    assert by_shipper.status_code == 200 and by_shipper.json()["id"] == by_carrier.json()["id"]
    assert by_carrier.json()["title"] == f"Offer on {market['rfq']['number']}"
    assert {p["name"] for p in by_carrier.json()["parties"]} == {"Baltic Shippers", "Volga Carriers"}


def test_a_carrier_that_has_not_offered_has_no_thread_to_open(api, market):
    rival = market["rival"]

    response = open_rfq_thread(api, rival.staff, market["rfq"]["id"])
    named = open_rfq_thread(api, market["shipper"].staff, market["rfq"]["id"], counterparty_id=rival.org.id)

    assert response.status_code == 404
    assert named.status_code == 404


def test_contact_details_are_masked_before_a_deal_and_kept_for_staff(api, market):
    carrier, shipper = market["carrier"], market["shipper"]
    thread = open_rfq_thread(api, carrier.staff, market["rfq"]["id"]).json()

    sent = api(carrier.staff).post(f"/api/v1/chat/threads/{thread['id']}/messages", {"text": CONTACTS}, format="json")

    assert sent.status_code == 201, sent.json()
    assert sent.json()["moderation"]["contacts_masked"] is True
    assert "Contact details are hidden" in sent.json()["notice"]
    seen = api(shipper.staff).get(f"/api/v1/chat/threads/{thread['id']}/messages").json()["data"][0]
    assert "916" not in seen["text"] and "mail" not in seen["text"]
    assert "[contact hidden]" in seen["text"]
    with system_scope(reason="test: staff read"):
        assert Message.objects.get(pk=seen["id"]).original_body == CONTACTS


def test_once_the_two_have_a_deal_contact_details_pass(api, market):
    carrier, shipper = market["carrier"], market["shipper"]
    thread = open_rfq_thread(api, carrier.staff, market["rfq"]["id"]).json()
    order_between(Side(shipper.org, shipper.staff, Role.SHIPPER), Side(carrier.org, carrier.staff, Role.CARRIER))

    sent = api(carrier.staff).post(f"/api/v1/chat/threads/{thread['id']}/messages", {"text": CONTACTS}, format="json")

    assert sent.json()["text"] == CONTACTS
    assert sent.json()["moderation"]["contacts_masked"] is False and sent.json()["notice"] == ""


def test_masking_can_be_switched_off_for_the_platform(api, market, settings):
    settings.CHAT = {**settings.CHAT, "MASK_CONTACTS_BEFORE_DEAL": False}
    thread = open_rfq_thread(api, market["carrier"].staff, market["rfq"]["id"]).json()

    sent = api(market["carrier"].staff).post(
        f"/api/v1/chat/threads/{thread['id']}/messages", {"text": CONTACTS}, format="json"
    )

    assert sent.json()["text"] == CONTACTS


def test_profanity_is_masked_even_between_partners(api, shipper, carrier, thread):
    sent = api(carrier.user).post(
        f"/api/v1/chat/threads/{thread.id}/messages", {"text": "This is fucking late"}, format="json"
    )

    assert sent.status_code == 201
    assert "fucking" not in sent.json()["text"] and sent.json()["text"].startswith("This is f")
    assert sent.json()["moderation"] == {"contacts_masked": False, "profanity_masked": True}
