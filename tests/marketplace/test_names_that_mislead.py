"""Names other tenants read must show what they are (issue 13, item 8): no bidi controls in
organization, people's or offering names, and an offering cannot carry another
organization's name; the quote shows the carrier organization apart from the offering."""

from __future__ import annotations

import json

import pytest

from tests.factories import OrganizationFactory, member
from tests.marketplace.test_catalog_api import OFFERINGS, offering_body, offering_url

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE


def _register(client, **fields):
    body = {"email": "new.person@example.test", "password": "a-long-enough-passphrase-42", **fields}
    return client.post("/api/v1/auth/register", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("field", ["first_name", "last_name", "organization_name"])
def test_sign_up_refuses_a_bidi_override_in_a_name(client, field):
    response = _register(client, **{field: f"Volga{RLO}sreirraC"})

    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(response.json()["details"]) == [field]


def test_sign_up_keeps_a_zero_width_non_joiner_which_persian_names_need(client):
    response = _register(client, first_name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")

    assert response.status_code == 202, response.content


@pytest.mark.parametrize("field", ["name", "legal_name"])
def test_an_organization_name_with_a_bidi_isolate_is_refused(api, field):
    organization = OrganizationFactory(name="Unchanged")
    client = api(member(organization))

    response = client.patch(f"/api/v1/organizations/{organization.id}", {field: f"Acme{LRI}"}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == [field]
    assert client.get(f"/api/v1/organizations/{organization.id}").json()["name"] == "Unchanged"


def test_an_offering_name_with_a_bidi_override_is_refused(api, carrier):
    response = api(carrier.staff).post(OFFERINGS, offering_body(name=f"FTL {RLO}gnirruoC"), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == ["name"]


# U+FF32 is a full-width R: NFKC makes it an R.
@pytest.mark.parametrize("name", ["Rhein Logistik", "  rhein   LOGISTIK ", "\uff32hein Logistik"])
def test_an_offering_cannot_be_named_like_another_organization(api, carrier, rival, name):
    response = api(carrier.staff).post(OFFERINGS, offering_body(name=name), format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(body["details"]) == ["name"]


def test_renaming_an_offering_to_another_organizations_name_is_refused(api, carrier, rival):
    created = api(carrier.staff).post(OFFERINGS, offering_body(), format="json").json()

    response = api(carrier.staff).patch(offering_url(created["id"]), {"name": "RHEIN LOGISTIK"}, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == ["name"]


def test_an_offering_may_carry_its_own_organizations_name(api, carrier):
    response = api(carrier.staff).post(OFFERINGS, offering_body(name="Volga Carriers"), format="json")

    assert response.status_code == 201, response.content


def test_a_quote_shows_the_carrier_organization_apart_from_the_offering_name(api, carrier, shipper):
    api(carrier.staff).post(OFFERINGS, offering_body(name="Express FTL"), format="json")
    quote_body = {
        "origin": {"country": "DE", "city": "Hamburg"},
        "destination": {"country": "PL", "city": "Warsaw"},
        "weight_kg": "1200",
        "volume_cbm": "8",
        "cargo_type": "palletized",
    }

    response = api(shipper.staff).post("/api/v1/pricing/quote", quote_body, format="json")

    assert response.status_code == 200, response.content
    [quote] = response.json()["data"]
    assert quote["offering"]["name"] == "Express FTL"
    assert quote["offering"]["organization"] == {"id": str(carrier.org.id), "name": "Volga Carriers"}
