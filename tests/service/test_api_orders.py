"""Service orders through the API, the customer's side: asking for service (JSON, or a form with
photos), the list of both sides and its filters, correcting an order, assigning an expert,
cancelling, the scored candidates, the roles that may not, and constant list queries."""

from __future__ import annotations

import hashlib

import pytest

from apps.core.context import tenant_scope
from apps.service import services
from apps.service.models import ServiceOrder, ServiceOrderAttachment
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.service.api_support import BREAKDOWN, ORDERS, match, pdf, png, query_count, stored_order, upload
from tests.service.conftest import as_member, create_order, register_expert

pytestmark = pytest.mark.django_db

BODY = {"title": "Motor overheats", "required_skill": "EL-MOT", "urgency": "HIGH"}


def _orders(organization) -> int:
    with tenant_scope(organization.id):
        return ServiceOrder.objects.filter(organization_id=organization.id).count()


def _ids(client, query="") -> list[str]:
    response = client.get(f"{ORDERS}{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["data"]]


def assign(dispatcher, organization, order, expert):
    return as_member(
        dispatcher, organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )


# --- Asking for service ------------------------------------------------------------------------


def test_a_dispatcher_asks_for_service_on_a_device_and_the_site_is_the_devices(
    api, dispatcher, customer_organization, device
):
    response = api(dispatcher).post(
        ORDERS, {**BODY, "passport_id": str(device.id), "price": "250.00", "currency": "eur"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("SVO-") and body["status"] == "PENDING" and body["side"] == "customer"
    assert (body["passport_code"], body["device_name"], body["address"]) == (device.code, device.device_name, "Line 3")
    assert (body["latitude"], body["longitude"]) == ("59.934280", "30.335099")
    assert (body["price"], body["currency"]) == ("250.00", "EUR")
    assert (body["customer_id"], body["created_by_id"], body["expert"]) == (
        str(dispatcher.id),
        str(dispatcher.id),
        None,
    )
    assert [(step["from_status"], step["to_status"]) for step in body["history"]] == [("", "PENDING")]
    assert api(dispatcher).get(f"{ORDERS}/{body['id']}").json() == body


def test_a_form_carries_photos_of_the_problem_with_download_links(api, dispatcher, customer_organization):
    photo = png()
    response = api(dispatcher).post(
        ORDERS,
        {**BODY, "photos": [upload("a.png", photo, "image/png"), upload("b.png", photo, "image/png")]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    attachments = response.json()["attachments"]
    assert [(row["kind"], row["filename"]) for row in attachments] == [("PHOTO", "a.png"), ("PHOTO", "b.png")]
    download = api().get(attachments[0]["download_url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == hashlib.sha256(photo).hexdigest()


def test_a_photo_that_is_not_an_image_stores_no_order(api, dispatcher, customer_organization):
    response = api(dispatcher).post(
        ORDERS,
        {**BODY, "photos": [upload("a.png", png(), "image/png"), upload("b.pdf", pdf(), "application/pdf")]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "photos[1]" in response.json()["details"]
    assert _orders(customer_organization) == 0
    with tenant_scope(customer_organization.id):
        assert not ServiceOrderAttachment.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": 7}, "title"),
        ({"required_skill": "XX-YYY"}, "required_skill"),
        ({"urgency": "NOW"}, "urgency"),
        ({"latitude": "59.9"}, "longitude"),
        ({"price": "-1"}, "price"),
        ({"price": 250}, "price"),
        ({"price": "250.00"}, "currency"),
        ({"scheduled_start": "2030-01-02T10:00:00Z", "scheduled_end": "2030-01-02T09:00:00Z"}, "scheduled_end"),
        ({"passport_id": "00000000-0000-0000-0000-000000000001"}, "passport_id"),
        ({"customer_id": "00000000-0000-0000-0000-000000000001"}, "customer_id"),
    ],
)
def test_an_invalid_order_is_refused_with_the_field_named_and_nothing_stored(
    api, dispatcher, customer_organization, change, field
):
    response = api(dispatcher).post(ORDERS, {**BODY, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert _orders(customer_organization) == 0


def test_a_device_that_is_not_installed_is_not_serviced_in_the_field(api, dispatcher, customer_organization, device):
    from apps.passports import services as passport_services
    from tests.service.conftest import actor_of

    with tenant_scope(customer_organization.id, user_id=dispatcher.id):
        passport_services.passport_event_record(
            actor=actor_of(dispatcher, customer_organization),
            passport_id=device.id,
            data=passport_services.LifecycleInput(kind="decommissioned"),
        )

    response = api(dispatcher).post(ORDERS, {**BODY, "passport_id": str(device.id)}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {"passport_id": ["The device is decommissioned."]}


def test_a_retried_order_with_the_same_key_is_stored_once(api, dispatcher, customer_organization):
    client = api(dispatcher)
    first = client.post(ORDERS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="svo-1")
    again = client.post(ORDERS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="svo-1")
    other = client.post(ORDERS, {**BODY, "title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="svo-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert other.status_code == 422 and other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _orders(customer_organization) == 1


def test_a_customer_orders_for_themselves_and_sees_only_their_orders(api, customer, dispatcher, customer_organization):
    theirs = api(customer).post(ORDERS, BODY, format="json")
    for_someone_else = api(customer).post(ORDERS, {**BODY, "customer_id": str(dispatcher.id)}, format="json")
    others = create_order(dispatcher, customer_organization)

    assert theirs.status_code == 201 and theirs.json()["customer_id"] == str(customer.id)
    assert for_someone_else.status_code == 400 and "customer_id" in for_someone_else.json()["details"]
    assert _ids(api(customer)) == [theirs.json()["id"]]
    assert api(customer).get(f"{ORDERS}/{others.id}").status_code == 404
    assert len(_ids(api(dispatcher))) == 2


def test_a_customer_orders_service_only_on_a_device_kept_for_them(api, customer, customer_organization, device):
    response = api(customer).post(ORDERS, {**BODY, "passport_id": str(device.id)}, format="json")

    assert response.status_code == 400
    assert "passport_id" in response.json()["details"]


@pytest.mark.parametrize("role", sorted([Role.EXPERT, Role.QC_INSPECTOR]))
def test_roles_that_do_not_order_service_are_refused(api, customer_organization, role):
    response = api(member(customer_organization, role=role)).post(ORDERS, BODY, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


# --- The list ----------------------------------------------------------------------------------


def test_the_list_has_both_sides_and_filters_by_side_status_urgency_device_and_expert(
    api, dispatcher, customer_organization, expert, expert_organization, device
):
    ours = create_order(dispatcher, customer_organization, passport_id=device.id, urgency="URGENT")
    pending = create_order(dispatcher, customer_organization, urgency="LOW")
    # The expert's organization asks for service too, and holds the customer's order.
    own_dispatcher = member(expert_organization, role=Role.OPERATOR)
    their_own = create_order(own_dispatcher, expert_organization)
    assign(dispatcher, customer_organization, ours, expert)
    client = api(own_dispatcher)

    assert _ids(client) == [str(their_own.id), str(ours.id)]
    assert _ids(client, "?side=expert") == [str(ours.id)]
    assert _ids(client, "?side=customer") == [str(their_own.id)]
    assert _ids(client, "?status=ASSIGNED") == [str(ours.id)]
    assert _ids(client, f"?expert_id={expert.id}") == [str(ours.id)]
    assert _ids(api(dispatcher), "?urgency=LOW") == [str(pending.id)]
    assert _ids(api(dispatcher), f"?passport_id={device.id}") == [str(ours.id)]
    assert _ids(api(dispatcher), "?ordering=created_at") == [str(ours.id), str(pending.id)]
    sides = {row["id"]: row["side"] for row in client.get(ORDERS).json()["data"]}
    assert sides == {str(their_own.id): "customer", str(ours.id): "expert"}
    assert client.get(ORDERS).json()["data"][1]["expert"]["code"] == expert.code


@pytest.mark.parametrize(
    "query", sorted(["?status=DONE", "?side=both", "?expert_id=42", "?ordering=title", "?urgency=", "?page=0"])
)
def test_an_invalid_list_filter_is_a_400(api, dispatcher, customer_organization, query):
    response = api(dispatcher).get(f"{ORDERS}{query}")

    assert response.status_code == 400


def test_the_list_runs_the_same_queries_for_3_or_15_orders(
    api, dispatcher, customer_organization, expert, expert_organization
):
    own_dispatcher = member(expert_organization, role=Role.OPERATOR)
    client = api(own_dispatcher)

    def some(count):
        for _ in range(count):
            assign(dispatcher, customer_organization, create_order(dispatcher, customer_organization), expert)
            create_order(own_dispatcher, expert_organization)

    some(2)
    client.get(ORDERS)  # warms the per-organization feature cache
    few, body = query_count(client, ORDERS)
    assert len(body["data"]) == 4
    some(6)
    many, body = query_count(client, f"{ORDERS}?limit=50")

    assert len(body["data"]) == 16
    assert many == few


# --- Correcting, assigning, cancelling ----------------------------------------------------------


def test_the_customer_corrects_a_pending_order(api, dispatcher, customer_organization):
    order = create_order(dispatcher, customer_organization)

    response = api(dispatcher).patch(
        f"{ORDERS}/{order.id}", {"title": "Motor overheats at full load", "urgency": "URGENT"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["title"], response.json()["urgency"]) == ("Motor overheats at full load", "URGENT")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"title": ""}, "title"), ({"required_skill": "EL"}, "required_skill"), ({}, "non_field_errors")],
)
def test_an_invalid_correction_changes_nothing(api, dispatcher, customer_organization, change, field):
    order = create_order(dispatcher, customer_organization)
    client = api(dispatcher)
    before = client.get(f"{ORDERS}/{order.id}").json()

    response = client.patch(f"{ORDERS}/{order.id}", change, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert client.get(f"{ORDERS}/{order.id}").json() == before


def test_a_dispatcher_assigns_an_expert_who_is_then_booked(api, dispatcher, customer_organization, expert, expert_user):
    order = create_order(dispatcher, customer_organization)

    response = api(dispatcher).post(f"{ORDERS}/{order.id}/assign", {"expert_id": str(expert.id)}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ASSIGNED"
    assert (body["expert"]["id"], body["expert"]["code"], body["expert"]["work_status"]) == (
        str(expert.id),
        expert.code,
        "BOOKED",
    )
    assert [step["to_status"] for step in body["history"]] == ["PENDING", "ASSIGNED"]
    again = api(dispatcher).post(f"{ORDERS}/{order.id}/assign", {"expert_id": str(expert.id)}, format="json")
    assert again.status_code == 422
    assert again.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert again.json()["details"] == {"status": ["Allowed from ASSIGNED: CANCELLED."]}


def test_an_off_duty_expert_is_not_assigned(api, dispatcher, customer_organization, expert, expert_user):
    api(expert_user).patch(f"/api/v1/experts/{expert.id}/work-status", {"work_status": "OFF_DUTY"}, format="json")
    order = create_order(dispatcher, customer_organization)

    response = api(dispatcher).post(f"{ORDERS}/{order.id}/assign", {"expert_id": str(expert.id)}, format="json")

    assert response.status_code == 422
    assert "expert_id" in response.json()["details"]
    assert stored_order(customer_organization, order.id).status == "PENDING"


def test_an_unknown_or_unpublished_expert_is_not_assigned(api, dispatcher, customer_organization, expert_organization):
    hidden = register_expert(member(expert_organization, role=Role.EXPERT), expert_organization, is_published=False)
    order = create_order(dispatcher, customer_organization)

    response = api(dispatcher).post(f"{ORDERS}/{order.id}/assign", {"expert_id": str(hidden.id)}, format="json")

    assert response.status_code == 400 and "expert_id" in response.json()["details"]


def test_a_customer_does_not_assign(api, customer, customer_organization, expert):
    order = create_order(customer, customer_organization)

    response = api(customer).post(f"{ORDERS}/{order.id}/assign", {"expert_id": str(expert.id)}, format="json")

    assert response.status_code == 403


def test_the_customer_cancels_a_pending_order_with_a_reason(api, customer, customer_organization):
    order = create_order(customer, customer_organization)
    client = api(customer)

    no_reason = client.post(f"{ORDERS}/{order.id}/cancel", {}, format="json")
    cancelled = client.post(f"{ORDERS}/{order.id}/cancel", {"reason": "Fixed it ourselves"}, format="json")
    again = client.post(f"{ORDERS}/{order.id}/cancel", {"reason": "Twice"}, format="json")

    assert no_reason.status_code == 400 and "reason" in no_reason.json()["details"]
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancellation_reason"]) == ("CANCELLED", "Fixed it ourselves")
    assert again.status_code == 422 and again.json()["details"] == {"status": ["Allowed from CANCELLED: none."]}


# --- The scored candidates ----------------------------------------------------------------------


def test_the_customer_reads_the_candidates_best_first_with_a_breakdown_that_sums_to_the_score(
    api, dispatcher, customer_organization, expert, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    runner_up = register_expert(member(expert_organization, role=Role.EXPERT), expert_organization)
    match(order, runner_up, rank=2, breakdown={**BREAKDOWN, "skill": "0.1000"})
    match(order, expert, rank=1, offer_status="OFFERED")

    response = api(dispatcher).get(f"{ORDERS}/{order.id}/matches")

    assert response.status_code == 200, response.json()
    rows = response.json()["data"]
    assert [(row["rank"], row["expert"]["id"]) for row in rows] == [(1, str(expert.id)), (2, str(runner_up.id))]
    for row in rows:
        assert sum(float(share) for share in row["breakdown"].values()) == pytest.approx(float(row["score"]))
    assert (rows[0]["offer_status"], rows[0]["expert"]["code"], rows[0]["expert"]["work_status"]) == (
        "OFFERED",
        expert.code,
        "IDLE",
    )


def test_the_candidates_list_runs_the_same_queries_for_2_or_12_candidates(
    api, dispatcher, customer_organization, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    experts = [register_expert(member(expert_organization, role=Role.EXPERT), expert_organization) for _ in range(12)]
    for rank, candidate in enumerate(experts[:2], start=1):
        match(order, candidate, rank=rank)
    client = api(dispatcher)
    url = f"{ORDERS}/{order.id}/matches"
    client.get(url)
    few, body = query_count(client, url)
    assert len(body["data"]) == 2
    for rank, candidate in enumerate(experts[2:], start=3):
        match(order, candidate, rank=rank)
    many, body = query_count(client, f"{url}?limit=50")

    assert len(body["data"]) == 12
    assert many == few


def test_the_expert_side_does_not_read_the_candidates(
    api, dispatcher, customer_organization, expert, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    match(order, expert)
    assign(dispatcher, customer_organization, order, expert)

    response = api(member(expert_organization, role=Role.OPERATOR)).get(f"{ORDERS}/{order.id}/matches")

    assert response.status_code == 404


def test_without_the_feature_every_service_order_endpoint_answers_feature_disabled(
    api, dispatcher, customer_organization, expert
):
    order = create_order(dispatcher, customer_organization)
    organization = OrganizationFactory()  # expert_services is off by default
    client = api(member(organization))
    base = f"{ORDERS}/{order.id}"
    calls = [
        ("get", ORDERS, None),
        ("post", ORDERS, BODY),
        ("get", base, None),
        ("patch", base, {"title": "X"}),
        ("post", f"{base}/assign", {"expert_id": str(expert.id)}),
        ("post", f"{base}/accept", {}),
        ("post", f"{base}/decline", {}),
        ("post", f"{base}/start", {}),
        ("post", f"{base}/complete", {"work_done": "X", "signed_off_by_name": "Y"}),
        ("post", f"{base}/cancel", {"reason": "X"}),
        ("get", f"{base}/matches", None),
    ]

    answers = {
        f"{method.upper()} {path}": (
            getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
        )
        for method, path, body in calls
    }

    refused = {name: (answer.status_code, answer.json()["error_code"]) for name, answer in answers.items()}
    assert refused == dict.fromkeys(refused, (403, "FEATURE_DISABLED"))
    assert _orders(organization) == 0
    assert stored_order(customer_organization, order.id).status == "PENDING"
