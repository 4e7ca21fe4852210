"""Generation end to end: the API answers 202, a real Celery worker renders, the PDF downloads."""

from __future__ import annotations

from decimal import Decimal

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders import services as order_services
from apps.tenancy.roles import Role
from tests.documents.conftest import download, generate, pdf_text
from tests.factories import OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT
from tests.support import wait_until


def test_a_real_worker_renders_a_generated_document_and_the_api_serves_it(api, celery_worker):
    # given a freight order between a shipper and a carrier (committed)
    shipper_org, carrier_org = OrganizationFactory(name="Baltic Shippers"), OrganizationFactory(name="Volga Carriers")
    shipper, carrier = member(shipper_org, Role.SHIPPER), member(carrier_org, Role.CARRIER)
    with tenant_scope(shipper_org.id, user_id=shipper.id):
        order = order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=shipper_org.id,
                supplier_organization_id=carrier_org.id,
                currency="EUR",
                items=[order_services.ItemInput(name="Pallet of bearings", quantity=4, unit_price=Decimal("90"))],
                shipment=COMPLETE_SHIPMENT,
            ),
            actor=Actor(user_id=shipper.id),
        )
    client = api(carrier)
    # when the carrier asks for the CMR
    response = generate(client, order, "cmr")
    assert response.status_code == 202
    document_id = response.json()["id"]

    # then the worker renders it and the API serves the PDF
    def rendered() -> bool:
        return client.get(f"/api/v1/documents/{document_id}").json()["status"] != "pending"

    assert wait_until(rendered, timeout=30), "the worker never rendered the document"
    body = client.get(f"/api/v1/documents/{document_id}").json()
    assert body["status"] == "ready", body
    assert order.number in pdf_text(download(client, body))
