"""The expert's side through the API: confirming, starting and completing an assigned order
(the `serviced` step on the device, read back as the customer), completing with photos and a
sign-off, giving an order back, live offers (the first accept wins, a declined offer leaves the
order alone), the matching results an expert reads and marks, their service records, and
their certificates."""

from __future__ import annotations

import hashlib

import pytest

from apps.core.context import tenant_scope
from apps.service import services
from apps.service.models import MatchingResult
from apps.tenancy.roles import Role
from tests.factories import member
from tests.service.api_support import EXPERTS, ORDERS, match, pdf, png, query_count, stored_order, upload
from tests.service.conftest import as_member, create_order, give_membership, register_expert

pytestmark = pytest.mark.django_db

DONE = {
    "work_done": "Replaced the bearing, cleaned the fan",
    "signed_off_by_name": "I. Petrova",
    "parts_used": [{"name": "Bearing 6205", "quantity": 2, "part_number": "6205-2RS"}],
}


@pytest.fixture
def assigned(dispatcher, customer_organization, expert, device):
    order = create_order(dispatcher, customer_organization, passport_id=device.id)
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    return order


def _match_of(order, expert) -> MatchingResult:
    with tenant_scope(expert.organization_id):
        return MatchingResult.objects.get(source_id=order.id, target_id=expert.id)


# --- Assigned work -------------------------------------------------------------------------------


def test_the_expert_confirms_starts_and_completes_and_the_device_gets_its_serviced_step(
    api, assigned, expert, expert_user, dispatcher, device
):
    client = api(expert_user)
    url = f"{ORDERS}/{assigned.id}"

    accepted = client.post(f"{url}/accept", {}, format="json")
    started = client.post(f"{url}/start", {}, format="json")
    completed = client.post(f"{url}/complete", DONE, format="json")

    assert accepted.status_code == 200 and accepted.json()["accepted_at"] is not None
    assert accepted.json()["side"] == "expert"
    assert started.status_code == 200 and started.json()["status"] == "IN_PROGRESS"
    assert completed.status_code == 200, completed.json()
    body = completed.json()
    assert (body["status"], body["work_done"], body["signed_off_by_name"]) == (
        "COMPLETED",
        DONE["work_done"],
        "I. Petrova",
    )
    assert body["parts_used"] == DONE["parts_used"] and body["passport_event_id"] is not None
    assert [step["to_status"] for step in body["history"]] == ["PENDING", "ASSIGNED", "IN_PROGRESS", "COMPLETED"]
    # The customer reads the step on the device's history.
    events = api(dispatcher).get(f"/api/v1/passports/{device.id}/events?limit=200").json()["data"]
    serviced = [event for event in events if event["kind"] == "serviced"]
    assert [(event["id"], event["service_order_id"]) for event in serviced] == [
        (body["passport_event_id"], str(assigned.id))
    ]
    assert serviced[0]["details"]["expert_code"] == expert.code
    assert api(expert_user).get(f"{EXPERTS}/{expert.id}").json()["completed_orders"] == 1
    assert api(dispatcher).get(url).json()["status"] == "COMPLETED"


def test_a_form_completes_with_photos_a_signature_and_parts_as_json(api, assigned, expert_user, dispatcher):
    client = api(expert_user)
    client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")
    signature = png()

    response = client.post(
        f"{ORDERS}/{assigned.id}/complete",
        {
            "work_done": "Rewound the motor",
            "signed_off_by_name": "I. Petrova",
            "parts_used": '[{"name": "Copper wire", "quantity": 3}]',
            "photos": [upload("after.png", png(), "image/png")],
            "sign_off": upload("signature.png", signature, "image/png"),
        },
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["parts_used"] == [{"name": "Copper wire", "quantity": 3, "part_number": ""}]
    assert [row["kind"] for row in body["attachments"]] == ["COMPLETION_PHOTO", "SIGN_OFF"]
    # The customer's side downloads the signature with its own link.
    [sign_off] = [row for row in api(dispatcher).get(f"{ORDERS}/{assigned.id}").json()["attachments"]
                  if row["kind"] == "SIGN_OFF"]  # fmt: skip
    download = api().get(sign_off["download_url"])
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == hashlib.sha256(signature).hexdigest()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"work_done": ""}, "work_done"),
        ({"signed_off_by_name": ""}, "signed_off_by_name"),
        ({"parts_used": [{"quantity": 2}]}, "parts_used"),
        ({"parts_used": [{"name": "Bolt", "quantity": 0}]}, "parts_used"),
        ({"parts_used": "bolts"}, "parts_used"),
    ],
)
def test_an_invalid_completion_changes_nothing(api, assigned, expert_user, customer_organization, change, field):
    client = api(expert_user)
    client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")

    response = client.post(f"{ORDERS}/{assigned.id}/complete", {**DONE, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert stored_order(customer_organization, assigned.id).status == "IN_PROGRESS"


def test_a_form_with_parts_that_are_not_json_is_a_400(api, assigned, expert_user):
    client = api(expert_user)
    client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")

    response = client.post(
        f"{ORDERS}/{assigned.id}/complete",
        {"work_done": "Done", "signed_off_by_name": "I. P.", "parts_used": "[{"},
        format="multipart",
    )

    assert response.status_code == 400 and "parts_used" in response.json()["details"]


def test_work_is_not_completed_before_it_starts_nor_started_twice(api, assigned, expert_user, customer_organization):
    client = api(expert_user)

    early = client.post(f"{ORDERS}/{assigned.id}/complete", DONE, format="json")
    client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")
    twice = client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")

    assert early.status_code == 422
    assert early.json()["details"] == {"status": ["Allowed from ASSIGNED: IN_PROGRESS, PENDING."]}
    assert twice.status_code == 422
    assert stored_order(customer_organization, assigned.id).status == "IN_PROGRESS"


def test_work_in_progress_is_not_cancelled_nor_corrected(api, assigned, expert_user, dispatcher):
    api(expert_user).post(f"{ORDERS}/{assigned.id}/start", {}, format="json")

    cancel = api(dispatcher).post(f"{ORDERS}/{assigned.id}/cancel", {"reason": "Too slow"}, format="json")
    correct = api(dispatcher).patch(f"{ORDERS}/{assigned.id}", {"title": "Other"}, format="json")

    assert cancel.status_code == correct.status_code == 422
    assert cancel.json()["details"] == {"status": ["Allowed from IN_PROGRESS: none."]}  # none for the customer


def test_only_the_expert_who_holds_it_works_the_order(api, assigned, second_expert_user, expert_organization):
    colleague = register_expert(second_expert_user, expert_organization)
    assert colleague.id

    for verb in ("accept", "start"):
        assert api(second_expert_user).post(f"{ORDERS}/{assigned.id}/{verb}", {}, format="json").status_code == 404
    assert api(second_expert_user).get(f"{ORDERS}/{assigned.id}").status_code == 404


def test_a_customer_does_not_work_orders(api, assigned, customer):
    assert api(customer).post(f"{ORDERS}/{assigned.id}/start", {}, format="json").status_code == 403


def test_the_expert_gives_an_assignment_back(api, assigned, expert, expert_user, dispatcher, customer_organization):
    response = api(expert_user).post(f"{ORDERS}/{assigned.id}/decline", {"reason": "Too far"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"service_order_id": str(assigned.id), "status": "PENDING", "offer_status": "DECLINED"}
    assert api(expert_user).get(f"{ORDERS}/{assigned.id}").status_code == 404
    back = api(dispatcher).get(f"{ORDERS}/{assigned.id}").json()
    assert (back["status"], back["expert"]) == ("PENDING", None)
    assert back["history"][-1]["reason"] == "Too far"
    assert api(expert_user).get(f"{EXPERTS}/{expert.id}").json()["work_status"] == "AVAILABLE"


# --- Live offers ---------------------------------------------------------------------------------


@pytest.fixture
def offered(dispatcher, customer_organization, expert, expert_organization, second_expert_user):
    """An URGENT order offered live to two RUSHING experts."""
    order = create_order(dispatcher, customer_organization, urgency="URGENT")
    rival = register_expert(second_expert_user, expert_organization)
    for rank, candidate in enumerate((expert, rival), start=1):
        give_membership(candidate)
        match(order, candidate, rank=rank, offer_status="OFFERED")
    return order, rival


def test_an_offered_expert_reads_the_offer_but_not_the_order_until_they_take_it(
    api, offered, expert, expert_user, customer_organization
):
    order, _rival = offered
    client = api(expert_user)

    before = client.get(f"{ORDERS}/{order.id}").status_code
    listed = client.get(ORDERS).json()["data"]
    [offer] = client.get(f"{EXPERTS}/{expert.id}/matches").json()["data"]
    taken = client.post(f"{ORDERS}/{order.id}/accept", {}, format="json")

    assert (before, listed) == (404, [])
    assert (offer["source_id"], offer["offer_status"], offer["summary"]["title"]) == (
        str(order.id),
        "OFFERED",
        "Motor overheats",
    )
    assert taken.status_code == 200, taken.json()
    assert (taken.json()["status"], taken.json()["expert"]["id"]) == ("ASSIGNED", str(expert.id))
    assert [row["id"] for row in client.get(ORDERS).json()["data"]] == [str(order.id)]
    assert stored_order(customer_organization, order.id).expert_user_id == expert_user.id


def test_the_first_accept_wins_and_the_other_offer_is_taken(api, offered, expert_user, second_expert_user):
    order, rival = offered

    first = api(expert_user).post(f"{ORDERS}/{order.id}/accept", {}, format="json")
    second = api(second_expert_user).post(f"{ORDERS}/{order.id}/accept", {}, format="json")

    assert first.status_code == 200
    assert second.status_code == 422 and second.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert _match_of(order, rival).offer_status == "TAKEN"
    assert api(second_expert_user).get(f"{ORDERS}/{order.id}").status_code == 404


def test_a_declined_offer_leaves_the_order_alone(api, offered, expert, expert_user, customer_organization):
    order, _rival = offered

    response = api(expert_user).post(f"{ORDERS}/{order.id}/decline", {}, format="json")
    again = api(expert_user).post(f"{ORDERS}/{order.id}/accept", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {"service_order_id": str(order.id), "status": None, "offer_status": "DECLINED"}
    assert (_match_of(order, expert).offer_status, _match_of(order, expert).status) == ("DECLINED", "DISMISSED")
    assert stored_order(customer_organization, order.id).status == "PENDING"
    assert again.status_code == 422


# --- Matches and service records -----------------------------------------------------------------


def test_the_expert_marks_a_match_and_a_colleague_or_the_customer_cannot(
    api, dispatcher, customer_organization, expert, expert_user, second_expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    result = match(order, expert)
    register_expert(second_expert_user, expert_organization)
    url = f"{EXPERTS}/{expert.id}/matches/{result.id}"

    viewed = api(expert_user).patch(url, {"status": "VIEWED"}, format="json")
    back_to_new = api(expert_user).patch(url, {"status": "NEW"}, format="json")
    statuses = {
        "colleague": api(second_expert_user).patch(url, {"status": "DISMISSED"}, format="json").status_code,
        "colleague's list": api(second_expert_user).get(f"{EXPERTS}/{expert.id}/matches").status_code,
        "customer": api(dispatcher).get(f"{EXPERTS}/{expert.id}/matches").status_code,
        "another match": api(expert_user)
        .patch(f"{EXPERTS}/{expert.id}/matches/{order.id}", {"status": "VIEWED"}, format="json")
        .status_code,
    }

    assert viewed.status_code == 200 and viewed.json()["status"] == "VIEWED"
    assert sum(float(share) for share in viewed.json()["breakdown"].values()) == pytest.approx(
        float(viewed.json()["score"])
    )
    assert back_to_new.status_code == 400
    assert statuses == dict.fromkeys(statuses, 404)
    assert _match_of(order, expert).status == "VIEWED"
    # The customer reads the expert's answer next to the score.
    assert api(dispatcher).get(f"{ORDERS}/{order.id}/matches").json()["data"][0]["status"] == "VIEWED"


def test_the_matches_list_runs_the_same_queries_for_2_or_12_matches(
    api, dispatcher, customer_organization, expert, expert_user
):
    client = api(expert_user)
    url = f"{EXPERTS}/{expert.id}/matches"
    for _ in range(2):
        match(create_order(dispatcher, customer_organization), expert)
    client.get(url)
    few, body = query_count(client, url)
    assert len(body["data"]) == 2
    for _ in range(10):
        match(create_order(dispatcher, customer_organization), expert)
    many, body = query_count(client, f"{url}?limit=50")

    assert len(body["data"]) == 12
    assert many == few


def test_service_records_are_the_orders_the_expert_holds_or_completed(
    api, assigned, dispatcher, customer_organization, expert, expert_user
):
    given_back = create_order(dispatcher, customer_organization)
    as_member(
        dispatcher,
        customer_organization,
        services.service_order_assign,
        service_order_id=given_back.id,
        expert_id=expert.id,
    )
    client = api(expert_user)
    client.post(f"{ORDERS}/{given_back.id}/decline", {"reason": "No"}, format="json")
    client.post(f"{ORDERS}/{assigned.id}/start", {}, format="json")
    client.post(f"{ORDERS}/{assigned.id}/complete", DONE, format="json")

    response = client.get(f"{EXPERTS}/{expert.id}/service-records")

    assert response.status_code == 200
    [record] = response.json()["data"]
    assert (record["id"], record["status"], record["work_done"]) == (str(assigned.id), "COMPLETED", DONE["work_done"])
    assert record["completed_at"] is not None and record["device_name"] == "Servo motor 7.5 kW"
    assert api(dispatcher).get(f"{EXPERTS}/{expert.id}/service-records").status_code == 404


def test_the_service_records_run_the_same_queries_for_2_or_12_orders(
    api, dispatcher, customer_organization, expert, expert_user
):
    def some(count):
        for _ in range(count):
            order = create_order(dispatcher, customer_organization)
            as_member(
                dispatcher,
                customer_organization,
                services.service_order_assign,
                service_order_id=order.id,
                expert_id=expert.id,
            )

    client = api(expert_user)
    url = f"{EXPERTS}/{expert.id}/service-records"
    some(2)
    client.get(url)
    few, body = query_count(client, url)
    assert len(body["data"]) == 2
    some(10)
    many, body = query_count(client, f"{url}?limit=50")

    assert len(body["data"]) == 12
    assert many == few


# --- Certificates ------------------------------------------------------------------------------


def test_an_expert_adds_a_certificate_that_customers_read_and_download(api, expert, expert_user, dispatcher):
    document = pdf()
    response = api(expert_user).post(
        f"{EXPERTS}/{expert.id}/certifications",
        {
            "name": "Siemens SINAMICS service",
            "issuer": "Siemens",
            "expires_on": "2028-06-30",
            "file": upload("cert.pdf", document, "application/pdf"),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["name"], created["expires_on"], created["content_type"]) == (
        "Siemens SINAMICS service",
        "2028-06-30",
        "application/pdf",
    )
    [shown] = api(dispatcher).get(f"{EXPERTS}/{expert.id}").json()["certifications"]
    assert shown["id"] == created["id"]
    download = api().get(shown["download_url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == hashlib.sha256(document).hexdigest()


def test_a_certificate_without_a_file_has_no_link_and_a_bad_one_is_refused(api, expert, expert_user):
    client = api(expert_user)
    url = f"{EXPERTS}/{expert.id}/certifications"

    plain = client.post(url, {"name": "Electrician, class B"}, format="multipart")
    text = client.post(
        url, {"name": "Fake", "file": upload("cert.pdf", b"just text", "application/pdf")}, format="multipart"
    )
    backwards = client.post(
        url, {"name": "Late", "issued_on": "2026-01-01", "expires_on": "2025-01-01"}, format="multipart"
    )

    assert plain.status_code == 201 and plain.json()["download_url"] is None
    assert text.status_code == 400 and "file" in text.json()["details"]
    assert backwards.status_code == 400 and "expires_on" in backwards.json()["details"]
    assert [row["name"] for row in client.get(f"{EXPERTS}/{expert.id}").json()["certifications"]] == [
        "Electrician, class B"
    ]


def test_a_certificate_is_removed_by_its_side_only(api, expert, expert_user, dispatcher):
    created = (
        api(expert_user)
        .post(f"{EXPERTS}/{expert.id}/certifications", {"name": "Electrician, class B"}, format="multipart")
        .json()
    )
    url = f"{EXPERTS}/{expert.id}/certifications/{created['id']}"

    stranger = api(dispatcher).delete(url)
    removed = api(expert_user).delete(url)
    again = api(expert_user).delete(url)

    assert (stranger.status_code, removed.status_code, again.status_code) == (404, 204, 404)
    assert api(dispatcher).get(f"{EXPERTS}/{expert.id}").json()["certifications"] == []


def test_a_hidden_profile_hides_its_certificates_and_their_links(api, expert, expert_user, dispatcher):
    created = (
        api(expert_user)
        .post(
            f"{EXPERTS}/{expert.id}/certifications",
            {"name": "Cert", "file": upload("cert.png", png(), "image/png")},
            format="multipart",
        )
        .json()
    )
    link = api(dispatcher).get(f"{EXPERTS}/{expert.id}").json()["certifications"][0]["download_url"]

    api(expert_user).patch(f"{EXPERTS}/{expert.id}", {"is_published": False}, format="json")

    assert api(dispatcher).get(f"{EXPERTS}/{expert.id}").status_code == 404
    assert api().get(link).status_code == 404
    assert api().get(created["download_url"]).status_code == 200  # the owner's own link


def test_rushing_is_refused_without_a_membership_for_an_expert_of_a_dispatcher_too(api, expert, expert_organization):
    response = api(member(expert_organization, role=Role.OPERATOR)).patch(
        f"{EXPERTS}/{expert.id}/work-status", {"work_status": "RUSHING"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_customer_orders_service_on_their_device_and_reads_the_serviced_step(
    api, customer, dispatcher, customer_organization, device, expert, expert_user
):
    kept = api(dispatcher).patch(f"/api/v1/passports/{device.id}", {"customer_id": str(customer.id)}, format="json")
    assert kept.status_code == 200, kept.json()
    ordered = api(customer).post(
        ORDERS, {"title": "Hums", "required_skill": "EL-MOT", "passport_id": str(device.id)}, format="json"
    )
    assert ordered.status_code == 201, ordered.json()
    order_id = ordered.json()["id"]
    api(dispatcher).post(f"{ORDERS}/{order_id}/assign", {"expert_id": str(expert.id)}, format="json")
    api(expert_user).post(f"{ORDERS}/{order_id}/start", {}, format="json")
    done = api(expert_user).post(f"{ORDERS}/{order_id}/complete", DONE, format="json").json()

    events = api(customer).get(f"/api/v1/passports/{device.id}/events?limit=200")

    assert events.status_code == 200, events.json()
    [serviced] = [event for event in events.json()["data"] if event["kind"] == "serviced"]
    assert (serviced["id"], serviced["service_order_id"], serviced["note"]) == (
        done["passport_event_id"],
        order_id,
        DONE["work_done"],
    )
    assert api(customer).get(f"{ORDERS}/{order_id}").json()["status"] == "COMPLETED"
