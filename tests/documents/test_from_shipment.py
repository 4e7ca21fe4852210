# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Documents of a freight order are filled from its structured shipment (issue 16): the CMR's
boxes carry the shipment's parties, places, dates, cargo and instructions; an incomplete
shipment answers 422 DOCUMENT_DATA_INCOMPLETE unless a draft is asked for, marked DRAFT."""

from __future__ import annotations

from datetime import date

import pytest

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.documents.labels import LABELS
from tests.documents.conftest import download, generate, generated_and_rendered, pdf_text, render
from tests.shipments import COMPLETE_SHIPMENT, shipment_fill

pytestmark = pytest.mark.django_db

COMPLETE = COMPLETE_SHIPMENT


@pytest.fixture
def order(bare_order):
    """Each test fills the shipment itself: from empty."""
    return bare_order


def _with_shipment(order, parties, data):
    return shipment_fill(
        order,
        data,
        shipper=(parties["shipper"], parties["shipper_org"]),
        carrier=(parties["carrier"], parties["carrier_org"]),
    )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_cmr_from_a_complete_shipment_fills_its_boxes_from_it(api, parties, order, language):
    _with_shipment(order, parties, COMPLETE)
    client = api(parties["carrier_admin"])
    if language == "ru":
        client.post("/api/v1/documents/templates", {"document_type": "cmr", "language": "ru"}, format="json")

    body = generated_and_rendered(client, order, parties["carrier_org"])
    text = " ".join(pdf_text(download(client, body)).split())
    labels = LABELS[language]

    assert body["status"] == "ready" and body["is_draft"] is False
    for value in (
        "Baltic Shippers GmbH",
        "Jana Weber, +49 40 555 0100",
        "ООО «Волга Карго»",
        "Самара, RU",  # box 3
        "20457 Hamburg",
        "Machine parts (UN 1263, ADR 3, PG III)",
        "BS-001/004",
        "Euro pallets",
        "Keep dry",
        f"{labels['references']}: PO-77821",
        labels["payment.carriage_paid"],
        "Volga Carriers",
        "A123BC 163",
        "Pallet 3 wrapped loosely",
        "Tail-lift vehicle",
    ):
        assert value in text, value
    assert ("10.12.2026" if language == "ru" else date(2026, 12, 10).isoformat()) in text  # box 4's date
    assert "500" in text  # box 11: the gross weight as the shipment says it, not 0
    assert labels["draft"] not in text


def test_an_incomplete_shipment_is_refused_with_its_missing_fields_unless_a_draft_is_asked_for(api, parties, order):
    _with_shipment(order, parties, {key: value for key, value in COMPLETE.items() if key != "consignee"})
    client = api(parties["carrier_admin"])

    refused = generate(client, order)
    asked = client.post(
        "/api/v1/documents/generate", {"order_id": str(order.id), "document_type": "cmr", "draft": True}, format="json"
    )

    assert refused.status_code == 422
    assert refused.json()["error_code"] == "DOCUMENT_DATA_INCOMPLETE"
    assert "consignee.name" in {item["field"] for item in refused.json()["details"]["missing"]}
    assert asked.status_code == 202, asked.json()
    render(asked.json()["id"], parties["carrier_org"].id)
    body = client.get(f"/api/v1/documents/{asked.json()['id']}").json()
    assert body["is_draft"] is True
    assert LABELS["en"]["draft"] in pdf_text(download(client, body))


def test_a_document_made_before_its_shipment_changed_is_outdated_and_the_next_version_is_not(api, parties, order):
    from apps.core.models import OutboxEvent
    from apps.core.services import outbox_relay
    from apps.orders.services.shipments import shipment_update

    _with_shipment(order, parties, COMPLETE)
    client = api(parties["carrier_admin"])
    first = generated_and_rendered(client, order, parties["carrier_org"])
    assert first["outdated_at"] is None

    with tenant_scope(parties["shipper_org"].id, user_id=parties["shipper"].id):
        actor = Actor(user_id=parties["shipper"].id, organization_id=parties["shipper_org"].id, role="shipper")
        shipment_update(actor=actor, order_id=order.id, changes={"sender_instructions": "Keep frozen"})
        event = OutboxEvent.objects.filter(event_type="shipment.updated").latest("created_at")
        assert outbox_relay(organization_id=event.organization_id, event_ids=[event.id]) == 1

    outdated = client.get(f"/api/v1/documents/{first['id']}").json()
    second = generated_and_rendered(client, order, parties["carrier_org"])

    assert outdated["outdated_at"] is not None
    assert second["version"] == first["version"] + 1 and second["outdated_at"] is None
    assert "Keep frozen" in pdf_text(download(client, second))


# What each document must show of the shipment (issue 16, "Documents fill every box").
EXPECTED_BY_TYPE = {
    "bill_of_lading": ["Baltic Shippers GmbH", "ООО «Волга Карго»", "Volga Carriers", "BS-001/004", "Machine parts"],
    "packing_list": ["BS-001/004", "Euro pallets", "Machine parts", "500"],
    "commercial_invoice": ["Baltic Shippers GmbH", "ООО «Волга Карго»", "Machine parts", "848210", "EUR"],
    "certificate_of_origin": ["Baltic Shippers GmbH", "Machine parts", "DE"],
    "proof_of_delivery": ["Самара", "ООО «Волга Карго»", "Volga Carriers", "Machine parts", "Irina Sokolova"],
}
DELIVERED = {"received_by": "Irina Sokolova", "delivered_at": "2026-12-16T09:30:00+03:00"}


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("document_type", list(EXPECTED_BY_TYPE))
def test_every_document_type_is_filled_from_the_shipment(api, parties, order, document_type, language):
    lines = [{**COMPLETE["cargo_lines"][0], "origin_country": "DE"}]
    _with_shipment(order, parties, {**COMPLETE, "cargo_lines": lines, **DELIVERED})
    client = api(parties["carrier_admin"])
    if language == "ru":
        client.post("/api/v1/documents/templates", {"document_type": document_type, "language": "ru"}, format="json")

    body = generated_and_rendered(client, order, parties["carrier_org"], document_type)
    text = " ".join(pdf_text(download(client, body)).split())

    assert body["status"] == "ready", body
    assert LABELS[language][f"title.{document_type}"] in text
    for value in EXPECTED_BY_TYPE[document_type]:
        assert value in text, (document_type, language, value)
    assert "(UN 1263, ADR 3, PG III)" in text or document_type == "certificate_of_origin"
    if document_type == "proof_of_delivery":  # the moment of delivery, in UTC and said so
        assert ("16.12.2026 06:30 UTC" if language == "ru" else "2026-12-16 06:30 UTC") in text


def test_a_proof_of_delivery_needs_who_took_the_goods_and_when(api, parties, order):
    _with_shipment(order, parties, COMPLETE)
    client = api(parties["carrier_admin"])

    refused = generate(client, order, "proof_of_delivery")
    cmr = generate(client, order, "cmr")

    assert refused.status_code == 422
    assert refused.json()["error_code"] == "DOCUMENT_DATA_INCOMPLETE"
    assert [item["field"] for item in refused.json()["details"]["missing"]] == ["received_by", "delivered_at"]
    assert cmr.status_code == 202  # the rest of the documents do not wait for the delivery
