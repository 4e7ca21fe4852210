"""Writing a review of the other party of a completed order, and staff hiding an abusive one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import DomainError, ErrorCode, NotFound, PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.reviews.events import ReviewCreated
from apps.reviews.models import RATING_MAX, RATING_MIN, TEXT_MAX, Review, SubjectType
from apps.reviews.services.aggregates import reviewee_aggregate_recompute
from apps.reviews.services.subjects import ReviewedSide, reviewed_side
from apps.tenancy.roles import Grant, actor_grant

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReviewInput:
    subject_type: str
    subject_id: UUID
    rating: int
    text: str


def review_input_errors(data: ReviewInput) -> dict[str, list[str]]:
    """Every problem of a review's fields, by field (no query)."""
    errors: dict[str, list[str]] = {}
    if data.subject_type not in SubjectType.values:
        errors["subject_type"] = [f"One of {', '.join(SubjectType.values)}."]
    if isinstance(data.rating, bool) or not isinstance(data.rating, int) or not RATING_MIN <= data.rating <= RATING_MAX:
        errors["rating"] = [f"A whole number from {RATING_MIN} to {RATING_MAX}."]
    text = (data.text or "").strip()
    if not text:
        errors["text"] = ["This field is required."]
    elif len(text) > TEXT_MAX:
        errors["text"] = [f"At most {TEXT_MAX} characters."]
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        only_missing = all(messages == ["This field is required."] for messages in errors.values())
        code = ErrorCode.VALIDATION_FIELD_REQUIRED if only_missing else ErrorCode.VALIDATION_FIELD_INVALID
        raise ValidationFailed("The review has invalid or missing fields.", code=code, details=errors)


def _grant(actor: Actor) -> Grant:
    grant = actor_grant(actor, "review:create")
    if grant is Grant.NONE or actor.organization_id is None:
        raise PermissionDenied("Your role does not allow review:create.")
    return grant


def _reviewed_already(subject_type: str, number: str) -> DomainError:
    noun = SubjectType(subject_type).label.lower()
    return DomainError(
        f"Your organization has reviewed {noun} {number} already: one review per party.",
        details={"subject_id": ["Reviewed by your organization already."]},
    )


def _names(actor: Actor, side: ReviewedSide) -> tuple[str, str]:
    """The author's and the reviewee's organization names (the subject's copies when it has them)."""
    if side.author_organization_name is not None and side.reviewee_organization_name is not None:
        return side.author_organization_name, side.reviewee_organization_name
    from apps.tenancy.selectors import organization_names

    names = organization_names(organization_ids=[actor.organization_id, side.reviewee_organization_id])
    return names.get(actor.organization_id, ""), names.get(side.reviewee_organization_id, "")


@transaction.atomic
def review_create(*, actor: Actor, data: ReviewInput) -> Review:
    """Review the other party of a completed service order or freight order, once per party:
    the customer rates the expert and the expert the customer; the shipper rates the carrier and
    the carrier the shipper. 400 with every field problem; 404 for an order the actor's
    organization is no party of (an `:own` grant: one the user did not order or work); 422
    before the order is completed, and for a second review by the same party (nothing changes).

    Then recomputes the reviewee's aggregate from its reviews (apps/reviews/services/aggregates.py:
    the summary, the expert's passport, the carrier's offering) and publishes `review.created`."""
    grant = _grant(actor)
    _raise(review_input_errors(data))
    side = reviewed_side(actor=actor, subject_type=data.subject_type, subject_id=data.subject_id, grant=grant)
    author_name, reviewee_name = _names(actor, side)
    review = Review(
        subject_type=data.subject_type,
        subject_id=data.subject_id,
        subject_number=side.subject_number,
        reviewee_type=side.reviewee_type,
        reviewee_id=side.reviewee_id,
        reviewee_organization_id=side.reviewee_organization_id,
        offering_id=side.offering_id,
        author_id=actor.user_id,
        author_organization_id=actor.organization_id,
        author_organization_name=author_name,
        reviewee_organization_name=reviewee_name,
        rating=data.rating,
        text=data.text.strip(),
    )
    try:
        with transaction.atomic():
            review.save(force_insert=True)
    except IntegrityError as error:
        # The same party's review committed first (a concurrent one waited on the unique index).
        if "review_one_per_party" in str(error):
            raise _reviewed_already(data.subject_type, side.subject_number) from error
        raise
    reviewee_aggregate_recompute(
        reviewee_type=review.reviewee_type,
        reviewee_id=review.reviewee_id,
        organization_id=review.reviewee_organization_id,
        offering_id=review.offering_id,
        actor_id=actor.user_id,
    )
    audit_record(
        action="review.created",
        resource_type="review",
        resource_id=review.id,
        new_values={"subject": f"{review.subject_type} {review.subject_id}", "rating": review.rating},
        organization_id=actor.organization_id,
        actor=actor,
    )
    outbox_publish(
        ReviewCreated(
            organization_id=actor.organization_id,
            review_id=str(review.id),
            author_user_id=str(actor.user_id) if actor.user_id else None,
            subject_type=review.subject_type,
            subject_id=str(review.subject_id),
            subject_number=review.subject_number,
            reviewee_type=review.reviewee_type,
            reviewee_id=str(review.reviewee_id),
            reviewee_organization_id=str(review.reviewee_organization_id),
            reviewee_user_id=str(side.reviewee_user_id) if side.reviewee_user_id else None,
            rating=review.rating,
            offering_id=str(review.offering_id) if review.offering_id else None,
            party_organization_ids=sorted([str(actor.organization_id), str(review.reviewee_organization_id)]),
        )
    )
    logger.info(
        "review.created",
        extra={"review_id": str(review.id), "reviewee_type": review.reviewee_type, "rating": review.rating},
    )
    return review


@transaction.atomic
def review_set_hidden(*, actor: Actor, review_id: UUID, hidden: bool, reason: str = "") -> Review:
    """Platform staff hide an abusive review (with a reason) or put it back; audited. A hidden
    review leaves the reviewee's aggregate (recomputed now) and every list but its author's.
    Runs in the caller's all-tenants scope (the staff back-office). Locks the review, then the
    reviewee's summary (as a new review does)."""
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff hide reviews.")
    if hidden and not reason.strip():
        raise ValidationFailed("Say why the review is hidden.", details={"reason": ["Required."]})
    review = Review.objects.select_for_update().filter(pk=review_id).first()
    if review is None:
        raise NotFound("Review not found.")
    if review.is_hidden == hidden:
        return review
    review.is_hidden = hidden
    review.hidden_reason = reason.strip() if hidden else ""
    review.hidden_at = timezone.now() if hidden else None
    review.hidden_by_id = actor.user_id if hidden else None
    review.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
    reviewee_aggregate_recompute(
        reviewee_type=review.reviewee_type,
        reviewee_id=review.reviewee_id,
        organization_id=review.reviewee_organization_id,
        offering_id=review.offering_id,
        actor_id=actor.user_id,
    )
    audit_record(
        action="review.hidden" if hidden else "review.unhidden",
        resource_type="review",
        resource_id=review.id,
        old_values={"is_hidden": not hidden},
        # Putting it back may have a reason too: it is kept in the audit log only.
        new_values={"is_hidden": hidden, "reason": reason.strip()},
        organization_id=review.author_organization_id,
        actor_id=actor.user_id,
    )
    logger.info("review.hidden" if hidden else "review.unhidden", extra={"review_id": str(review.id)})
    return review
