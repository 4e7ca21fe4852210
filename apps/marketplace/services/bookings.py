"""Writes of bookings: a shipper books an instant quote (a freight order pending its carrier's
confirmation, at the quoted price); the carrier confirms or declines it; the beat job expires
what the carrier left unanswered. Each outcome is an event through the outbox, so the shipper
is told."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.money import round_money
from apps.core.services import number_next, outbox_publish
from apps.kyc.gate import require_verified
from apps.marketplace import events, selectors
from apps.marketplace.locks import lock_quote
from apps.marketplace.models import Booking, BookingStatus, CargoType, QuoteRecord, ServiceType
from apps.marketplace.services import handover
from apps.marketplace.transitions import BOOKING, CARRIER, SYSTEM
from apps.orders import selectors as order_selectors
from apps.orders import services as order_services
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_names

logger = logging.getLogger(__name__)

# The order's amounts hold 15 digits, 3 of them decimal places.
ORDER_PRICE_LIMIT = Decimal(10) ** 12
# What the price was computed from: the shipper may add to the shipment, not change these.
PRICED_PLACES = (("taking_over", "country"), ("taking_over", "city"), ("delivery", "country"), ("delivery", "city"))


def booking_event_fields(booking: Booking, *, acting_organization_id: UUID) -> dict:
    # The outbox row belongs to the acting party: the only tenant this transaction may write for.
    return {
        "organization_id": acting_organization_id,
        "booking_id": str(booking.id),
        "number": booking.number,
        "order_id": str(booking.order_id),
        "shipper_organization_id": str(booking.shipper_organization_id),
        "carrier_organization_id": str(booking.carrier_organization_id),
        "price": str(booking.price),
        "currency": booking.currency,
        "status": booking.status,
        "party_organization_ids": sorted({str(booking.shipper_organization_id), str(booking.carrier_organization_id)}),
    }


def _label(choices, value: str) -> str:
    return dict(choices.choices).get(value, value)


def _shipment_of_quote(*, record: QuoteRecord, number: str, carrier_name: str) -> dict:
    """What the quote says about the shipment, built as the award builds it: parties, places and
    the pickup date, the route, one cargo line, and the terms it was booked on."""
    quoted = record.shipment
    origin, destination = quoted["origin"], quoted["destination"]
    place = handover.shipment_place
    line = handover.cargo_line(
        nature_of_goods=_label(CargoType, quoted.get("cargo_type") or CargoType.GENERAL),
        weight_kg=quoted["weight_kg"],
        pallet_count=quoted.get("pallet_count"),
        volume_cbm=quoted.get("volume_cbm"),
        length_cm=quoted.get("length_cm"),
        width_cm=quoted.get("width_cm"),
        height_cm=quoted.get("height_cm"),
        hazmat_class=quoted.get("hazmat_class") or "",
        temperature_min_c=quoted.get("temperature_min_c"),
        temperature_max_c=quoted.get("temperature_max_c"),
    )
    terms = [
        f"Booked as {number} at instant quote {record.id}: {round_money(record.total, record.currency)} "
        f"{record.currency}, {record.transit_days} day(s) in transit",
        f"vehicle: {_label(ServiceType, quoted['service_type'])}" if quoted.get("service_type") else "",
    ]
    pickup = quoted.get("pickup_date")
    return {
        "shipper": handover.shipper_party(organization_id=record.organization_id),
        "carrier": {"name": carrier_name},
        "taking_over": {**place(origin), "date": pickup},
        "delivery": place(destination),
        "route": [
            {"kind": "pickup", "place": place(origin), "date_from": pickup},
            {"kind": "delivery", "place": place(destination)},
        ],
        "cargo_lines": [line],
        "payment_instructions": "carriage_paid",
        "special_agreements": "; ".join(term for term in terms if term) + ".",
        "booking_reference": number,
    }


def _priced_conflicts(quoted: dict, given: dict) -> dict:
    """The shipper's values that contradict what the price was computed from: the places and
    the first line's gross weight (the quote's only line)."""
    errors = {}
    for part, key in PRICED_PLACES:
        value = given.get(part, {}).get(key) if isinstance(given.get(part), dict) else None
        if value is not None and str(value).casefold() != str(quoted[part][key]).casefold():
            errors[f"{part}.{key}"] = [f"The quote was priced for {quoted[part][key]}: ask a new quote for another."]
    lines = given.get("cargo_lines")
    weight = lines[0].get("gross_weight_kg") if lines and isinstance(lines[0], dict) else None
    try:
        differs = weight is not None and Decimal(str(weight)) != Decimal(quoted["cargo_lines"][0]["gross_weight_kg"])
    except InvalidOperation:
        differs = False  # not a number: the shipment's own check names it
    if differs:
        errors["cargo_lines[0].gross_weight_kg"] = [
            f"The quote was priced for {quoted['cargo_lines'][0]['gross_weight_kg']} kg: ask a new quote for another."
        ]
    return errors


def _merged(quoted: dict, given: dict) -> dict:
    """The quote's shipment with what the shipper adds: an object (a party, a place) merged key
    by key, cargo lines line by line (the first onto the quoted one), any other value replaced."""
    merged = dict(quoted)
    for key, value in given.items():
        current = quoted.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = current | value
        elif key == "cargo_lines" and isinstance(value, list) and current:
            merged[key] = [
                (current[index] | line) if index < len(current) and isinstance(line, dict) else line
                for index, line in enumerate(value)
            ]
        else:
            merged[key] = value
    return merged


@transaction.atomic
def booking_create(*, actor: Actor, quote_id: UUID, shipment: dict) -> Booking:
    """Book the organization's instant quote: a freight order (client: the shipper, supplier: the
    carrier, one line at the quoted price) submitted to `pending`, its shipment from the quote's
    merged with `shipment`, and the booking pending the carrier's answer until
    BOOKING_CONFIRMATION_HOURS from now. 404 for another organization's quote, 422 QUOTE_EXPIRED
    past its validity, 422 when it is booked already; a refusal writes nothing.

    Takes the quote's lock (apps.marketplace.locks), so that one quote is booked once."""
    refused = order_selectors.shipment_fields_refused_to_shipper(shipment)
    if refused:
        raise ValidationFailed("The carrier fills its own part of the shipment.", details=refused)
    now = timezone.now()
    lock_quote(quote_id)
    record = selectors.quote_get_bookable(organization_id=actor.organization_id, quote_id=quote_id, now=now)
    if record.carrier_organization_id == actor.organization_id:
        raise DomainError("An organization cannot book its own offering.", details={"quote_id": ["Your own offering."]})
    require_verified(organization_id=actor.organization_id, action="booking.create")
    booked = Booking.objects.visible_to(actor.organization_id).filter(
        shipper_organization_id=actor.organization_id, quote_record_id=record.id
    )
    if booked.exists():
        raise DomainError("This quote is booked already: ask for a new quote.", details={"quote_id": ["Booked."]})
    if record.total >= ORDER_PRICE_LIMIT:
        raise ValidationFailed("The quoted price is beyond what an order holds.", details={"quote_id": ["Too large."]})
    names = organization_names(organization_ids=[actor.organization_id, record.carrier_organization_id])
    carrier_name = names[record.carrier_organization_id]
    number = number_next(organization_id=actor.organization_id, name="booking", prefix="BKG")
    quoted = _shipment_of_quote(record=record, number=number, carrier_name=carrier_name)
    conflicts = _priced_conflicts(quoted, shipment)
    if conflicts:
        raise ValidationFailed("The shipment contradicts what was quoted.", details=conflicts)
    origin, destination = record.shipment["origin"], record.shipment["destination"]
    order_id = handover.freight_order_create(
        actor=actor,
        order=handover.FreightOrder(
            client_organization_id=actor.organization_id,
            supplier_organization_id=record.carrier_organization_id,
            currency=record.currency,
            price=record.total,
            item_name=f"Freight {number}: {handover.route_label(origin, destination)}",
            metadata={
                "booking_number": number,
                "quote_id": str(record.id),
                "offering_id": str(record.offering_id),
                "transit_days": record.transit_days,
            },
            shipment=_merged(quoted, shipment),
            created_note=f"Booked as {number} from instant quote {record.id}.",
            submitted_note=f"Booking {number}: awaiting the confirmation of {carrier_name}.",
        ),
    )
    booking = Booking.objects.create(
        number=number,
        shipper_organization_id=actor.organization_id,
        carrier_organization_id=record.carrier_organization_id,
        shipper_organization_name=names[actor.organization_id],
        carrier_organization_name=carrier_name,
        quote_record_id=record.id,
        offering_id=record.offering_id,
        order_id=order_id,
        price=record.total,
        currency=record.currency,
        transit_days=record.transit_days,
        expires_at=now + timedelta(hours=settings.BOOKING_CONFIRMATION_HOURS),
        created_by_id=actor.user_id,
    )
    history_record(booking, transitions=BOOKING, from_status="", to_status=booking.status, actor=actor)
    audit_record(
        action="booking.created",
        resource_type="booking",
        resource_id=booking.id,
        new_values={"quote": str(record.id), "order": str(order_id), "price": str(booking.price)},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(
        events.BookingCreated(
            **booking_event_fields(booking, acting_organization_id=actor.organization_id),
            expires_at=booking.expires_at.isoformat(),
        )
    )
    logger.info("marketplace.booking_created", extra={"booking_id": str(booking.id), "order_id": str(order_id)})
    return booking


def _booking_for_update(*, organization_id: UUID, booking_id: UUID) -> Booking:
    """A booking of the organization's (either party), locked until the transaction ends; 404 otherwise.

    Its row lock serializes every move of it: a concurrent confirm and decline, or the expiry
    job, wait for each other and the second sees the first's status."""
    # A list, not .first(): a sliced two-party query is a UNION, which FOR UPDATE cannot lock.
    rows = list(Booking.objects.visible_to(organization_id).select_for_update().filter(pk=booking_id))
    if not rows:
        raise NotFound("Booking not found.")
    return rows[0]


def _carriers_booking(*, actor: Actor, booking_id: UUID) -> Booking:
    booking = _booking_for_update(organization_id=actor.organization_id, booking_id=booking_id)
    if booking.carrier_organization_id != actor.organization_id:
        raise PermissionDenied("Only the carrier confirms or declines a booking.")
    return booking


def _decide(booking: Booking, *, status: str, who: str, actor: Actor, note: str, event) -> Booking:
    acting_organization_id = actor.organization_id
    booking.decided_at = timezone.now()
    booking.decision_note = note
    move(
        booking,
        status,
        transitions=BOOKING,
        actor=actor,
        who=who,
        reason=note,
        save=["decided_at", "decision_note", "updated_at"],
        audit={
            "action": f"booking.{status}",
            "resource_type": "booking",
            "new_values": {"status": status, "order": str(booking.order_id), "note": note},
            "organization_id": acting_organization_id,
        },
        event=lambda: event(**booking_event_fields(booking, acting_organization_id=acting_organization_id)),
    )
    return booking


@transaction.atomic
def booking_confirm(*, actor: Actor, booking_id: UUID) -> Booking:
    """The carrier takes the booking on: the booking confirmed and its order `confirmed`.
    KYC-verified carriers only; 422 INVALID_STATE_TRANSITION unless it is pending."""
    booking = _carriers_booking(actor=actor, booking_id=booking_id)
    BOOKING.check(booking.status, BookingStatus.CONFIRMED, who=CARRIER)
    require_verified(organization_id=actor.organization_id, action="booking.confirm")
    order_services.order_change_status(
        order_id=booking.order_id, actor=actor, status="confirmed", note=f"Booking {booking.number} confirmed."
    )
    return _decide(
        booking, status=BookingStatus.CONFIRMED, who=CARRIER, actor=actor, note="", event=events.BookingConfirmed
    )


@transaction.atomic
def booking_decline(*, actor: Actor, booking_id: UUID, reason: str = "") -> Booking:
    """The carrier turns the booking down: the booking declined and its order cancelled.
    422 INVALID_STATE_TRANSITION unless it is pending."""
    booking = _carriers_booking(actor=actor, booking_id=booking_id)
    BOOKING.check(booking.status, BookingStatus.DECLINED, who=CARRIER)
    note = reason.strip() or "Declined by the carrier."
    order_services.order_cancel(order_id=booking.order_id, actor=actor, reason=f"Booking {booking.number}: {note}")
    return _decide(
        booking,
        status=BookingStatus.DECLINED,
        who=CARRIER,
        actor=actor,
        note=note,
        event=lambda **fields: events.BookingDeclined(**fields, reason=note),
    )


@transaction.atomic
def booking_expire(*, booking_id: UUID, now: datetime) -> Booking | None:
    """Expire a pending booking past `expires_at` and cancel its order, for the current
    organization (a party); None when the carrier answered meanwhile."""
    organization_id = current_organization_id()
    booking = _booking_for_update(organization_id=organization_id, booking_id=booking_id)
    if booking.status != BookingStatus.PENDING or booking.expires_at > now:
        return None
    note = f"Not confirmed by the carrier within {settings.BOOKING_CONFIRMATION_HOURS} hour(s)."
    order_services.order_cancel_by_system(order_id=booking.order_id, reason=f"Booking {booking.number}: {note}")
    return _decide(
        booking,
        status=BookingStatus.EXPIRED,
        who=SYSTEM,
        actor=Actor.system(organization_id=organization_id),
        note=note,
        event=events.BookingExpired,
    )


def booking_cancel_with_order(*, order_id: UUID) -> Booking | None:
    """A pending booking whose order a party cancelled is cancelled with it (the order.status_changed
    receiver, in that party's scope); None when there is none, or the carrier answered first."""
    organization_id = current_organization_id()
    # Locked and re-read in one statement: a carrier's answer that committed first leaves no
    # pending row (a list, not .first(): a sliced two-party query is a UNION, unlockable).
    rows = list(
        Booking.objects.visible_to(organization_id)
        .select_for_update()
        .filter(order_id=order_id, status=BookingStatus.PENDING)
    )
    if not rows:
        return None
    booking = rows[0]
    return _decide(
        booking,
        status=BookingStatus.CANCELLED,
        who=SYSTEM,
        actor=Actor.system(organization_id=organization_id),
        note="Its order was cancelled before the carrier answered.",
        event=events.BookingCancelled,
    )


def _bookings_past_time(now: datetime):
    return Booking.objects.filter(status=BookingStatus.PENDING, expires_at__lte=now)


def bookings_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """Shippers with a pending booking past its time. Reads every tenant: the beat task calls it
    in its bypass scope, then expires each shipper's bookings in that shipper's scope."""
    return list(
        _bookings_past_time(now or timezone.now())
        .order_by()
        .values_list("shipper_organization_id", flat=True)
        .distinct()
    )


def bookings_expire_due(*, now: datetime | None = None) -> int:
    """Expire the current organization's pending bookings past their time (as their shipper), each
    in the task's transaction; returns how many expired."""
    now = now or timezone.now()
    due = list(
        _bookings_past_time(now)
        .filter(shipper_organization_id=current_organization_id())
        .order_by("expires_at")
        .values_list("id", flat=True)
    )
    expired = sum(1 for booking_id in due if booking_expire(booking_id=booking_id, now=now) is not None)
    logger.info("marketplace.bookings_expired", extra={"due": len(due), "expired": expired})
    return expired
