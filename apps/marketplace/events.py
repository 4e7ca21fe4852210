"""Domain events of the marketplace (payloads are built here only).

`party_organization_ids` names who the live feed tells (apps.tenancy.handlers): the RFQ's
owner and, once it is open to them, the invited carriers; for an offer, its carrier and
the RFQ's owner; for a booking, its shipper and carrier. A public RFQ is not pushed to every
tenant's feed.
"""

from dataclasses import dataclass

from apps.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class RfqEvent(DomainEvent):
    aggregate_type = "rfq"
    rfq_id: str
    number: str
    status: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.rfq_id


@dataclass(frozen=True, kw_only=True)
class RfqCreated(RfqEvent):
    event_type = "rfq.created"


@dataclass(frozen=True, kw_only=True)
class RfqUpdated(RfqEvent):
    """Its fields changed, or it was published (then `changed` holds "status")."""

    event_type = "rfq.updated"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class RfqClosed(RfqEvent):
    """It left `open` for good: awarded, cancelled, closed by staff or expired (`status`)."""

    event_type = "rfq.closed"
    reason: str
    awarded_offer_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OfferEvent(DomainEvent):
    aggregate_type = "offer"
    offer_id: str
    rfq_id: str
    rfq_number: str
    carrier_organization_id: str
    version: int
    status: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.offer_id


@dataclass(frozen=True, kw_only=True)
class OfferSubmitted(OfferEvent):
    event_type = "offer.submitted"
    price: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OfferRevised(OfferEvent):
    event_type = "offer.revised"
    price: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OfferWithdrawn(OfferEvent):
    event_type = "offer.withdrawn"


@dataclass(frozen=True, kw_only=True)
class OfferAccepted(OfferEvent):
    event_type = "offer.accepted"
    order_id: str


@dataclass(frozen=True, kw_only=True)
class OfferRejected(OfferEvent):
    event_type = "offer.rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class OfferExpired(OfferEvent):
    event_type = "offer.expired"


@dataclass(frozen=True, kw_only=True)
class OfferingEvent(DomainEvent):
    aggregate_type = "service_offering"
    offering_id: str
    is_published: bool

    def aggregate_id(self) -> str:
        return self.offering_id


@dataclass(frozen=True, kw_only=True)
class OfferingChanged(OfferingEvent):
    """Created, changed, or taken out of / put back into the catalogue (`changed`)."""

    event_type = "service_offering.changed"
    changed: list[str]


@dataclass(frozen=True, kw_only=True)
class BookingEvent(DomainEvent):
    """A booking of an instant quote; both parties are told (`party_organization_ids`)."""

    aggregate_type = "booking"
    booking_id: str
    number: str
    order_id: str
    shipper_organization_id: str
    carrier_organization_id: str
    price: str
    currency: str
    status: str
    party_organization_ids: list[str]

    def aggregate_id(self) -> str:
        return self.booking_id


@dataclass(frozen=True, kw_only=True)
class BookingCreated(BookingEvent):
    event_type = "booking.created"
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class BookingConfirmed(BookingEvent):
    event_type = "booking.confirmed"


@dataclass(frozen=True, kw_only=True)
class BookingDeclined(BookingEvent):
    event_type = "booking.declined"
    reason: str


@dataclass(frozen=True, kw_only=True)
class BookingExpired(BookingEvent):
    event_type = "booking.expired"


@dataclass(frozen=True, kw_only=True)
class BookingCancelled(BookingEvent):
    """Its order was cancelled by a party before the carrier answered."""

    event_type = "booking.cancelled"
