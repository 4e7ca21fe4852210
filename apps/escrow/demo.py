"""Demo data of escrow for `make run` (registered with apps.core.demo, run by `manage.py seed_demo`), made through the
services as the demo users would: a delivered freight order of Baltic Shippers carried by
Volga Carriers, its escrow funded through the sandbox provider (the worker submits the
charge once it is up, and the sandbox's webhook confirms it), and a second order whose
escrow waits for funding. Both orders carry a complete shipment, so the first CMR a newcomer
generates has every box filled. Runs once."""

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


def _order(shipper: Organization, carrier: Organization, shipper_user: Actor, name: str, price: str, shipment: dict):
    return order_services.order_create(
        actor=shipper_user,
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=shipper.id,
            supplier_organization_id=carrier.id,
            currency="EUR",
            items=[order_services.ItemInput(name=name, quantity=1, unit_price=Decimal(price))],
            shipment=shipment,
        ),
    )


def _shipment(origin: tuple[str, str, str], destination: tuple[str, str, str], pallets: int, weight: str) -> dict:
    """A shipment with every box of a CMR filled: (street, city, country) at each end."""
    street, city, country = origin
    to_street, to_city, to_country = destination
    return {
        "shipper": {
            "name": "Baltic Shippers",
            "address_lines": [street],
            "city": city,
            "country": country,
            "contact_person": "Shipping desk",
            "phone": "+372 600 0100",
            "tax_id": "EE100200300",
        },
        "consignee": {
            "name": "Volga Distribution",
            "address_lines": [to_street],
            "city": to_city,
            "country": to_country,
            "contact_person": "Warehouse reception",
        },
        "carrier": {"name": "Volga Carriers", "address_lines": ["Portovaya 5"], "city": "Samara", "country": "RU"},
        "taking_over": {"address_lines": [street], "city": city, "country": country, "date": "2026-12-10"},
        "delivery": {"address_lines": [to_street], "city": to_city, "country": to_country, "date_until": "2026-12-16"},
        "cargo_lines": [
            {
                "marks_and_numbers": f"BS-001/{pallets:03d}",
                "number_of_packages": pallets,
                "method_of_packing": "Euro pallets",
                "nature_of_goods": "Machine parts",
                "hs_code": "848210",
                "origin_country": country,
                "gross_weight_kg": weight,
            }
        ],
        "incoterms": "FCA",
        "incoterms_place": city,
        "sender_instructions": "Keep dry; do not stack",
        "payment_instructions": "carriage_paid",
        "customer_reference": "PO-2026-0042",
        "vehicle_plate": "A123BC 163",
        "trailer_plate": "AB 1234 63",
        "driver_name": "Ivan Petrov",
    }


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
        funded_order = _order(
            shipper,
            carrier,
            shipper_user,
            "Freight Tallinn → Kazan, 6 pallets",
            "2450.00",
            _shipment(("Sadama 25", "Tallinn", "EE"), ("Sibirsky trakt 34", "Kazan", "RU"), 6, "2400"),
        )
        waiting_order = _order(
            shipper,
            carrier,
            shipper_user,
            "Freight Riga → Moscow, 2 pallets",
            "980.00",
            _shipment(("Krasta iela 101", "Riga", "LV"), ("Kashirskoye sh. 61", "Moscow", "RU"), 2, "640"),
        )
        funded = services.escrow_create(actor=shipper_user, order_id=funded_order.id)
        services.escrow_fund(actor=shipper_user, escrow_id=funded.id, payment_method="pm_card_ok")
        waiting = services.escrow_create(actor=shipper_user, order_id=waiting_order.id)
    return [
        f"  escrow: {funded.number} ({funded.amount} EUR, its order's shipment complete: generate its CMR)"
        " funding through the sandbox provider;"
        f" {waiting.number} ({waiting.amount} EUR) waiting for funding; {rates} exchange rates (display only)",
    ]
