"""Demo data of escrow for `make run` (registered with apps.core.demo, run by `manage.py seed_demo`), made through the
services as the demo users would: a delivered freight order of Baltic Shippers carried by
Volga Carriers, its escrow funded through the sandbox provider (the worker submits the
charge once it is up, and the sandbox's webhook confirms it), and a second order whose
escrow waits for funding. Runs once."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from apps.accounts.services import user_get_by_email
from apps.core.context import system_scope, tenant_scope
from apps.escrow import services
from apps.escrow.models import Escrow
from apps.orders import services as order_services
from apps.tenancy.roles import Actor, Role
from apps.tenancy.selectors import organization_get_by_slug

if TYPE_CHECKING:
    from apps.tenancy.models import Organization


def _actor(email: str, organization: Organization, role: str) -> Actor:
    return Actor(user_id=user_get_by_email(email=email).id, organization_id=organization.id, role=role)


def _order(shipper: Organization, carrier: Organization, shipper_user: Actor, name: str, price: str):
    return order_services.order_create(
        actor=shipper_user,
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=shipper.id,
            supplier_organization_id=carrier.id,
            currency="EUR",
            items=[order_services.ItemInput(name=name, quantity=1, unit_price=Decimal(price))],
        ),
    )


def seed() -> list[str]:
    """Make the demo escrows once; the lines `make run` prints about them."""
    rates = services.exchange_rates_refresh()  # the beat job refreshes them hourly; show equivalents from the start
    with system_scope(reason="seed_demo: escrow", audit=False):
        carrier = organization_get_by_slug(slug="volga-carriers")
        shipper = organization_get_by_slug(slug="baltic-shippers")
        if Escrow.objects.filter(client_organization=shipper).exists():
            return [f"  escrow: demo escrows already there; {rates} exchange rates (display only)"]
    shipper_user = _actor("shipper@baltic-shippers.demo", shipper, Role.SHIPPER)
    with tenant_scope(shipper.id, user_id=shipper_user.user_id):
        funded_order = _order(shipper, carrier, shipper_user, "Freight Tallinn → Kazan, 6 pallets", "2450.00")
        waiting_order = _order(shipper, carrier, shipper_user, "Freight Riga → Moscow, 2 pallets", "980.00")
        funded = services.escrow_create(actor=shipper_user, order_id=funded_order.id)
        services.escrow_fund(actor=shipper_user, escrow_id=funded.id, payment_method="pm_card_ok")
        waiting = services.escrow_create(actor=shipper_user, order_id=waiting_order.id)
    return [
        f"  escrow: {funded.number} ({funded.amount} EUR) funding through the sandbox provider;"
        f" {waiting.number} ({waiting.amount} EUR) waiting for funding; {rates} exchange rates (display only)",
    ]
