"""Writes of offers: a carrier submits, revises and withdraws; the RFQ's owner rejects or
accepts one, and the award becomes a freight order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.guards import require_verified_email
from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.lifecycle import history_record, move
from apps.core.money import minor_units_error, round_money
from apps.core.services import outbox_publish
from apps.kyc.gate import require_verified
from apps.marketplace import events, quotes
from apps.marketplace.locks import lock_rfq
from apps.marketplace.models import Offer, OfferRevision, OfferStatus, Rfq, RfqAudience, RfqStatus, ServiceOffering
from apps.marketplace.services import handover
from apps.marketplace.services.offer_status import (
    offer_apply_status,
    offer_event_fields,
)
from apps.marketplace.services.rfqs import rfq_award, rfq_get_for_update
from apps.marketplace.transitions import CARRIER, OFFER, OWNER, SYSTEM, require_open
from apps.tenancy.roles import Actor, Grant, actor_grant
from apps.tenancy.selectors import organization_names

logger = logging.getLogger(__name__)

OFFER_TERMS = ("price", "currency", "transit_days", "valid_until", "conditions")


@dataclass(frozen=True)
class AwardResult:
    offer: Offer
    rfq: Rfq
    order_id: UUID
    rejected_offer_ids: list[UUID]


def _rfq_open_to_carrier(*, rfq_id: UUID, organization_id: UUID) -> Rfq:
    """The RFQ as the carrier may see it, under its lock; 404 when it is not theirs to answer."""
    lock_rfq(rfq_id)
    rfq = (
        Rfq.objects.filter(pk=rfq_id)
        .filter(
            Q(audience=RfqAudience.PUBLIC) | Q(invited_organization_ids__contains=[organization_id]),
            status=RfqStatus.OPEN,
        )
        .first()
    )
    if rfq is None:
        # Closed or not open to this carrier. Its owner and the awarded carrier still see it:
        # they learn it is closed; anyone else learns nothing.
        visible = Rfq.objects.filter(pk=rfq_id).first()
        if visible is None:
            raise NotFound("RFQ not found.")
        require_open(visible.status, number=visible.number)
        raise NotFound("RFQ not found.")
    return rfq


def _check_terms(rfq: Rfq, terms: dict, *, now: datetime) -> None:
    errors = {}
    if terms["currency"] != rfq.currency:
        errors["currency"] = [f"Offers on {rfq.number} are made in {rfq.currency}."]
    # The offer becomes the order and its escrow: a price they would refuse is refused here.
    money_error = minor_units_error(terms["price"], rfq.currency)
    if money_error:
        errors["price"] = [money_error]
    if terms["valid_until"] <= now:
        errors["valid_until"] = ["Must be in the future."]
    if errors:
        raise ValidationFailed("The offer's terms do not fit the RFQ.", details=errors)


def _terms_from_offering(*, rfq: Rfq, offering_id: UUID, carrier_id: UUID, data: dict, now: datetime) -> dict:
    """The price and transit time a carrier's own offering quotes for the RFQ's cargo; what the
    carrier gave explicitly wins. 400 when the offering cannot carry the cargo."""
    offering = (
        ServiceOffering.objects.filter(organization_id=carrier_id, pk=offering_id, is_active=True, is_hidden=False)
        .prefetch_related("tariffs")
        .first()
    )
    if offering is None:
        raise ValidationFailed(
            "Not an active service offering of your organization.",
            details={"service_offering": ["Unknown or inactive offering."]},
        )
    result = quotes.quote_offering_for_rfq(offering=offering, rfq=rfq, now=now)
    if isinstance(result, quotes.Exclusion):
        raise ValidationFailed(
            "This offering cannot carry the RFQ's cargo.",
            details={"service_offering": [reason.message for reason in result.reasons]},
        )
    return {
        "price": data.get("price") or result.total,
        "currency": data.get("currency") or result.currency,
        "transit_days": data.get("transit_days") if data.get("transit_days") is not None else result.transit_days,
        "price_breakdown": quotes.quote_as_dict(result),
    }


def _record_revision(offer: Offer, *, actor: Actor) -> None:
    OfferRevision.objects.create(
        offer=offer,
        carrier_organization_id=offer.carrier_organization_id,
        shipper_organization_id=offer.shipper_organization_id,
        version=offer.version,
        price=offer.price,
        currency=offer.currency,
        transit_days=offer.transit_days,
        valid_until=offer.valid_until,
        conditions=offer.conditions,
        service_offering_id=offer.service_offering_id,
        submitted_by_id=actor.user_id,
    )


@transaction.atomic
def offer_submit(*, actor: Actor, rfq_id: UUID, data: dict) -> Offer:
    """A carrier's offer on an open RFQ: KYC-verified carriers only, one live offer each.

    With `service_offering` the price, currency and transit time are pre-filled from that
    offering's quote for the RFQ's cargo (and the breakdown kept on the offer)."""
    rfq = _rfq_open_to_carrier(rfq_id=rfq_id, organization_id=actor.organization_id)
    if rfq.organization_id == actor.organization_id:
        raise PermissionDenied("An organization cannot make an offer on its own RFQ.")
    now = timezone.now()
    if rfq.deadline <= now:
        require_open(RfqStatus.EXPIRED, number=rfq.number)
    require_verified(organization_id=actor.organization_id, action="offer.submit")
    require_verified_email(user_id=actor.user_id, action="offer.submit")
    terms = {field: data[field] for field in OFFER_TERMS if data.get(field) is not None}
    offering_id = data.get("service_offering")
    if offering_id:
        terms |= _terms_from_offering(
            rfq=rfq, offering_id=offering_id, carrier_id=actor.organization_id, data=data, now=now
        )
    terms.setdefault("valid_until", rfq.deadline)
    missing = [field for field in ("price", "currency", "transit_days") if terms.get(field) is None]
    if missing:
        raise ValidationFailed(
            "The offer needs a price, currency and transit time, or a service offering to quote them.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={field: ["Required without a service offering."] for field in missing},
        )
    _check_terms(rfq, terms, now=now)
    if Offer.objects.filter(
        rfq=rfq, carrier_organization_id=actor.organization_id, status=OfferStatus.SUBMITTED
    ).exists():
        raise DomainError(
            "Your organization already has a live offer on this RFQ: revise it (PATCH /offers/{id}) or withdraw it.",
            details={"rfq": ["One live offer per carrier."]},
        )
    name = organization_names(organization_ids=[actor.organization_id])[actor.organization_id]
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                rfq=rfq,
                carrier_organization_id=actor.organization_id,
                carrier_organization_name=name,
                rfq_number=rfq.number,
                shipper_organization_id=rfq.organization_id,
                service_offering_id=offering_id,
                submitted_by_id=actor.user_id,
                **terms,
            )
    except IntegrityError as error:  # the RFQ lock makes this unreachable; the constraint is the backstop
        raise DomainError("Your organization already has a live offer on this RFQ.") from error
    _record_revision(offer, actor=actor)
    history_record(offer, transitions=OFFER, from_status="", to_status=offer.status, actor=actor)
    audit_record(
        action="offer.submitted",
        resource_type="offer",
        resource_id=offer.id,
        new_values={"rfq": str(rfq.id), "price": str(offer.price), "currency": offer.currency},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(
        events.OfferSubmitted(
            **offer_event_fields(offer, acting_organization_id=actor.organization_id),
            price=str(offer.price),
            currency=offer.currency,
        )
    )
    return offer


def _carriers_offer_for_update(*, actor: Actor, offer_id: UUID, permission: str) -> Offer:
    """The carrier's own offer with its RFQ locked; 404 for anyone else's (an `:own` grant
    reaches only the offers the user submitted)."""
    rfq_id = (
        Offer.objects.filter(pk=offer_id, carrier_organization_id=actor.organization_id)
        .values_list("rfq_id", flat=True)
        .first()
    )
    if rfq_id is None:
        raise NotFound("Offer not found.")
    lock_rfq(rfq_id)
    # Not joined to its RFQ: a carrier cannot read an RFQ that has closed.
    offer = Offer.objects.get(pk=offer_id)
    if actor_grant(actor, permission) is Grant.OWN and offer.submitted_by_id != actor.user_id:
        raise NotFound("Offer not found.")
    return offer


@transaction.atomic
def offer_revise(*, actor: Actor, offer_id: UUID, data: dict) -> Offer:
    """A new version of a live offer (price, currency, transit, validity, conditions); every
    earlier version stays readable."""
    offer = _carriers_offer_for_update(actor=actor, offer_id=offer_id, permission="offer:update")
    # Row-level security shows the carrier the RFQ only while it is open (or awarded to it).
    rfq = Rfq.objects.filter(pk=offer.rfq_id).first()
    require_open(rfq.status if rfq else RfqStatus.CLOSED, number=offer.rfq_number)
    if offer.status != OfferStatus.SUBMITTED:
        raise DomainError(f"A {offer.status} offer cannot be revised.", code=ErrorCode.INVALID_STATE_TRANSITION)
    changes = {field: data[field] for field in OFFER_TERMS if field in data and data[field] != getattr(offer, field)}
    if not changes:
        return offer
    now = timezone.now()
    if rfq.deadline <= now:
        require_open(RfqStatus.EXPIRED, number=rfq.number)
    _check_terms(rfq, {field: getattr(offer, field) for field in OFFER_TERMS} | changes, now=now)
    old_values = {field: getattr(offer, field) for field in changes}
    for field, value in changes.items():
        setattr(offer, field, value)
    offer.version += 1
    if "price" in changes or "currency" in changes:
        offer.price_breakdown = {}  # the quote it was pre-filled from no longer holds
    offer.save(update_fields=[*changes, "version", "price_breakdown", "updated_at"])
    _record_revision(offer, actor=actor)
    audit_record(
        action="offer.revised",
        resource_type="offer",
        resource_id=offer.id,
        old_values=old_values,
        new_values=changes | {"version": offer.version},
        organization_id=actor.organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(
        events.OfferRevised(
            **offer_event_fields(offer, acting_organization_id=actor.organization_id),
            price=str(offer.price),
            currency=offer.currency,
        )
    )
    return offer


@transaction.atomic
def offer_withdraw(*, actor: Actor, offer_id: UUID, reason: str = "") -> Offer:
    """The carrier takes its live offer back; it may then submit a new one while the RFQ is open."""
    offer = _carriers_offer_for_update(actor=actor, offer_id=offer_id, permission="offer:withdraw")
    return offer_apply_status(
        offer,
        status=OfferStatus.WITHDRAWN,
        who=CARRIER,
        actor=actor,
        acting_organization_id=actor.organization_id,
        note=reason.strip(),
    )


def _owners_offer(*, actor: Actor, offer_id: UUID) -> tuple[Offer, Rfq]:
    """An offer on one of the actor's RFQs and that RFQ, locked; 404 otherwise."""
    rfq_id = (
        Offer.objects.filter(pk=offer_id, shipper_organization_id=actor.organization_id)
        .values_list("rfq_id", flat=True)
        .first()
    )
    if rfq_id is None:
        raise NotFound("Offer not found.")
    rfq = rfq_get_for_update(organization_id=actor.organization_id, rfq_id=rfq_id)
    return Offer.objects.get(pk=offer_id), rfq


@transaction.atomic
def offer_reject(*, actor: Actor, offer_id: UUID, reason: str = "") -> Offer:
    """The RFQ's owner declines one offer; the carrier is told (offer.rejected)."""
    offer, rfq = _owners_offer(actor=actor, offer_id=offer_id)
    require_open(rfq.status, number=rfq.number)
    return offer_apply_status(
        offer,
        status=OfferStatus.REJECTED,
        who=OWNER,
        actor=actor,
        acting_organization_id=actor.organization_id,
        note=reason.strip() or "Declined by the shipper.",
    )


def _order_for_award(*, actor: Actor, rfq: Rfq, offer: Offer) -> UUID:
    """The freight order the award becomes, created and submitted through the orders context."""
    route = handover.route_label(rfq.segments[0]["origin"], rfq.segments[-1]["destination"])
    return handover.freight_order_create(
        actor=actor,
        order=handover.FreightOrder(
            client_organization_id=rfq.organization_id,
            supplier_organization_id=offer.carrier_organization_id,
            currency=offer.currency,
            price=offer.price,
            item_name=f"Freight {rfq.number}: {route}",
            metadata={
                "rfq_id": str(rfq.id),
                "rfq_number": rfq.number,
                "offer_id": str(offer.id),
                "offer_version": offer.version,
                "transit_days": offer.transit_days,
                "cargo": {
                    "weight_kg": str(rfq.weight_kg),
                    "volume_cbm": str(rfq.volume_cbm) if rfq.volume_cbm is not None else None,
                    "cargo_type": rfq.cargo_type,
                    "hazmat_class": rfq.hazmat_class,
                },
                "segments": rfq.segments,
            },
            shipment=_shipment_of_award(rfq=rfq, offer=offer),
            created_note=f"Awarded from {rfq.number}.",
            submitted_note=f"Offer of {offer.carrier_organization_name} accepted.",
        ),
    )


def _shipment_of_award(*, rfq: Rfq, offer: Offer) -> dict:
    """What the RFQ and the accepted offer say about the shipment: parties, places and dates,
    the route, one cargo line, and the agreed terms."""
    segments = sorted(rfq.segments, key=lambda segment: segment.get("sequence", 0))
    first, last = segments[0], segments[-1]
    place = handover.shipment_place
    route = [{"kind": "pickup", "place": place(first["origin"]), "date_from": first.get("pickup_date")}]
    for index, segment in enumerate(segments):
        arrival = segment.get("delivery_date") or (
            segments[index + 1].get("pickup_date") if segment is not last else None
        )
        kind = "delivery" if segment is last else "stop"
        route.append({"kind": kind, "place": place(segment["destination"]), "date_until": arrival})
    line = handover.cargo_line(
        nature_of_goods=rfq.title,
        weight_kg=rfq.weight_kg,
        pallet_count=rfq.pallet_count,
        volume_cbm=rfq.volume_cbm,
        length_cm=rfq.length_cm,
        width_cm=rfq.width_cm,
        height_cm=rfq.height_cm,
        hazmat_class=rfq.hazmat_class,
        temperature_min_c=rfq.temperature_min_c,
        temperature_max_c=rfq.temperature_max_c,
        declared_value=rfq.declared_value,
        currency=rfq.currency,
    )
    terms = [
        f"Awarded on {rfq.number}: {round_money(offer.price, offer.currency)} {offer.currency}, "
        f"{offer.transit_days} day(s) in transit",
        f"vehicle: {rfq.get_service_type_display()}" if rfq.service_type else "",
        f"cargo: {rfq.get_cargo_type_display()}",
        offer.conditions,
    ]
    return {
        "shipper": handover.shipper_party(organization_id=rfq.organization_id),
        "carrier": {"name": offer.carrier_organization_name},
        "taking_over": {**place(first["origin"]), "date": first.get("pickup_date")},
        "delivery": {
            **place(last["destination"]),
            "date_from": last.get("delivery_date"),
            "date_until": last.get("delivery_date"),
        },
        "route": route,
        "cargo_lines": [line],
        "payment_instructions": "carriage_paid",
        "special_agreements": "; ".join(term for term in terms if term) + ".",
        "customer_reference": rfq.number,
    }


@transaction.atomic
def offer_accept(*, actor: Actor, offer_id: UUID) -> AwardResult:
    """Award the RFQ to this offer, in one transaction: the offer accepted, every other live
    offer rejected, the RFQ awarded and a freight order created (client: the shipper,
    supplier: the carrier). Two concurrent accepts on one RFQ: the RFQ lock serializes them
    and the second finds it awarded (422 RFQ_ALREADY_CLOSED)."""
    offer, rfq = _owners_offer(actor=actor, offer_id=offer_id)
    require_open(rfq.status, number=rfq.number)
    require_verified(organization_id=actor.organization_id, action="offer.accept")
    now = timezone.now()
    OFFER.check(offer.status, OfferStatus.ACCEPTED, who=OWNER)
    if offer.valid_until <= now:
        raise DomainError(
            f"The offer was valid until {offer.valid_until.isoformat()}.", code=ErrorCode.INVALID_STATE_TRANSITION
        )
    order_id = _order_for_award(actor=actor, rfq=rfq, offer=offer)
    offer.decided_at = now
    move(
        offer,
        OfferStatus.ACCEPTED,
        transitions=OFFER,
        actor=actor,
        who=OWNER,
        reason="Awarded.",
        save=["decided_at", "updated_at"],
        audit={
            "action": "offer.accepted",
            "resource_type": "offer",
            "new_values": {"status": OfferStatus.ACCEPTED, "order": str(order_id)},
            "organization_id": actor.organization_id,
        },
        event=lambda: events.OfferAccepted(
            **offer_event_fields(offer, acting_organization_id=actor.organization_id), order_id=str(order_id)
        ),
    )
    others = list(Offer.objects.filter(rfq=rfq, status=OfferStatus.SUBMITTED).exclude(pk=offer.pk).order_by("id"))
    for other in others:
        offer_apply_status(
            other,
            status=OfferStatus.REJECTED,
            who=OWNER,
            actor=actor,
            acting_organization_id=actor.organization_id,
            note="Another offer was accepted.",
        )
    rfq_award(rfq=rfq, offer=offer, order_id=order_id, actor=actor)
    logger.info("marketplace.rfq_awarded", extra={"rfq_id": str(rfq.id), "offer_id": str(offer.id)})
    return AwardResult(offer=offer, rfq=rfq, order_id=order_id, rejected_offer_ids=[other.id for other in others])


@transaction.atomic
def offer_expire(*, offer_id: UUID, now: datetime) -> Offer | None:
    """Expire a live offer past its validity; None when it was decided or revised meanwhile."""
    rfq_id = Offer.objects.filter(pk=offer_id).values_list("rfq_id", flat=True).first()
    if rfq_id is None:
        return None
    lock_rfq(rfq_id)
    offer = Offer.objects.get(pk=offer_id)
    if offer.status != OfferStatus.SUBMITTED or offer.valid_until > now:
        return None
    return offer_apply_status(
        offer,
        status=OfferStatus.EXPIRED,
        who=SYSTEM,
        actor=Actor.system(organization_id=offer.carrier_organization_id),
        acting_organization_id=offer.carrier_organization_id,
        note="Its validity ended.",
    )


def _offers_past_validity(now: datetime):
    return Offer.objects.filter(status=OfferStatus.SUBMITTED, valid_until__lte=now)


def offers_due_organizations(*, now: datetime | None = None) -> list[UUID]:
    """Carriers with a live offer past its validity. Reads every tenant: the beat task calls it
    in its bypass scope, then expires each carrier's offers in that carrier's scope."""
    return list(
        _offers_past_validity(now or timezone.now())
        .order_by()
        .values_list("carrier_organization_id", flat=True)
        .distinct()
    )


def offers_expire_due(*, now: datetime | None = None) -> int:
    """Expire the current organization's live offers past their validity, each in a savepoint of
    the task's transaction (the scope is the beat task's, per carrier). Returns how many expired."""
    now = now or timezone.now()
    due = list(
        _offers_past_validity(now)
        .filter(carrier_organization_id=current_organization_id())
        .order_by("valid_until")
        .values_list("id", flat=True)
    )
    expired = sum(1 for offer_id in due if offer_expire(offer_id=offer_id, now=now) is not None)
    logger.info("marketplace.offers_expired", extra={"due": len(due), "expired": expired})
    return expired
