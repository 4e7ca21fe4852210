"""Disputes through the API: opening a case (freezing the escrow), one open case per order,
claims capped by what is held, evidence and the answer that puts a case under review, the
opener's withdrawal (unfreezing), and a third organization that sees nothing."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.disputes.models import Dispute
from apps.escrow.models import Escrow

pytestmark = pytest.mark.django_db


def body(order, **overrides) -> dict:
    data = {
        "order_id": str(order.id),
        "reason_category": "damaged",
        "description": "Two pallets arrived crushed.",
        "amount_claimed": "300.00",
        "outcome_requested": "partial_refund",
    }
    data.update(overrides)
    return data


def open_case(api, party, order, **overrides):
    return api(party.staff).post("/api/v1/disputes", body(order, **overrides), format="json")


def escrow_status(escrow_id) -> str:
    with system_scope(reason="test: read the escrow"):
        return Escrow.objects.get(pk=escrow_id).status


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "brown").save(buffer, format="PNG")
    return buffer.getvalue()


def test_opening_a_case_freezes_the_escrow_and_gives_the_other_side_its_window(
    api, client_party, supplier_party, order, funded_escrow
):
    response = open_case(api, client_party, order)

    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["status"] == "created" and case["number"].startswith("DSP-")
    assert case["opened_by_side"] == "client" and case["response_side"] == "supplier"
    assert case["escrow_id"] == str(funded_escrow.id)
    assert case["history"][0]["to_status"] == "created"
    assert escrow_status(funded_escrow.id) == "disputed"
    seen_by_supplier = api(supplier_party.staff).get(f"/api/v1/disputes/{case['id']}")
    assert seen_by_supplier.status_code == 200
    with system_scope(reason="test: read the outbox"):
        assert OutboxEvent.objects.filter(event_type="dispute.opened", aggregate_id=case["id"]).exists()


def test_a_case_about_an_order_paid_outside_escrow_opens_without_freezing_anything(api, supplier_party, order):
    response = open_case(api, supplier_party, order, reason_category="payment", amount_claimed="1000.00")

    assert response.status_code == 201, response.json()
    assert response.json()["escrow_id"] is None and response.json()["opened_by_side"] == "supplier"


def test_a_claim_larger_than_what_is_held_is_refused_and_changes_nothing(api, client_party, order, funded_escrow):
    response = open_case(api, client_party, order, amount_claimed="1000000.00")

    assert response.status_code == 422
    assert response.json()["details"]["amount_claimed"]
    assert escrow_status(funded_escrow.id) == "funded"
    with system_scope(reason="test: count cases"):
        assert Dispute.objects.count() == 0


def test_one_open_case_per_order(api, client_party, supplier_party, order):
    assert open_case(api, client_party, order).status_code == 201

    second = open_case(api, supplier_party, order)

    assert second.status_code == 422
    assert second.json()["details"] == {"order_id": ["An open dispute exists for this order."]}


def test_missing_and_invalid_fields_are_refused(api, client_party, order):
    response = api(client_party.staff).post(
        "/api/v1/disputes", {"order_id": str(order.id), "reason_category": "bored"}, format="json"
    )

    assert response.status_code == 400
    assert {"reason_category", "description", "outcome_requested"} <= set(response.json()["details"])


def test_the_other_sides_evidence_is_its_answer_and_puts_the_case_under_review(
    api, client_party, supplier_party, order
):
    case = open_case(api, client_party, order).json()
    url = f"/api/v1/disputes/{case['id']}/evidence"

    own = api(client_party.staff).post(url, {"statement": "Photos follow."}, format="json")
    still = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()
    answer = api(supplier_party.staff).post(
        url,
        {
            "statement": "Loaded intact, see the CMR.",
            "file": SimpleUploadedFile("cmr.png", png(), content_type="image/png"),
        },
        format="multipart",
    )

    assert own.status_code == 201 and still["status"] == "created"
    assert answer.status_code == 201, answer.json()
    assert answer.json()["kind"] == "file" and answer.json()["added_by_side"] == "supplier"
    after = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()
    assert after["status"] == "under_review" and after["response_due_at"] is None
    assert [e["added_by_side"] for e in after["evidence"]] == ["client", "supplier"]
    download = api().get(after["evidence"][1]["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == png()


def test_evidence_is_checked_by_its_content(api, client_party, order):
    case = open_case(api, client_party, order).json()
    fake = SimpleUploadedFile("photo.png", b"PK\x03\x04" + b"\x00" * 40, content_type="image/png")

    response = api(client_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"file": fake}, format="multipart"
    )

    assert response.status_code == 400
    assert "ZIP archive" in response.json()["message"]


def test_the_opener_withdraws_and_the_escrow_goes_back_to_holding(
    api, client_party, supplier_party, order, funded_escrow
):
    case = open_case(api, client_party, order).json()
    status_url = f"/api/v1/disputes/{case['id']}/status"

    by_other_side = api(supplier_party.staff).put(status_url, {"status": "withdrawn"}, format="json")
    withdrawn = api(client_party.staff).put(status_url, {"status": "withdrawn", "reason": "Settled"}, format="json")
    evidence_after = api(client_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence", {"statement": "late"}, format="json"
    )

    assert by_other_side.status_code == 422 and by_other_side.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert escrow_status(funded_escrow.id) == "funded"
    assert evidence_after.status_code == 422
    # The order may be disputed again once the first case is over.
    assert open_case(api, client_party, order).status_code == 201


def test_a_party_cannot_make_staff_moves(api, client_party, order):
    case = open_case(api, client_party, order).json()

    response = api(client_party.staff).put(
        f"/api/v1/disputes/{case['id']}/status", {"status": "resolved"}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_third_organization_sees_nothing(api, client_party, outsider, order):
    case = open_case(api, client_party, order).json()
    client = api(outsider.staff)

    responses = [
        client.get(f"/api/v1/disputes/{case['id']}"),
        client.post(f"/api/v1/disputes/{case['id']}/evidence", {"statement": "x"}, format="json"),
        client.put(f"/api/v1/disputes/{case['id']}/status", {"status": "withdrawn"}, format="json"),
        open_case(api, outsider, order),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert client.get("/api/v1/disputes").json()["data"] == []
    assert client.get(f"/api/v1/disputes/{uuid.uuid4()}").json()["message"] == responses[0].json()["message"]


def test_the_list_runs_the_same_queries_for_one_case_or_many(
    api, client_party, supplier_party, django_assert_num_queries, django_assert_max_num_queries
):
    from tests.escrow.parties import order_between

    client = api(client_party.staff)
    assert open_case(api, client_party, order_between(client_party, supplier_party)).status_code == 201
    client.get("/api/v1/disputes")
    with django_assert_max_num_queries(50) as one:
        assert len(client.get("/api/v1/disputes").json()["data"]) == 1
    queries_for_one = len(one.captured_queries)
    for _ in range(4):
        assert open_case(api, client_party, order_between(client_party, supplier_party)).status_code == 201

    with django_assert_num_queries(queries_for_one):
        assert len(client.get("/api/v1/disputes").json()["data"]) == 5


def test_the_parties_talk_about_a_case_in_its_chat_thread(api, client_party, supplier_party, outsider, order):
    case = open_case(api, client_party, order).json()
    about_case = {"subject_type": "dispute", "subject_id": case["id"]}

    opened = api(supplier_party.staff).post("/api/v1/chat/threads", about_case, format="json")
    again = api(client_party.staff).post("/api/v1/chat/threads", about_case, format="json")
    stranger = api(outsider.staff).post("/api/v1/chat/threads", about_case, format="json")

    assert opened.status_code == 201, opened.json()
    assert opened.json()["title"] == f"Dispute {case['number']} (order {case['order_number']})"
    assert again.status_code == 200 and again.json()["id"] == opened.json()["id"]
    assert stranger.status_code == 404
