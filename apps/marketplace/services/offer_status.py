"""Moving offers through their lifecycle: the one writer of an offer's status, its history
row, its audit row and its event. The RFQ and offer use cases call it."""

from __future__ import annotations

from uuid import UUID

from django.utils import timezone

from apps.core.actors import Actor
from apps.core.lifecycle import move
from apps.marketplace import events
from apps.marketplace.models import Offer, OfferStatus, Rfq
from apps.marketplace.transitions import OFFER


def offer_parties(offer: Offer) -> list[str]:
    return sorted({str(offer.carrier_organization_id), str(offer.shipper_organization_id)})


def offer_event_fields(offer: Offer, *, acting_organization_id: UUID) -> dict:
    # The outbox row belongs to the acting party: the only tenant this transaction may write for.
    return {
        "organization_id": acting_organization_id,
        "offer_id": str(offer.id),
        "rfq_id": str(offer.rfq_id),
        "rfq_number": offer.rfq_number,
        "carrier_organization_id": str(offer.carrier_organization_id),
        "version": offer.version,
        "status": offer.status,
        "party_organization_ids": offer_parties(offer),
    }


_EVENTS = {
    OfferStatus.WITHDRAWN: events.OfferWithdrawn,
    OfferStatus.REJECTED: events.OfferRejected,
    OfferStatus.EXPIRED: events.OfferExpired,
}


def offer_apply_status(
    offer: Offer, *, status: str, who: str, actor: Actor, acting_organization_id: UUID, note: str = ""
) -> Offer:
    """Move an offer (its RFQ locked by the caller) to withdrawn, rejected or expired: the
    row, its history, the audit row and the event, in the caller's transaction."""
    offer.decided_at = timezone.now()
    offer.decision_note = note

    def event():
        fields = offer_event_fields(offer, acting_organization_id=acting_organization_id)
        if status == OfferStatus.REJECTED:
            return events.OfferRejected(**fields, reason=note)
        return _EVENTS[status](**fields)

    move(
        offer,
        status,
        transitions=OFFER,
        actor=actor,
        who=who,
        reason=note,
        save=["decided_at", "decision_note", "updated_at"],
        audit={
            "action": f"offer.{status}",
            "resource_type": "offer",
            "new_values": {"status": status, "note": note},
            "organization_id": acting_organization_id,
        },
        event=event,
    )
    return offer


def offers_close_live(*, rfq: Rfq, status: str, who: str, actor: Actor, reason: str) -> int:
    """Reject or expire every live offer on a locked RFQ that is closing; returns how many.

    Acts for the RFQ's owner, a party of every offer on it."""
    live = Offer.objects.filter(rfq=rfq, status=OfferStatus.SUBMITTED).order_by("id")
    closed = 0
    for offer in live:
        offer_apply_status(
            offer, status=status, who=who, actor=actor, acting_organization_id=rfq.organization_id, note=reason
        )
        closed += 1
    return closed
