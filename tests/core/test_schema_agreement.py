"""Schema and behaviour agree: each disagreement a schemathesis run found (issue 13, item 10)
pinned by a request a client could send, and by what the schema says about it."""

import re
from datetime import time

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, OrganizationFactory, member
from tests.marketplace.factories import OfferingFactory, RfqFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _component(schema, name: str) -> dict:
    return schema["components"]["schemas"][name]


def _parameter(schema, path: str, method: str, name: str) -> dict:
    [parameter] = [p for p in schema["paths"][path][method].get("parameters", []) if p["name"] == name]
    return parameter


def _matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


@pytest.fixture
def admin():
    organization = OrganizationFactory()
    for name in ("escrow", "assisted_purchase"):
        FeatureFactory(organization=organization, name=name)
    return member(organization, Role.ORG_ADMIN)


# --- answers outside the schema -------------------------------------------------------------


def test_an_rfq_seen_by_another_organization_has_its_invitations_as_null_as_documented(api, schema):
    rfq = RfqFactory(service_type="")
    carrier = member(OrganizationFactory(), Role.CARRIER)

    body = api(carrier).get(f"/api/v1/rfqs/{rfq.id}").json()

    output = _component(schema, "RfqOutput")
    assert "invited_organization_ids" in output["required"]
    assert output["properties"]["invited_organization_ids"]["nullable"] is True
    assert body["invited_organization_ids"] is None


def test_an_rfq_without_a_service_type_answers_a_value_its_schema_allows(api, schema):
    rfq = RfqFactory(service_type="")

    body = api(member(rfq.organization, Role.SHIPPER)).get(f"/api/v1/rfqs/{rfq.id}").json()

    assert body["service_type"] == ""
    allowed = _component(schema, "RfqOutput")["properties"]["service_type"]["oneOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in allowed


def test_a_time_of_day_is_answered_as_its_schema_says(api, schema):
    # Found by `make fuzz`: "10:01:20" is not JSON Schema's `time` format, which wants an offset.
    offering = OfferingFactory(available_from=time(8, 30))

    body = api(member(offering.organization, Role.CARRIER)).get(f"/api/v1/catalog/offerings/{offering.id}").json()

    documented = _component(schema, "OfferingOutput")["properties"]["available_from"]
    assert "format" not in documented
    assert body["available_from"] == "08:30:00"
    assert _matches(documented["pattern"], body["available_from"])


# --- invalid requests that were accepted ------------------------------------------------------


@pytest.mark.parametrize("limit", ["null", "", "0", "-1", "101", "1.5", "ten"])
def test_a_limit_outside_the_documented_range_is_refused(api, admin, schema, limit):
    response = api(admin).get("/api/v1/rfqs", {"limit": limit})

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["limit"]
    documented = _parameter(schema, "/api/v1/rfqs", "get", "limit")["schema"]
    assert (documented["minimum"], documented["maximum"]) == (1, 100)


def test_the_largest_documented_limit_is_served(api, admin):
    response = api(admin).get("/api/v1/rfqs", {"limit": "100"})

    assert response.status_code == 200
    assert response.json()["meta"]["limit"] == 100


def test_an_unknown_kyc_document_status_is_refused(api, admin):
    response = api(admin).get("/api/v1/kyc/documents", {"status": "AAA"})

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["status"]


def test_an_empty_order_id_filter_on_documents_is_refused(api, admin):
    response = api(admin).get("/api/v1/documents", {"order_id": ""})

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["order_id"]


def test_an_empty_currency_on_the_statement_is_refused(api, admin):
    response = api(admin).get("/api/v1/payments/statement", {"currency": ""})

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["currency"]


def test_an_empty_filter_of_a_filterset_is_refused(api, admin):
    response = api(admin).get("/api/v1/rfqs", {"status": ""})

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["status"]


def test_a_number_for_a_text_field_is_refused(api, admin):
    response = api(admin).post("/api/v1/documents/templates", {"document_type": "cmr", "footer_text": 0}, format="json")

    assert response.status_code == 400, response.json()
    assert list(response.json()["details"]) == ["footer_text"]


# --- valid requests that were refused ---------------------------------------------------------


def test_a_decimal_field_documents_at_least_one_digit(schema):
    weight = _component(schema, "PlaceRequest")["properties"]["latitude"]["oneOf"][0]

    assert weight["type"] == "string"
    assert not _matches(weight["pattern"], "")
    assert not _matches(weight["pattern"], "-")
    assert _matches(weight["pattern"], "-53.551100")


def test_a_currency_field_documents_the_codes_in_use_and_refuses_others(api, admin, schema):
    currency = _component(schema, "CurrencyEnum")["enum"]

    response = api(admin).get("/api/v1/payments/statement", {"currency": "000"})

    assert {"EUR", "JPY", "KWD"} <= set(currency)
    assert "000" not in currency
    assert response.status_code == 400


def test_the_idempotency_key_is_documented_with_the_length_that_is_enforced(api, admin, schema):
    documented = _parameter(schema, "/api/v1/payments/escrow/create", "post", "Idempotency-Key")["schema"]

    too_long = api(admin).post(
        "/api/v1/payments/escrow/create",
        {"order_id": "00000000-0000-0000-0000-000000000000"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
    )

    assert (documented["minLength"], documented["maxLength"]) == (1, 255)
    assert too_long.status_code == 400
    assert list(too_long.json()["details"]) == ["Idempotency-Key"]
