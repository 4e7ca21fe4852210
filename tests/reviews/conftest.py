"""Reviews set-up: a completed service order between a customer organization and an expert's,
and a freight order awarded from a carrier's offering and driven to completed through the real
marketplace and orders API."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.core.context import system_scope
from apps.service.models import ExpertPassport
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.marketplace.conftest import Party, offer_body, rfq_body
from tests.marketplace.factories import OfferingFactory, VerificationFactory
from tests.reviews.factories import ExpertFactory, ServiceOrderFactory

URL = "/api/v1/reviews"


@dataclass
class Field:
    """Both sides of field service: the customer organization and the expert's."""

    customer_org: object
    customer: object  # the member who ordered the work (role customer)
    customer_admin: object
    expert_org: object
    expert_user: object  # the expert (role expert)
    expert: ExpertPassport
    order: object  # a completed service order of `customer`, worked by `expert`


def completed_service_order(field: Field, *, customer=None, **fields):
    """Another service order the expert completed for the customer organization."""
    customer = customer or field.customer
    return ServiceOrderFactory(
        organization=field.customer_org, expert=field.expert, customer=customer, created_by=customer, **fields
    )


@pytest.fixture
def field() -> Field:
    customer_org, expert_org = OrganizationFactory(name="Kama Pumps"), OrganizationFactory(name="Volga Service")
    customer = member(customer_org, Role.CUSTOMER)
    expert_user = member(expert_org, Role.EXPERT)
    expert = ExpertFactory(organization=expert_org, user=expert_user, display_name="Ivan Petrov")
    result = Field(
        customer_org=customer_org,
        customer=customer,
        customer_admin=member(customer_org, Role.ORG_ADMIN),
        expert_org=expert_org,
        expert_user=expert_user,
        expert=expert,
        order=None,
    )
    result.order = completed_service_order(result)
    return result


def expert_rating(expert) -> tuple[Decimal, int]:
    with system_scope(reason="test: the expert's rating", audit=False):
        stored = ExpertPassport.objects.get(pk=expert.pk)
    return stored.rating_average, stored.rating_count


def review_body(subject_type: str, subject_id, *, rating=5, text="Quick, careful work.") -> dict:
    return {"subject_type": subject_type, "subject_id": str(subject_id), "rating": rating, "text": text}


def post_review(api, user, subject_type: str, subject_id, organization=None, headers=None, **body):
    return api(user, organization).post(
        URL, review_body(subject_type, subject_id, **body), format="json", **(headers or {})
    )


# --- Freight ----------------------------------------------------------------------------------


def _party(name: str, role: str, **address) -> Party:
    organization = OrganizationFactory(name=name, **address)
    VerificationFactory(organization=organization)
    return Party(org=organization, admin=member(organization, Role.ORG_ADMIN), staff=member(organization, role))


@pytest.fixture
def shipper() -> Party:
    return _party(
        "Baltic Shippers", Role.SHIPPER, legal_name="Baltic Shippers GmbH", address_line1="Kai 1", city="Hamburg"
    )


@pytest.fixture
def carrier() -> Party:
    return _party("Volga Carriers", Role.CARRIER)


@pytest.fixture
def offering(carrier):
    return OfferingFactory(organization=carrier.org, pricing_model="fixed", base_price=Decimal("1800.0000"))


def awarded_freight_order(api, shipper: Party, carrier: Party, offering=None) -> str:
    """An RFQ published by the shipper, the carrier's offer (made from `offering` when given)
    accepted: the freight order's id."""
    rfq = api(shipper.staff).post("/api/v1/rfqs", rfq_body(), format="json")
    assert rfq.status_code == 201, rfq.json()
    assert api(shipper.staff).post(f"/api/v1/rfqs/{rfq.json()['id']}/publish").status_code == 200
    body = offer_body(service_offering=str(offering.id)) if offering is not None else offer_body()
    offer = api(carrier.staff).post(f"/api/v1/rfqs/{rfq.json()['id']}/offers", body, format="json")
    assert offer.status_code == 201, offer.json()
    accepted = api(shipper.staff).post(f"/api/v1/offers/{offer.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.json()
    return accepted.json()["order"]


def drive_freight_order(
    api, shipper: Party, carrier: Party, order_id: str, *, until: str = "completed", confirmed: bool = False
) -> None:
    """Complete the shipment as each party would, then move the order through its lifecycle
    (the carrier confirms, unless `confirmed` already, loads and delivers, the shipper
    completes) up to `until`."""
    shipment = f"/api/v1/orders/{order_id}/shipment"
    consignee = {"name": "Mazovia Machines", "address_lines": ["Prosta 20"], "city": "Warsaw", "country": "PL"}
    own_address = {"name": "Volga Carriers", "address_lines": ["Portovaya 5"], "city": "Samara", "country": "RU"}
    by_shipper = api(shipper.staff).patch(shipment, {"consignee": consignee}, format="json")
    assert by_shipper.status_code == 200, by_shipper.json()
    by_carrier = api(carrier.staff).patch(shipment, {"vehicle_plate": "A123BC", "carrier": own_address}, format="json")
    assert by_carrier.status_code == 200, by_carrier.json()
    moves = [(carrier, "confirmed"), (carrier, "in_transit"), (carrier, "delivered"), (shipper, "completed")]
    for party, status in moves[1:] if confirmed else moves:
        moved = api(party.staff).post(f"/api/v1/orders/{order_id}/status", {"status": status}, format="json")
        assert moved.status_code == 200, (status, moved.json())
        if status == until:
            return


@pytest.fixture
def freight_order(api, shipper, carrier, offering) -> str:
    """A freight order awarded from the carrier's offering and completed: its id."""
    order_id = awarded_freight_order(api, shipper, carrier, offering)
    drive_freight_order(api, shipper, carrier, order_id)
    return order_id
