"""A shipping document's content from a freight order's structured shipment (apps.orders'
Shipment): every party, place, date, cargo line and instruction the boxes ask for.

Plain mapping, no queries: the caller reads the order and its shipment (apps.orders.selectors)
and hands both in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from apps.documents.content import DocumentType, LineItem, Party, ShipmentDocument


def _city_line(values: dict) -> str:
    return " ".join(part for part in (values.get("postcode") or "", values.get("city") or "") if part)


def _party(values: dict | None) -> Party | None:
    values = values or {}
    if not values.get("name"):
        return None
    city = _city_line(values)
    contact = ", ".join(
        part for part in (values.get(key) or "" for key in ("contact_person", "phone", "email")) if part
    )
    return Party(
        name=values["name"],
        address_lines=tuple(line for line in (*(values.get("address_lines") or ()), city) if line),
        country=values.get("country") or "",
        tax_id=values.get("tax_id") or "",
        contact=contact,
    )


def _place(values: dict | None) -> str:
    values = values or {}
    lines = [*(values.get("address_lines") or ())]
    return ", ".join(part for part in (*lines, _city_line(values), values.get("country") or "") if part)


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _dangerous_goods(values: dict | None) -> str:
    values = values or {}
    parts = []
    if values.get("un_number"):
        parts.append(f"UN {values['un_number']}")
    if values.get("adr_class"):
        parts.append(f"ADR {values['adr_class']}")
    if values.get("packing_group"):
        parts.append(f"PG {values['packing_group']}")
    return ", ".join(parts)


def _line(index: int, values: dict, currency: str) -> LineItem:
    declared = values.get("declared_value") or {}
    # A line's declared value prices it on a document in the same currency (the commercial
    # invoice); in another currency it is not converted: the line shows no price.
    price = Decimal(str(declared["amount"])) if declared.get("currency") == currency else Decimal(0)
    packages = values.get("number_of_packages") or 1
    volume = values.get("volume_m3")
    return LineItem(
        sku=values.get("marks_and_numbers") or f"{index}",
        description=values.get("nature_of_goods") or "-",
        quantity=Decimal(packages),
        unit="pkg",
        unit_price=price / packages,
        currency=currency,
        weight_kg=Decimal(str(values.get("gross_weight_kg") or 0)),
        origin_country=values.get("origin_country") or "",
        hs_code=values.get("hs_code") or "",
        packages=packages,
        packaging=values.get("method_of_packing") or "",
        volume_m3=Decimal(str(volume)) if volume not in (None, "") else None,
        marks=values.get("marks_and_numbers") or "",
        dangerous_goods=_dangerous_goods(values.get("dangerous_goods")),
    )


def document_from_shipment(
    *,
    shipment,
    order,
    document_type: str,
    number: str,
    issue_date: date,
    language: str,
    verification_url: str,
    is_draft: bool = False,
) -> ShipmentDocument:
    """The document's content, box by box, from the shipment as it stands."""
    currency = order.currency
    taking_over, delivery = shipment.taking_over or {}, shipment.delivery or {}
    lines = shipment.cargo_lines or [{}]
    cash = shipment.cash_on_delivery or {}
    incoterms = " ".join(part for part in (shipment.incoterms, shipment.incoterms_place) if part)
    vehicle = " / ".join(part for part in (shipment.vehicle_plate, shipment.trailer_plate) if part)
    if shipment.driver_name:
        vehicle = f"{vehicle}, {shipment.driver_name}" if vehicle else shipment.driver_name
    shipper = _party(shipment.shipper) or Party(order.client_organization_name)
    return ShipmentDocument(
        document_type=DocumentType(document_type),
        number=number,
        issue_date=issue_date,
        language=language,
        shipper=shipper,
        consignee=_party(shipment.consignee) or Party(""),
        carrier=_party(shipment.carrier) or Party(order.supplier_organization_name),
        notify_party=_party(shipment.notify_party),
        successive_carriers=tuple(p for p in map(_party, shipment.successive_carriers or ()) if p is not None),
        items=tuple(_line(index, values, currency) for index, values in enumerate(lines, start=1)),
        currency=currency,
        verification_url=verification_url,
        place_of_taking_over=_place(taking_over),
        place_of_delivery=_place(delivery),
        taking_over_date=_date(taking_over.get("date")),
        delivery_date=(
            shipment.delivered_at.date()
            if shipment.delivered_at
            else _date(delivery.get("date_until") or delivery.get("date_from"))
        ),
        received_by=shipment.received_by,
        delivered_at=shipment.delivered_at,
        vehicle=vehicle,
        remarks=shipment.carrier_observations,
        place_of_issue=taking_over.get("city") or "",
        sender_instructions=shipment.sender_instructions,
        carrier_reservations=shipment.carrier_reservations,
        special_agreements=shipment.special_agreements,
        terms_of_delivery=f"{incoterms} (Incoterms 2020)" if incoterms else "",
        payment_instructions=shipment.payment_instructions,
        cash_on_delivery=f"{cash['amount']} {cash['currency']}" if cash.get("amount") not in (None, "") else "",
        carriage_charges=order.total_amount,
        references=tuple(r for r in (shipment.customer_reference, shipment.booking_reference) if r),
        is_draft=is_draft,
    )
