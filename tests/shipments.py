# Russian text is the point here: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001
"""A complete freight shipment for tests (every value a CMR needs), and filling one in through
the shipment service as each party would."""

from __future__ import annotations

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders.services import shipment_update
from apps.orders.shipment_schema import CARRIER_FIELDS
from apps.tenancy.roles import Role

COMPLETE_SHIPMENT = {
    "shipper": {
        "name": "Baltic Shippers GmbH",
        "address_lines": ["Am Sandtorkai 5"],
        "postcode": "20457",
        "city": "Hamburg",
        "country": "DE",
        "tax_id": "DE811234567",
        "contact_person": "Jana Weber",
        "phone": "+49 40 555 0100",
    },
    "consignee": {"name": "ООО «Волга Карго»", "address_lines": ["ул. Портовая, 5"], "city": "Самара", "country": "RU"},
    "carrier": {"name": "Volga Carriers", "address_lines": ["Portovaya 5"], "city": "Samara", "country": "RU"},
    "taking_over": {"address_lines": ["Am Sandtorkai 5"], "city": "Hamburg", "country": "DE", "date": "2026-12-10"},
    "delivery": {"address_lines": ["ул. Портовая, 5"], "city": "Самара", "country": "RU", "date_until": "2026-12-16"},
    "cargo_lines": [
        {
            "marks_and_numbers": "BS-001/004",
            "number_of_packages": 4,
            "method_of_packing": "Euro pallets",
            "nature_of_goods": "Machine parts",
            "hs_code": "848210",
            "gross_weight_kg": "500",
            "volume_m3": "6",
            "dangerous_goods": {"un_number": "1263", "adr_class": "3", "packing_group": "III"},
        }
    ],
    "sender_instructions": "Keep dry",
    "payment_instructions": "carriage_paid",
    "special_agreements": "Tail-lift vehicle",
    "customer_reference": "PO-77821",
    "vehicle_plate": "A123BC 163",
    "carrier_reservations": "Pallet 3 wrapped loosely",
}


def shipment_fill(order, data: dict, *, shipper, carrier):
    """Set `data` on the order's shipment through the service: the shipper's part as the
    shipper's member, the carrier's as the carrier's; each a (user, organization) pair, acting
    as its organization's admin."""
    shipment = None
    for (user, organization), part in (
        (shipper, {key: value for key, value in data.items() if key not in CARRIER_FIELDS}),
        (carrier, {key: value for key, value in data.items() if key in CARRIER_FIELDS}),
    ):
        if part:
            with tenant_scope(organization.id, user_id=user.id):
                actor = Actor(user_id=user.id, organization_id=organization.id, role=Role.ORG_ADMIN)
                shipment = shipment_update(actor=actor, order_id=order.id, changes=part)
    return shipment
