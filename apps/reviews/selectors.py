"""Reads of reviews: the reviews an organization wrote or received (row-level security already
limits them to its own; a hidden review stays visible to its author only), one review, and a
reviewee's public summary."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db.models import Q, QuerySet

from apps.core.errors import NotFound
from apps.reviews.models import RATING_MAX, RATING_MIN, Review, ReviewSummary


def review_list(
    *,
    organization_id: UUID,
    subject_type: str | None = None,
    subject_id: UUID | None = None,
    reviewee_type: str | None = None,
    reviewee_id: UUID | None = None,
    mine: bool | None = None,
) -> QuerySet[Review]:
    """The reviews the organization wrote or received, newest first; `mine` True: only those it
    wrote, False: only those about it. A hidden review is left out, except for its author."""
    queryset = (
        Review.objects.visible_to(organization_id)
        .filter(Q(is_hidden=False) | Q(author_organization_id=organization_id))
        .order_by("-created_at", "-id")
    )
    if mine is True:
        queryset = queryset.filter(author_organization_id=organization_id)
    elif mine is False:
        queryset = queryset.filter(reviewee_organization_id=organization_id)
    lookups = {
        "subject_type": subject_type,
        "subject_id": subject_id,
        "reviewee_type": reviewee_type,
        "reviewee_id": reviewee_id,
    }
    return queryset.filter(**{name: value for name, value in lookups.items() if value is not None})


def review_get(*, organization_id: UUID, review_id: UUID) -> Review:
    """One review the organization wrote or received; 404 for any other (and for a hidden one,
    but to its author)."""
    review = next(iter(review_list(organization_id=organization_id).filter(pk=review_id)), None)
    if review is None:
        raise NotFound("Review not found.")
    return review


@dataclass(frozen=True)
class RatingSummary:
    reviewee_type: str
    reviewee_id: UUID
    average: Decimal
    count: int
    # How many reviews give each rating, 1 to 5.
    histogram: dict[int, int]


def reviewee_summary(*, reviewee_type: str, reviewee_id: UUID) -> RatingSummary:
    """The reviewee's rating as every tenant reads it (its visible reviews; none: average 0,
    count 0). One query, whatever the number of reviews."""
    row = ReviewSummary.objects.filter(reviewee_type=reviewee_type, reviewee_id=reviewee_id).first()
    if row is None or not row.review_count:
        empty = dict.fromkeys(range(RATING_MIN, RATING_MAX + 1), 0)
        return RatingSummary(reviewee_type, reviewee_id, Decimal("0.00"), 0, empty)
    return RatingSummary(reviewee_type, reviewee_id, row.rating_average, row.review_count, row.histogram())
