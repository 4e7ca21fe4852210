"""The handover from the marketplace to the orders context: the freight order an award or a
booking becomes, and the pieces of its structured shipment both build alike (the shipper as
a party, places, the cargo line), so that both produce the same complete shipment."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from apps.orders import services as order_services
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_get


@dataclass(frozen=True)
class FreightOrder:
    """What the freight order of an award or a booking says: parties, price, line, shipment."""

    client_organization_id: UUID
    supplier_organization_id: UUID
    currency: str
    price: Decimal
    item_name: str
    metadata: dict
    shipment: dict
    created_note: str
    submitted_note: str


def freight_order_create(*, actor: Actor, order: FreightOrder) -> UUID:
    """The freight order, its shipment, submitted to `pending`, through the orders context, in
    the caller's transaction; its id."""
    created = order_services.order_create(
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=order.client_organization_id,
            supplier_organization_id=order.supplier_organization_id,
            currency=order.currency,
            items=[order_services.ItemInput(name=order.item_name, quantity=1, unit_price=order.price)],
            metadata=order.metadata,
            shipment=order.shipment,
        ),
        actor=actor,
        note=order.created_note,
    )
    order_services.order_change_status(order_id=created.id, actor=actor, status="pending", note=order.submitted_note)
    return created.id


def route_label(origin: dict, destination: dict) -> str:
    """The route on the order's line, e.g. "Hamburg → Warsaw" (a country where no city is known)."""
    return f"{origin.get('city') or origin['country']} → {destination.get('city') or destination['country']}"


COORDINATE_STEP = Decimal("0.000001")  # a shipment's place keeps six decimals (about 0.1 m)


def shipment_place(place: dict) -> dict:
    """A marketplace place ({country, city, address, latitude, longitude}) as a shipment's
    place; its coordinates (both, or none) carried over for the tracked route."""
    shipment_place = {
        "address_lines": [place["address"]] if place.get("address") else [],
        "city": place.get("city") or "",
        "country": place["country"],
    }
    if place.get("latitude") is not None and place.get("longitude") is not None:
        for name in ("latitude", "longitude"):
            shipment_place[name] = str(Decimal(str(place[name])).quantize(COORDINATE_STEP))
    return shipment_place


def present(**values) -> dict:
    """The values an organization has filled in (an empty country is no country)."""
    return {key: value for key, value in values.items() if value}


def shipper_party(*, organization_id: UUID) -> dict:
    """The shipper's organization as the shipment's shipper (CMR box 1). Runs for the shipper:
    row-level security lets it read its own organization only."""
    shipper = organization_get(organization_id=organization_id)
    return present(
        name=shipper.legal_name or shipper.name,
        address_lines=[line for line in (shipper.address_line1, shipper.address_line2) if line],
        postcode=shipper.postal_code,
        city=shipper.city,
        country=shipper.country,
        phone=shipper.contact_phone,
        email=shipper.contact_email,
        tax_id=shipper.tax_id,
    )


def _text(value) -> str | None:
    return None if value is None else str(value)


def cargo_line(
    *,
    nature_of_goods: str,
    weight_kg,
    pallet_count: int | None = None,
    volume_cbm=None,
    length_cm: int | None = None,
    width_cm: int | None = None,
    height_cm: int | None = None,
    hazmat_class: str = "",
    temperature_min_c=None,
    temperature_max_c=None,
    declared_value=None,
    currency: str = "",
) -> dict:
    """One cargo line of what was asked for (an RFQ's cargo, a quote's shipment)."""
    line = {
        "nature_of_goods": nature_of_goods,
        "gross_weight_kg": _text(weight_kg),
        "number_of_packages": pallet_count,
        "method_of_packing": "pallets" if pallet_count else "",
        "volume_m3": _text(volume_cbm),
        "dimensions": {"length_cm": length_cm, "width_cm": width_cm, "height_cm": height_cm},
    }
    if hazmat_class:
        line["dangerous_goods"] = {"adr_class": hazmat_class}
    if temperature_min_c is not None or temperature_max_c is not None:
        line["temperature"] = {"min_c": _text(temperature_min_c), "max_c": _text(temperature_max_c)}
    if declared_value is not None:
        line["declared_value"] = {"amount": str(declared_value), "currency": currency}
    return line
