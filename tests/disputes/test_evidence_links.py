"""Evidence that links a record the platform already holds about the case's order: a tracking
event, a generated document, a chat message, a photo of a return. The link keeps what the record
said then; a record of anything else is 422 on `link` (never a 404 that would tell it exists)
and changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.disputes.models import DisputeEvidence
from tests.disputes.platform_records import (
    add_evidence,
    delivered,
    generated_document,
    link,
    open_case,
    png,
    returned_with_photo,
    say,
    thread_about,
    tracked_shipment_of,
    tracking_events,
)
from tests.escrow.parties import order_between

pytestmark = pytest.mark.django_db


def evidence_count(case: dict) -> int:
    with system_scope(reason="test: count evidence"):
        return DisputeEvidence.objects.filter(dispute_id=case["id"]).count()


def evidence_events(case: dict) -> int:
    with system_scope(reason="test: count events"):
        return OutboxEvent.objects.filter(event_type="dispute.evidence_added", aggregate_id=case["id"]).count()


def test_a_tracking_event_of_the_order_is_linked_with_what_it_said(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    shipment = tracked_shipment_of(client_party, order)
    [at_warsaw] = tracking_events(supplier_party, shipment, "Warsaw hub")

    response = link(api, client_party, case, "tracking_event", at_warsaw, statement="Still whole in Warsaw.")

    assert response.status_code == 201, response.json()
    evidence = response.json()
    assert evidence["kind"] == "link" and evidence["statement"] == "Still whole in Warsaw."
    assert evidence["linked_type"] == "tracking_event" and evidence["linked_id"] == str(at_warsaw)
    summary = evidence["linked_summary"]
    assert summary["event_type"] == "milestone" and summary["address"] == "Warsaw hub"
    assert summary["description"] == "Arrived at Warsaw hub" and summary["occurred_at"]
    assert evidence["download_url"] is None
    assert evidence_events(case) == 1


def test_a_link_from_the_awaited_side_is_its_answer(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    document = generated_document(supplier_party, order, "cmr")

    response = link(api, supplier_party, case, "document", document.id)

    assert response.status_code == 201, response.json()
    assert response.json()["added_by_side"] == "supplier"
    after = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()
    assert after["status"] == "under_review"
    assert after["evidence"][0]["linked_summary"]["document_type"] == "cmr"


def test_a_document_of_the_order_is_summarised_as_it_was_when_linked(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    document = generated_document(client_party, order, "commercial_invoice")

    response = link(api, client_party, case, "document", document.id)

    assert response.status_code == 201, response.json()
    summary = response.json()["linked_summary"]
    assert summary["document_type"] == "commercial_invoice" and summary["version"] == 1
    assert summary["number"] == f"{order.number} v1"
    assert summary["status"] == "pending" and summary["signed"] is False and summary["signed_at"] is None


def test_messages_of_the_orders_or_the_cases_chat_are_linked(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    order_thread = thread_about(api, supplier_party, "order", order.id)
    case_thread = thread_about(api, client_party, "dispute", case["id"])
    promise = say(api, supplier_party, order_thread, "The pallets were wrapped twice, I promise.")
    admission = say(api, supplier_party, case_thread, "The forklift may have touched one.")

    from_order = link(api, client_party, case, "chat_message", promise["id"])
    from_case = link(api, client_party, case, "chat_message", admission["id"])

    assert from_order.status_code == 201, from_order.json()
    assert from_case.status_code == 201, from_case.json()
    summary = from_order.json()["linked_summary"]
    assert summary["body_excerpt"] == "The pallets were wrapped twice, I promise."
    assert summary["sender_organization_id"] == str(supplier_party.org.id)
    assert summary["sender_organization_name"] == "Volga Carriers" and summary["sent_at"]
    assert from_case.json()["linked_summary"]["thread_id"] == case_thread


def test_a_deleted_message_cannot_be_linked(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    thread = thread_about(api, supplier_party, "order", order.id)
    message = say(api, supplier_party, thread, "Sorry, wrong address.")
    assert api(supplier_party.staff).delete(f"/api/v1/chat/messages/{message['id']}").status_code in (200, 204)

    response = link(api, client_party, case, "chat_message", message["id"])

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID" and "link" in response.json()["details"]
    assert evidence_count(case) == 0


def test_a_photo_of_a_return_of_the_order_is_linked(api, client_party, supplier_party, order):
    delivered(api, client_party, supplier_party, order)
    order_return = returned_with_photo(api, client_party, order, "crushed.png")
    case = open_case(api, client_party, order)
    photo_id = order_return["photos"][0]["id"]

    response = link(api, supplier_party, case, "return_photo", photo_id, statement="This box was not ours.")

    assert response.status_code == 201, response.json()
    summary = response.json()["linked_summary"]
    assert summary["filename"] == "crushed.png" and summary["content_type"] == "image/png"
    assert summary["return_id"] == order_return["id"] and summary["return_reason"] == "Crushed on arrival"


def test_records_of_another_order_are_refused_and_change_nothing(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    other_order = order_between(client_party, supplier_party)
    [elsewhere] = tracking_events(supplier_party, tracked_shipment_of(client_party, other_order), "Poznań")
    other_document = generated_document(client_party, other_order)
    other_thread = thread_about(api, client_party, "order", other_order.id)
    other_message = say(api, supplier_party, other_thread, "About the other load.")

    responses = [
        link(api, client_party, case, "tracking_event", elsewhere),
        link(api, client_party, case, "document", other_document.id),
        link(api, client_party, case, "chat_message", other_message["id"]),
        link(api, client_party, case, "return_photo", uuid.uuid4()),
        # The right id under the wrong kind is not that record either.
        link(api, client_party, case, "document", elsewhere),
    ]

    assert [r.status_code for r in responses] == [422] * 5
    assert {r.json()["error_code"] for r in responses} == {"VALIDATION_FIELD_INVALID"}
    assert all(set(r.json()["details"]) == {"link"} for r in responses)
    assert evidence_count(case) == 0 and evidence_events(case) == 0
    assert api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()["status"] == "created"


def test_another_organizations_record_answers_as_one_that_does_not_exist(
    api, client_party, supplier_party, outsider, order
):
    case = open_case(api, client_party, order)
    outsiders_order = order_between(outsider, supplier_party)
    outsiders_document = generated_document(outsider, outsiders_order)

    foreign = link(api, client_party, case, "document", outsiders_document.id)
    missing = link(api, client_party, case, "document", uuid.uuid4())

    assert foreign.status_code == missing.status_code == 422
    assert foreign.json()["details"] == missing.json()["details"]
    assert evidence_count(case) == 0


def test_a_link_goes_alone_or_with_a_statement_never_with_a_file(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    document = generated_document(client_party, order)

    with_file = api(client_party.staff).post(
        f"/api/v1/disputes/{case['id']}/evidence",
        {
            # A form cannot carry the link's object: a link goes as JSON, a file as a form.
            "link": json.dumps({"type": "document", "id": str(document.id)}),
            "file": SimpleUploadedFile("cmr.png", png(), content_type="image/png"),
        },
        format="multipart",
    )
    unknown_kind = add_evidence(api, client_party, case, link={"type": "invoice", "id": str(document.id)})
    bare = link(api, client_party, case, "document", document.id)

    assert with_file.status_code == 400 and "link" in with_file.json()["details"]
    assert unknown_kind.status_code == 400 and "link" in unknown_kind.json()["details"]
    assert bare.status_code == 201 and bare.json()["statement"] == ""
    assert evidence_count(case) == 1


def test_a_link_to_a_case_that_is_over_is_refused(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    document = generated_document(client_party, order)
    api(client_party.staff).put(f"/api/v1/disputes/{case['id']}/status", {"status": "withdrawn"}, format="json")

    response = link(api, client_party, case, "document", document.id)

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert evidence_count(case) == 0


def test_the_summary_stays_what_the_record_said_when_it_was_linked(api, client_party, supplier_party, order):
    case = open_case(api, client_party, order)
    thread = thread_about(api, supplier_party, "order", order.id)
    message = say(api, supplier_party, thread, "Delivered on Monday.")
    assert link(api, client_party, case, "chat_message", message["id"]).status_code == 201

    edited = api(supplier_party.staff).put(
        f"/api/v1/chat/messages/{message['id']}", {"text": "Delivered on Tuesday."}, format="json"
    )

    assert edited.status_code == 200, edited.json()
    evidence = api(client_party.staff).get(f"/api/v1/disputes/{case['id']}").json()["evidence"]
    assert evidence[0]["linked_summary"]["body_excerpt"] == "Delivered on Monday."
