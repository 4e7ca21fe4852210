"""Publishing an RFQ or a service offering, and making an offer, reach every tenant: an
account whose e-mail address is not confirmed gets 403 EMAIL_NOT_VERIFIED, and nothing is
published."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope
from apps.marketplace.models import Rfq, ServiceOffering
from apps.tenancy.roles import Role
from tests.factories import member
from tests.marketplace.conftest import offer_body, rfq_body
from tests.marketplace.test_catalog_api import offering_body

pytestmark = pytest.mark.django_db


def unconfirmed(organization, role):
    return member(organization, role, user__email_verified_at=None)


def refused_for_email(response) -> bool:
    return (response.status_code, response.json()["error_code"]) == (403, "EMAIL_NOT_VERIFIED")


def test_an_unconfirmed_account_cannot_publish_an_rfq(api, shipper):
    # given a draft RFQ of a shipper whose address is not confirmed
    client = api(unconfirmed(shipper.org, Role.SHIPPER))
    draft = client.post("/api/v1/rfqs", rfq_body(), format="json")
    assert draft.status_code == 201, draft.json()
    # when they publish it
    response = client.post(f"/api/v1/rfqs/{draft.json()['id']}/publish")
    # then it is refused and stays a draft
    assert refused_for_email(response)
    assert response.json()["details"] == {"action": "rfq.publish"}
    with system_scope(reason="test", audit=False):
        assert Rfq.objects.get(pk=draft.json()["id"]).status == "draft"


def test_a_confirmed_account_publishes_the_same_rfq(api, shipper):
    client = api(shipper.staff)
    draft = client.post("/api/v1/rfqs", rfq_body(), format="json").json()
    assert client.post(f"/api/v1/rfqs/{draft['id']}/publish").status_code == 200


def test_an_unconfirmed_account_cannot_make_an_offer(api, carrier, open_rfq):
    response = api(unconfirmed(carrier.org, Role.CARRIER)).post(
        f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json"
    )
    assert refused_for_email(response)
    assert api(carrier.staff).get(f"/api/v1/rfqs/{open_rfq['id']}/offers").json()["meta"]["total"] == 0


def test_an_unconfirmed_account_cannot_publish_an_offering(api, carrier):
    response = api(unconfirmed(carrier.org, Role.CARRIER)).post(
        "/api/v1/catalog/offerings", offering_body(), format="json"
    )
    assert refused_for_email(response)
    with system_scope(reason="test", audit=False):
        assert not ServiceOffering.objects.filter(organization_id=carrier.org.id).exists()


def test_an_unconfirmed_account_may_keep_an_offering_unpublished_but_not_publish_it(api, carrier):
    # given an offering an unconfirmed carrier created inactive (seen by no one else)
    client = api(unconfirmed(carrier.org, Role.CARRIER))
    created = client.post("/api/v1/catalog/offerings", offering_body(is_active=False), format="json")
    assert created.status_code == 201, created.json()
    # when they switch it on
    response = client.patch(f"/api/v1/catalog/offerings/{created.json()['id']}", {"is_active": True}, format="json")
    # then it is refused and stays out of the catalogue
    assert refused_for_email(response)
    with system_scope(reason="test", audit=False):
        assert ServiceOffering.objects.get(pk=created.json()["id"]).is_active is False
