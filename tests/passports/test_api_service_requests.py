"""Service requests of members through the API: a customer asks for service on a device kept for
them, the owner's people read and move the requests, a customer reads only their own, bad input
and the roles that may not, and constant list queries."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.passports.models import PassportServiceRequest
from tests.passports.api_support import URL, query_count
from tests.passports.conftest import register

pytestmark = pytest.mark.django_db

REQUESTS = f"{URL}/service-requests"


@pytest.fixture
def kept(operator, customer, manufacturer):
    """A device the manufacturer keeps for its customer."""
    return register(operator, manufacturer, serial_number="KEPT-1", customer_id=customer.id)


def _ask(client, passport, **fields):
    return client.post(
        f"{URL}/{passport.id}/service-requests", {"description": "It hums loudly.", **fields}, format="json"
    )


def _requests(organization) -> int:
    with tenant_scope(organization.id):
        return PassportServiceRequest.objects.count()


def test_a_customer_asks_for_service_and_the_owner_acknowledges_then_closes_it(api, customer, operator, kept):
    asked = _ask(api(customer), kept, contact_phone="+49 40 123456")

    assert asked.status_code == 201, asked.json()
    request = asked.json()
    assert request["number"].startswith("SRQ-")
    assert (request["status"], request["source"], request["passport_id"], request["requested_by_id"]) == (
        "open",
        "member",
        str(kept.id),
        str(customer.id),
    )
    assert [row["id"] for row in api(operator).get(REQUESTS).json()["data"]] == [request["id"]]

    acknowledged = api(operator).patch(f"{REQUESTS}/{request['id']}/status", {"status": "acknowledged"}, format="json")
    closed = api(operator).patch(
        f"{REQUESTS}/{request['id']}/status", {"status": "closed", "reason": "Bearing replaced."}, format="json"
    )

    assert (acknowledged.status_code, acknowledged.json()["status"]) == (200, "acknowledged")
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert api(customer).get(f"{REQUESTS}/{request['id']}").json()["status"] == "closed"


def test_a_closed_request_moves_no_more(api, customer, operator, kept):
    request = _ask(api(customer), kept).json()
    api(operator).patch(f"{REQUESTS}/{request['id']}/status", {"status": "closed"}, format="json")

    response = api(operator).patch(f"{REQUESTS}/{request['id']}/status", {"status": "acknowledged"}, format="json")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert api(operator).get(f"{REQUESTS}/{request['id']}").json()["status"] == "closed"


def test_a_customer_cannot_ask_about_a_device_not_kept_for_them(api, customer, passport, manufacturer):
    response = _ask(api(customer), passport)

    assert response.status_code == 404
    assert _requests(manufacturer) == 0


def test_a_customer_reads_only_their_own_requests(api, customer, operator, kept, manufacturer):
    own = _ask(api(customer), kept).json()
    operators = _ask(api(operator), kept, description="Annual check due.").json()

    listed = api(customer).get(REQUESTS).json()["data"]

    assert [row["id"] for row in listed] == [own["id"]]
    assert api(customer).get(f"{REQUESTS}/{operators['id']}").status_code == 404
    assert {row["id"] for row in api(operator).get(REQUESTS).json()["data"]} == {own["id"], operators["id"]}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": 12}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"description": "Hums", "contact_email": "not-an-address"}, "contact_email"),
        ({"description": "Hums", "contact_phone": "call me"}, "contact_phone"),
    ],
)
def test_an_invalid_request_is_a_400_and_nothing_is_created(api, customer, kept, manufacturer, payload, field):
    response = api(customer).post(f"{URL}/{kept.id}/service-requests", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert _requests(manufacturer) == 0


@pytest.mark.parametrize("payload", [{"status": "open"}, {"status": "fixed"}, {}])
def test_an_invalid_status_is_a_400_and_changes_nothing(api, customer, operator, kept, payload):
    request = _ask(api(customer), kept).json()

    response = api(operator).patch(f"{REQUESTS}/{request['id']}/status", payload, format="json")

    assert response.status_code == 400
    assert api(operator).get(f"{REQUESTS}/{request['id']}").json()["status"] == "open"


def test_a_customer_cannot_move_a_request(api, customer, kept):
    request = _ask(api(customer), kept).json()

    response = api(customer).patch(f"{REQUESTS}/{request['id']}/status", {"status": "closed"}, format="json")

    assert response.status_code == 403 and response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


@pytest.mark.parametrize("role", sorted(["qc_inspector", "engineer"]))
def test_roles_without_service_request_permissions_are_refused(api, request, customer, kept, manufacturer, role):
    asked = _ask(api(customer), kept).json()
    client = api(request.getfixturevalue(role))

    assert client.get(REQUESTS).status_code == 403
    assert client.get(f"{REQUESTS}/{asked['id']}").status_code == 403
    assert _ask(client, kept).status_code == 403
    assert _requests(manufacturer) == 1


def test_the_requests_list_runs_the_same_queries_for_3_or_15_requests(api, customer, operator, kept):
    asking = api(customer)
    for _ in range(3):
        _ask(asking, kept)
    client = api(operator)
    client.get(REQUESTS)  # warms the per-organization feature cache
    few, body = query_count(client, f"{REQUESTS}?limit=50")
    assert len(body["data"]) == 3
    for _ in range(12):
        _ask(asking, kept)

    many, body = query_count(client, f"{REQUESTS}?limit=50")

    assert len(body["data"]) == 15
    assert many == few
