"""Cross-tenant isolation of field service through the API (DESIGN.md §3, §9): a service order
is read and moved only by its two parties (the customer organization, and the expert's while
an expert holds it); another customer organization and a third organization get 404 on every
endpoint and verb, as the expert's organization does before it holds the order and after it
gives it back. An expert's passport is kept only by its own organization."""

from __future__ import annotations

import pytest

from apps.service import services
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.service.api_support import EXPERTS, ORDERS, match, png, stored_order, upload
from tests.service.conftest import as_member, create_order, register_expert, with_field_service

pytestmark = pytest.mark.django_db

DONE = {"work_done": "Done", "signed_off_by_name": "I. Petrova"}


def _order_calls(client, order_id, expert_id) -> dict[str, object]:
    """Every service-order endpoint with an order in its path, each verb it takes (valid bodies,
    so that nothing but the order's visibility can refuse them)."""
    base = f"{ORDERS}/{order_id}"
    return {
        "GET detail": lambda: client.get(base),
        "PATCH detail": lambda: client.patch(base, {"title": "Mine now"}, format="json"),
        "POST assign": lambda: client.post(f"{base}/assign", {"expert_id": str(expert_id)}, format="json"),
        "POST accept": lambda: client.post(f"{base}/accept", {}, format="json"),
        "POST decline": lambda: client.post(f"{base}/decline", {"reason": "No"}, format="json"),
        "POST start": lambda: client.post(f"{base}/start", {}, format="json"),
        "POST complete": lambda: client.post(f"{base}/complete", DONE, format="json"),
        "POST cancel": lambda: client.post(f"{base}/cancel", {"reason": "Mine"}, format="json"),
        "GET matches": lambda: client.get(f"{base}/matches"),
    }


def _expert_calls(client, expert_id, match_id, certification_id) -> dict[str, object]:
    """Every endpoint that keeps an expert's passport, each verb it takes."""
    base = f"{EXPERTS}/{expert_id}"
    return {
        "PATCH detail": lambda: client.patch(base, {"headline": "Mine"}, format="json"),
        "PATCH work-status": lambda: client.patch(f"{base}/work-status", {"work_status": "OFF_DUTY"}, format="json"),
        "GET matches": lambda: client.get(f"{base}/matches"),
        "PATCH match": lambda: client.patch(f"{base}/matches/{match_id}", {"status": "VIEWED"}, format="json"),
        "GET service-records": lambda: client.get(f"{base}/service-records"),
        "POST certifications": lambda: client.post(f"{base}/certifications", {"name": "X"}, format="multipart"),
        "DELETE certification": lambda: client.delete(f"{base}/certifications/{certification_id}"),
    }


def _statuses(calls) -> dict[str, int]:
    return {name: call().status_code for name, call in calls.items()}


@pytest.fixture
def other_customer():
    """Another customer organization (field service on) and its admin, who may do anything."""
    return member(with_field_service(OrganizationFactory(name="Kama Works")), role=Role.ORG_ADMIN)


@pytest.fixture
def third():
    return member(with_field_service(OrganizationFactory(name="Outsider Service")), role=Role.ORG_ADMIN)


@pytest.fixture
def orders(api, dispatcher, customer_organization, expert, expert_organization, second_expert_user):
    """Two orders of the customer: one PENDING with a photo and a live offer to a second expert,
    one ASSIGNED to the first expert."""
    pending = api(dispatcher).post(
        ORDERS,
        {"title": "Pump leaks", "required_skill": "EL-MOT", "photos": [upload("leak.png", png(), "image/png")]},
        format="multipart",
    )
    assert pending.status_code == 201, pending.json()
    rival = register_expert(second_expert_user, expert_organization)
    match(stored_order(customer_organization, pending.json()["id"]), rival, offer_status="OFFERED")
    assigned = create_order(dispatcher, customer_organization)
    as_member(
        dispatcher,
        customer_organization,
        services.service_order_assign,
        service_order_id=assigned.id,
        expert_id=expert.id,
    )
    return pending.json()["id"], str(assigned.id)


def test_another_customer_and_a_third_organization_get_404_on_every_order_endpoint(
    api, orders, expert, other_customer, third, dispatcher, customer_organization
):
    pending, assigned = orders
    # The other customer has orders of its own: they are not mixed in.
    own = api(other_customer).post(ORDERS, {"title": "Own", "required_skill": "EL-MOT"}, format="json").json()

    for user in (other_customer, third):
        client = api(user)
        for order_id in (pending, assigned):
            statuses = _statuses(_order_calls(client, order_id, expert.id))
            assert statuses == dict.fromkeys(statuses, 404), (user, order_id)
        listed = [row["id"] for row in client.get(ORDERS).json()["data"]]
        assert pending not in listed and assigned not in listed
    assert [row["id"] for row in api(other_customer).get(ORDERS).json()["data"]] == [own["id"]]
    # nothing moved
    body = api(dispatcher).get(f"{ORDERS}/{assigned}").json()
    assert (body["status"], body["title"], body["expert"]["id"]) == ("ASSIGNED", "Motor overheats", str(expert.id))
    assert api(dispatcher).get(f"{ORDERS}/{pending}").json()["status"] == "PENDING"


def test_the_expert_organization_reads_an_order_only_while_it_holds_it(
    api, orders, expert, expert_user, expert_organization, second_expert_user
):
    pending, assigned = orders
    expert_admin = api(member(expert_organization, role=Role.ORG_ADMIN))

    # the live offer's expert and their organization: the offer, not the order
    offered = api(second_expert_user).get(f"{ORDERS}/{pending}").status_code
    before = _statuses(_order_calls(expert_admin, pending, expert.id))
    held = expert_admin.get(f"{ORDERS}/{assigned}")
    api(expert_user).post(f"{ORDERS}/{assigned}/decline", {"reason": "Too far"}, format="json")
    after = expert_admin.get(f"{ORDERS}/{assigned}").status_code

    assert offered == 404
    assert before == dict.fromkeys(before, 404)
    assert held.status_code == 200 and held.json()["side"] == "expert"
    assert after == 404


def test_an_expert_side_link_to_a_file_stops_working_once_the_order_is_given_back(
    api, dispatcher, customer_organization, expert, expert_user
):
    created = api(dispatcher).post(
        ORDERS,
        {"title": "Hums", "required_skill": "EL-MOT", "photos": [upload("hum.png", png(), "image/png")]},
        format="multipart",
    )
    order_id = created.json()["id"]
    api(dispatcher).post(f"{ORDERS}/{order_id}/assign", {"expert_id": str(expert.id)}, format="json")
    [photo] = api(expert_user).get(f"{ORDERS}/{order_id}").json()["attachments"]

    assert api().get(photo["download_url"]).status_code == 200
    api(expert_user).post(f"{ORDERS}/{order_id}/decline", {}, format="json")

    assert api().get(photo["download_url"]).status_code == 404
    assert api().get(created.json()["attachments"][0]["download_url"]).status_code == 200  # the customer's


def test_another_organization_keeps_none_of_an_experts_passport(
    api, expert, expert_user, other_customer, third, dispatcher, customer_organization
):
    proposed = match(create_order(dispatcher, customer_organization), expert)
    certificate = (
        api(expert_user)
        .post(f"{EXPERTS}/{expert.id}/certifications", {"name": "Electrician"}, format="multipart")
        .json()
    )
    base = f"{EXPERTS}/{expert.id}"

    for user in (other_customer, third):
        client = api(user)
        calls = _expert_calls(client, expert.id, proposed.id, certificate["id"])
        statuses = _statuses(calls)
        assert statuses == dict.fromkeys(statuses, 404), user
        # the published profile is read, as the catalogue shows it
        assert client.get(base).status_code == 200
    profile = api(expert_user).get(base).json()
    assert (profile["headline"], profile["work_status"], len(profile["certifications"])) == ("", "IDLE", 1)
    assert [row["status"] for row in api(expert_user).get(f"{base}/matches").json()["data"]] == ["NEW"]


def test_an_unpublished_expert_is_404_to_every_other_organization(api, expert_organization, other_customer, third):
    hidden = register_expert(member(expert_organization, role=Role.EXPERT), expert_organization, is_published=False)

    for user in (other_customer, third):
        client = api(user)
        assert client.get(f"{EXPERTS}/{hidden.id}").status_code == 404
        assert str(hidden.id) not in [row["id"] for row in client.get(EXPERTS).json()["data"]]
