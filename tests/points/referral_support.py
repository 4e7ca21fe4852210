"""What the referral tests share: a sign-up through the API, the person's code, and an order
their organization completes through the orders services (as its parties would)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from apps.core.context import system_scope, tenant_scope, user_scope
from apps.orders import services as orders
from apps.points import services
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, member
from tests.points.conftest import actor_of
from tests.shipments import COMPLETE_SHIPMENT

PASSWORD = "correct-horse-battery-staple-7"


def code_of(user) -> str:
    with user_scope(user.id):
        return services.referral_code_get_or_create(user_id=user.id).code


def sign_up(api, email: str, *, referral_code: str = "", organization_name: str = "", first_name: str = "Nina"):
    body = {"email": email, "password": PASSWORD, "first_name": first_name, "last_name": "Petrova"}
    if referral_code:
        body["referral_code"] = referral_code
    if organization_name:
        body["organization_name"] = organization_name
    return api().post("/api/v1/auth/register", body, format="json")


def user_with(email: str):
    return get_user_model().objects.filter(email=email).first()


def administered(user):
    """The organization the person administers (the one they created at sign-up)."""
    with system_scope(reason="test: the person's organization", audit=False):
        return Membership.objects.select_related("organization").get(user=user, role=Role.ORG_ADMIN).organization


def complete_an_order(client_user, client_organization):
    """A freight order of `client_organization` with a new carrier, taken to completed: submitted
    and completed by the client's person, confirmed, shipped and delivered by the carrier."""
    carrier_organization = OrganizationFactory(name="Volga Carriers")
    return order_as_supplier(
        client_user, client_organization, supplier=(member(carrier_organization, Role.CARRIER), carrier_organization)
    )


def order_as_supplier(client_user, client_organization, *, supplier):
    """A freight order between the two, taken to completed by its parties through the service."""
    carrier, carrier_organization = supplier
    client = actor_of(client_user, client_organization)
    with tenant_scope(client_organization.id, user_id=client_user.id):
        order = orders.order_create(
            order_input=orders.OrderInput(
                kind="freight",
                client_organization_id=client_organization.id,
                supplier_organization_id=carrier_organization.id,
                currency="EUR",
                items=[orders.ItemInput(name="FTL Hamburg - Samara", quantity=1, unit_price=Decimal("2450.00"))],
                shipping_address={"country": "RU", "city": "Samara", "line1": "Portovaya 5"},
                shipment=COMPLETE_SHIPMENT,
            ),
            actor=Actor(user_id=client_user.id),
        )
    steps = [
        (client_user, client_organization, client, "pending"),
        (carrier, carrier_organization, actor_of(carrier, carrier_organization), "confirmed"),
        (carrier, carrier_organization, actor_of(carrier, carrier_organization), "in_transit"),
        (carrier, carrier_organization, actor_of(carrier, carrier_organization), "delivered"),
        (client_user, client_organization, client, "completed"),
    ]
    for user, organization, actor, status in steps:
        with tenant_scope(organization.id, user_id=user.id):
            orders.order_change_status(order_id=order.id, actor=actor, status=status)
    return order
