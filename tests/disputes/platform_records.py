"""Records the platform holds about an order, made the way their own contexts make them, for the
evidence-link and timeline tests: a case, a tracked shipment's events, a generated document, chat
messages, a return with photos."""

from __future__ import annotations

import io
import json
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.core.context import tenant_scope
from apps.documents import services as document_services
from apps.tracking.models import TrackedShipment
from apps.tracking.services.ingest import events_record
from tests.escrow.parties import Party


def open_case(api, party: Party, order, **overrides) -> dict:
    body = {
        "order_id": str(order.id),
        "reason_category": "damaged",
        "description": "Two pallets arrived crushed.",
        "amount_claimed": "300.00",
        "outcome_requested": "partial_refund",
        **overrides,
    }
    response = api(party.staff).post("/api/v1/disputes", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def add_evidence(api, party: Party, case: dict, **body):
    return api(party.staff).post(f"/api/v1/disputes/{case['id']}/evidence", body, format="json")


def link(api, party: Party, case: dict, record_type: str, record_id, **body):
    return add_evidence(api, party, case, link={"type": record_type, "id": str(record_id)}, **body)


def png(colour: str = "brown") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


# --- tracking -------------------------------------------------------------------------------


def tracked_shipment_of(client: Party, order) -> TrackedShipment:
    """The order's tracked shipment, as tracking starts one for a confirmed freight order."""
    with tenant_scope(client.org.id):
        return TrackedShipment.objects.create(
            kind="order",
            order_id=order.id,
            client_organization_id=order.client_organization_id,
            supplier_organization_id=order.supplier_organization_id,
            tracking_number=f"MF{secrets.token_hex(5).upper()}",
            reference=order.number,
            status="in_transit",
        )


def tracking_events(supplier: Party, shipment: TrackedShipment, *addresses: str) -> list[UUID]:
    """The carrier's manual milestones at `addresses`, a minute apart; their ids, in that order."""
    now = datetime.now(UTC)
    rows = [
        {
            "event_type": "milestone",
            "occurred_at": (now - timedelta(minutes=len(addresses) - index)).isoformat(),
            "address": address,
            "description": f"Arrived at {address}",
        }
        for index, address in enumerate(addresses)
    ]
    with tenant_scope(supplier.org.id, user_id=supplier.staff.id):
        result = events_record(shipment=shipment, rows=rows, source="manual", actor=supplier.actor())
    assert not result.rejected, result.rejected
    from apps.tracking.models import TrackingEvent

    with tenant_scope(supplier.org.id):
        by_address = dict(TrackingEvent.objects.filter(shipment_id=shipment.id).values_list("address", "id"))
    return [by_address[address] for address in addresses]


# --- documents ------------------------------------------------------------------------------


def generated_document(party: Party, order, document_type: str = "cmr"):
    with tenant_scope(party.org.id, user_id=party.staff.id):
        return document_services.document_generate(
            organization_id=party.org.id, actor=party.actor(), order_id=order.id, document_type=document_type
        )


# --- chat -----------------------------------------------------------------------------------


def thread_about(api, party: Party, subject_type: str, subject_id) -> str:
    response = api(party.staff).post(
        "/api/v1/chat/threads", {"subject_type": subject_type, "subject_id": str(subject_id)}, format="json"
    )
    assert response.status_code in (200, 201), response.json()
    return response.json()["id"]


def say(api, party: Party, thread_id: str, text: str) -> dict:
    response = api(party.staff).post(f"/api/v1/chat/threads/{thread_id}/messages", {"text": text}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


# --- returns --------------------------------------------------------------------------------


def delivered(api, client: Party, supplier: Party, order) -> None:
    """Submitted by the client; confirmed, carried and delivered by the carrier."""
    moves = [(client, "pending"), (supplier, "confirmed"), (supplier, "in_transit"), (supplier, "delivered")]
    for party, status in moves:
        response = api(party.staff).post(f"/api/v1/orders/{order.id}/status", {"status": status}, format="json")
        assert response.status_code == 200, response.json()


def returned_with_photo(api, client: Party, order, filename: str = "crushed.png") -> dict:
    """A return of the order's first line asked for by the client's admin, with one photo."""
    detail = api(client.admin).get(f"/api/v1/orders/{order.id}").json()
    response = api(client.admin).post(
        "/api/v1/returns",
        {
            "order": str(order.id),
            "reason": "Crushed on arrival",
            "items": json.dumps([{"order_item": detail["items"][0]["id"], "quantity": 1}]),
            "photos": [SimpleUploadedFile(filename, png(), "image/png")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()
