# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""Documents test set-up: a freight order between a shipper and a carrier, with Cyrillic names,
and the rendering step the Celery task runs, done in the test's own transaction."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.documents import services
from apps.documents.models import GeneratedDocument
from apps.orders import services as order_services
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT

SHIPPER_NAME = "ООО «Балтийские Грузы»"
CARRIER_NAME = "Volga Carriers"


@pytest.fixture
def parties():
    shipper_org = OrganizationFactory(name=SHIPPER_NAME)
    carrier_org = OrganizationFactory(name=CARRIER_NAME)
    return {
        "shipper_org": shipper_org,
        "carrier_org": carrier_org,
        "carrier_admin": member(carrier_org, Role.ORG_ADMIN),
        "shipper": member(shipper_org, Role.SHIPPER),
        "carrier": member(carrier_org, Role.CARRIER),
    }


def _freight_order(parties, shipment: dict):
    with tenant_scope(parties["shipper_org"].id, user_id=parties["shipper"].id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=parties["shipper_org"].id,
                supplier_organization_id=parties["carrier_org"].id,
                currency="EUR",
                items=[
                    order_services.ItemInput(
                        name="Подшипник роликовый 6204", quantity=120, unit_price=Decimal("3.20"), sku="BRG-6204"
                    ),
                    order_services.ItemInput(name="Helical gearbox", quantity=2, unit_price=Decimal("1450.00")),
                ],
                shipping_address={
                    "name": "Склад Казань",
                    "line1": "Сибирский тракт, 34",
                    "city": "Казань",
                    "country": "RU",
                },
                shipment=shipment,
            ),
            actor=Actor(user_id=parties["shipper"].id),
        )


@pytest.fixture
def order(parties):
    """A freight order whose shipment is complete (its documents are not drafts), with the
    parties' Cyrillic and Latin names and two lines of goods."""
    lines = [
        {
            **COMPLETE_SHIPMENT["cargo_lines"][0],
            "nature_of_goods": "Подшипник роликовый 6204",
            "marks_and_numbers": "BRG-6204",
        },
        {**COMPLETE_SHIPMENT["cargo_lines"][0], "nature_of_goods": "Helical gearbox", "dangerous_goods": {}},
    ]
    shipment = {
        **COMPLETE_SHIPMENT,
        "shipper": {**COMPLETE_SHIPMENT["shipper"], "name": SHIPPER_NAME},
        "carrier": {**COMPLETE_SHIPMENT["carrier"], "name": CARRIER_NAME},
        "cargo_lines": lines,
        "received_by": "Irina Sokolova",
        "delivered_at": "2026-12-16T09:30:00+03:00",
    }
    return _freight_order(parties, shipment)


@pytest.fixture
def bare_order(parties):
    """A freight order whose shipment is empty, as a plain `order_create` leaves it."""
    return _freight_order(parties, {})


def render(document_id, organization_id) -> GeneratedDocument:
    """What the Celery task `document_render` does, in this test's transaction."""
    with tenant_scope(organization_id):
        return services.document_render(document_id=document_id)


def generate(client, order, document_type="cmr"):
    return client.post(
        "/api/v1/documents/generate", {"order_id": str(order.id), "document_type": document_type}, format="json"
    )


def generated_and_rendered(client, order, organization, document_type="cmr") -> dict:
    response = generate(client, order, document_type)
    assert response.status_code == 202, response.content
    render(response.json()["id"], organization.id)
    return client.get(f"/api/v1/documents/{response.json()['id']}").json()


def download(client, body) -> bytes:
    response = client.get(body["download_url"])
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def stored(document_id) -> GeneratedDocument:
    with system_scope(reason="test reads a generated document", audit=False):
        return GeneratedDocument.objects.get(pk=document_id)
