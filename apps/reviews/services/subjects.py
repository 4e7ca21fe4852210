"""What is reviewed: a completed service order or freight order, read through its own context
in the author's scope, and which side of it the author's organization is (the other side is
the reviewee)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from apps.core.actors import Actor
from apps.core.errors import DomainError, NotFound
from apps.reviews.models import RevieweeType, SubjectType
from apps.tenancy.roles import Grant

# The statuses of the two contexts in which a subject is done (apps.service, apps.orders).
SERVICE_ORDER_COMPLETED = "COMPLETED"
FREIGHT_KIND, FREIGHT_COMPLETED = "freight", "completed"


@dataclass(frozen=True)
class ReviewedSide:
    """The other party of the subject, as the review records it."""

    subject_number: str
    reviewee_type: str
    reviewee_id: UUID
    reviewee_organization_id: UUID
    # The person the review is about, told of it (the expert; the customer who ordered).
    reviewee_user_id: UUID | None
    offering_id: UUID | None = None
    # The parties' names when the subject carries them (a freight order does).
    author_organization_name: str | None = None
    reviewee_organization_name: str | None = None


def _not_completed(noun: str, status: str, done: str) -> DomainError:
    return DomainError(
        f"Only a {done.lower()} {noun} is reviewed; this one is {status.replace('_', ' ').lower()}.",
        details={"subject_id": [f"The {noun} is {status}, not {done}."]},
    )


def _own_work() -> DomainError:
    return DomainError(
        "Your organization is on both sides of this order: there is no other party to review.",
        details={"subject_id": ["Your organization is both parties."]},
    )


def service_order_side(*, actor: Actor, service_order_id: UUID, grant: Grant) -> ReviewedSide:
    """The other side of a completed service order of which the actor's organization is a
    party: the expert for the customer organization, the customer organization for the
    expert's. 404 for an order the organization is no party of (or, with an `:own` grant, one
    the user neither ordered nor worked); 422 before it is completed."""
    from apps.service.selectors import service_order_parties

    parties = service_order_parties(service_order_id=service_order_id)
    organization_id = actor.organization_id
    if parties is None or organization_id not in (parties.organization_id, parties.expert_organization_id):
        raise NotFound("Service order not found.")
    as_customer = organization_id == parties.organization_id
    if as_customer:
        own = actor.user_id is not None and actor.user_id in (parties.customer_id, parties.created_by_id)
    else:
        own = actor.user_id is not None and actor.user_id == parties.expert_user_id
    if grant is Grant.OWN and not own:
        raise NotFound("Service order not found.")
    if parties.status != SERVICE_ORDER_COMPLETED:
        raise _not_completed("service order", parties.status, SERVICE_ORDER_COMPLETED)
    if parties.organization_id == parties.expert_organization_id:
        raise _own_work()
    if as_customer:
        if parties.expert_id is None or parties.expert_organization_id is None:
            raise NotFound("Service order not found.")  # completed without an expert: nobody to review
        return ReviewedSide(
            subject_number=parties.number,
            reviewee_type=RevieweeType.EXPERT,
            reviewee_id=parties.expert_id,
            reviewee_organization_id=parties.expert_organization_id,
            reviewee_user_id=parties.expert_user_id,
        )
    return ReviewedSide(
        subject_number=parties.number,
        reviewee_type=RevieweeType.CUSTOMER,
        reviewee_id=parties.organization_id,
        reviewee_organization_id=parties.organization_id,
        reviewee_user_id=parties.customer_id or parties.created_by_id,
    )


def freight_order_side(*, actor: Actor, order_id: UUID, grant: Grant) -> ReviewedSide:
    """The other side of a completed freight order of which the actor's organization is a
    party: the carrier (with the offering that carried it) for the shipper, the shipper for the
    carrier. 404 for an order of another kind, or one the organization is no party of (or, with
    an `:own` grant, one the user is not the customer or maker of); 422 before it is completed."""
    from apps.marketplace.selectors import offering_of_freight_order
    from apps.orders.selectors import order_get

    organization_id = actor.organization_id
    try:
        order = order_get(organization_id=organization_id, order_id=order_id)
    except NotFound as error:
        raise NotFound("Freight order not found.") from error
    if order.kind != FREIGHT_KIND:
        raise NotFound("Freight order not found.")
    if grant is Grant.OWN and (actor.user_id is None or actor.user_id not in (order.customer_id, order.created_by_id)):
        raise NotFound("Freight order not found.")
    if order.status != FREIGHT_COMPLETED:
        raise _not_completed("freight order", order.status, FREIGHT_COMPLETED)
    if order.client_organization_id == order.supplier_organization_id:
        raise _own_work()
    if organization_id == order.client_organization_id:
        return ReviewedSide(
            subject_number=order.number,
            reviewee_type=RevieweeType.CARRIER,
            reviewee_id=order.supplier_organization_id,
            reviewee_organization_id=order.supplier_organization_id,
            reviewee_user_id=None,
            offering_id=offering_of_freight_order(organization_id=organization_id, order_id=order.id),
            author_organization_name=order.client_organization_name,
            reviewee_organization_name=order.supplier_organization_name,
        )
    return ReviewedSide(
        subject_number=order.number,
        reviewee_type=RevieweeType.SHIPPER,
        reviewee_id=order.client_organization_id,
        reviewee_organization_id=order.client_organization_id,
        reviewee_user_id=None,
        author_organization_name=order.supplier_organization_name,
        reviewee_organization_name=order.client_organization_name,
    )


def reviewed_side(*, actor: Actor, subject_type: str, subject_id: UUID, grant: Grant) -> ReviewedSide:
    """The side the actor's organization reviews on `subject_type` `subject_id`."""
    if subject_type == SubjectType.SERVICE_ORDER:
        return service_order_side(actor=actor, service_order_id=subject_id, grant=grant)
    return freight_order_side(actor=actor, order_id=subject_id, grant=grant)
