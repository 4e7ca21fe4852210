"""The read API's set-up (tracking start, read API, geofences): a shipper with a customer, a
carrier, and a freight order between them on a planned route Hamburg → Warsaw → Berlin;
helpers to move it and to relay its events."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.orders import services as order_services
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT

HAMBURG = {"city": "Hamburg", "country": "DE", "latitude": "53.550000", "longitude": "10.000000"}
WARSAW = {"city": "Warsaw", "country": "PL", "latitude": "52.230000", "longitude": "21.010000"}
BERLIN = {"city": "Berlin", "country": "DE", "latitude": "52.520000", "longitude": "13.405000"}

ROUTE = [
    {"kind": "pickup", "place": HAMBURG, "date_from": "2027-01-11", "date_until": "2027-01-11"},
    {"kind": "stop", "place": WARSAW, "date_until": "2027-01-12"},
    {"kind": "delivery", "place": BERLIN, "date_from": "2027-01-13", "date_until": "2027-01-14"},
]


@dataclass
class Party:
    org: object
    admin: object
    staff: object
    customer: object | None = None


@pytest.fixture
def shipper():
    organization = OrganizationFactory(name="Baltic Shippers")
    return Party(
        org=organization,
        admin=member(organization, Role.ORG_ADMIN),
        staff=member(organization, Role.SHIPPER),
        customer=member(organization, Role.CUSTOMER),
    )


@pytest.fixture
def carrier():
    organization = OrganizationFactory(name="Volga Carriers")
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, Role.CARRIER))


@pytest.fixture
def outsider():
    """A third organization's carrier: a party of nothing here."""
    return member(OrganizationFactory(name="Rhein Logistik"), Role.CARRIER)


def freight_order(shipper, carrier, *, route=ROUTE, customer=None, **shipment):
    """A pending freight order of the shipper to the carrier, its shipment complete and on `route`."""
    data = copy.deepcopy(COMPLETE_SHIPMENT)
    data["route"] = route
    data.update(shipment)
    with tenant_scope(shipper.org.id, user_id=shipper.admin.id):
        order = order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=shipper.org.id,
                supplier_organization_id=carrier.org.id,
                currency="EUR",
                customer_id=customer.id if customer else None,
                items=[order_services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("100"))],
                shipment=data,
            ),
            actor=Actor(user_id=shipper.admin.id),
        )
        order_services.order_change_status(
            order_id=order.id,
            actor=Actor(user_id=shipper.admin.id, organization_id=shipper.org.id, role=Role.ORG_ADMIN),
            status="pending",
        )
    return order


def relay() -> int:
    """Deliver every pending outbox event, each in its publisher's scope, as the relay does
    after commit (a test's transaction never commits); how many were delivered."""
    with system_scope(reason="test: pending events", audit=False):
        pending = list(
            OutboxEvent.objects.filter(published_at__isnull=True)
            .order_by("created_at", "id")
            .values_list("id", "organization_id")
        )
    delivered = 0
    for event_id, organization_id in pending:
        with tenant_scope(organization_id):
            delivered += outbox_relay(organization_id=organization_id, event_ids=[event_id])
    return delivered


def move(api, user, order_id, status, **body):
    response = api(user).post(f"/api/v1/orders/{order_id}/status", {"status": status, **body}, format="json")
    assert response.status_code == 200, response.json()
    relay()
    return response


@pytest.fixture
def confirmed(api, shipper, carrier):
    """A freight order the carrier confirmed, tracked from then on (its events relayed)."""
    order = freight_order(shipper, carrier, customer=shipper.customer)
    relay()
    move(api, carrier.staff, order.id, "confirmed")
    return order
