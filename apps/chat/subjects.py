"""What a thread can be about, and who its two parties are.

A subject kind has a resolver: given who asks, the subject's id and (where the subject has more
than one possible counterparty) the other organization, it answers the thread's parties and
title, or raises NotFound when the caller may not talk about it. Orders, RFQs and direct
threads are resolved here (chat reads orders and marketplace through their selectors); a
context that comes later (disputes, service orders) registers its own kind from its
AppConfig.ready(), so chat never imports it:

    from apps.chat.subjects import SubjectParties, register_subject
    register_subject("dispute", dispute_parties)

An unregistered kind is refused with 400: no thread can be opened about a subject that does
not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from apps.core.actors import Actor
from apps.core.errors import NotFound, ValidationFailed
from apps.tenancy.roles import Grant, actor_grant


@dataclass(frozen=True)
class SubjectParties:
    """The thread's two organizations: A opened the subject (client, shipper), B the other."""

    party_a_id: UUID
    party_b_id: UUID
    title: str
    party_a_name: str = ""
    party_b_name: str = ""
    customer_id: UUID | None = None


# resolver(actor, subject_id, counterparty_id) -> SubjectParties; runs in the actor's tenant scope.
SubjectResolver = Callable[[Actor, UUID | None, UUID | None], SubjectParties]

_resolvers: dict[str, SubjectResolver] = {}


def register_subject(kind: str, resolver: SubjectResolver) -> None:
    _resolvers[kind] = resolver


def subject_parties(
    *, kind: str, actor: Actor, subject_id: UUID | None, counterparty_id: UUID | None
) -> SubjectParties:
    """The parties of a thread about `kind`/`subject_id` the actor may open; NotFound when the
    subject is not the actor's to talk about, ValidationFailed when the kind is not served."""
    resolver = _resolvers.get(kind)
    if resolver is None:
        raise ValidationFailed(
            f"Threads about a {kind.replace('_', ' ')} cannot be opened yet.", details={"subject_type": [kind]}
        )
    parties = resolver(actor, subject_id, counterparty_id)
    if actor.organization_id not in (parties.party_a_id, parties.party_b_id):
        raise NotFound("Subject not found.")
    return parties


def _own_customer(actor: Actor) -> UUID | None:
    return actor.user_id if actor_grant(actor, "chat:read") is Grant.OWN else None


def _order_parties(actor: Actor, subject_id: UUID | None, counterparty_id: UUID | None) -> SubjectParties:
    from apps.orders.selectors import order_get

    if subject_id is None:
        raise ValidationFailed("Name the order.", details={"subject_id": ["This field is required."]})
    order = order_get(organization_id=actor.organization_id, order_id=subject_id, customer_id=_own_customer(actor))
    return SubjectParties(
        party_a_id=order.client_organization_id,
        party_b_id=order.supplier_organization_id,
        party_a_name=order.client_organization_name,
        party_b_name=order.supplier_organization_name,
        title=f"Order {order.number}",
        customer_id=order.customer_id,
    )


def _rfq_parties(actor: Actor, subject_id: UUID | None, counterparty_id: UUID | None) -> SubjectParties:
    """One thread per carrier that offered on the RFQ: the carrier names the RFQ, the shipper
    names the RFQ and the carrier (`counterparty_id`)."""
    from apps.marketplace.selectors import offer_of_carrier

    if subject_id is None:
        raise ValidationFailed("Name the RFQ.", details={"subject_id": ["This field is required."]})
    carrier_id = counterparty_id or actor.organization_id
    offer = offer_of_carrier(
        organization_id=actor.organization_id, rfq_id=subject_id, carrier_organization_id=carrier_id
    )
    if offer is None:
        # A carrier that has not offered, or a shipper naming one that has not: nothing to talk about.
        raise NotFound("No offer of that carrier on that RFQ.")
    return SubjectParties(
        party_a_id=offer.shipper_organization_id,
        party_b_id=offer.carrier_organization_id,
        party_b_name=offer.carrier_organization_name,
        title=f"Offer on {offer.rfq_number}",
    )


def _direct_parties(actor: Actor, subject_id: UUID | None, counterparty_id: UUID | None) -> SubjectParties:
    """Direct threads only between organizations that have traded (an order between them):
    the platform is not a directory to cold-message strangers from."""
    from apps.orders.selectors import organizations_have_traded

    if subject_id is not None:
        raise ValidationFailed("A direct thread has no subject.", details={"subject_id": ["Leave it out."]})
    if counterparty_id is None:
        raise ValidationFailed(
            "Name the organization to talk to.", details={"counterparty_id": ["This field is required."]}
        )
    if counterparty_id == actor.organization_id or not organizations_have_traded(
        organization_id=actor.organization_id, other_organization_id=counterparty_id
    ):
        raise NotFound("No organization you have traded with has that id.")
    first, second = sorted((actor.organization_id, counterparty_id), key=str)
    return SubjectParties(party_a_id=first, party_b_id=second, title="")


def register_builtin_subjects() -> None:
    register_subject("order", _order_parties)
    register_subject("rfq", _rfq_parties)
    register_subject("direct", _direct_parties)
