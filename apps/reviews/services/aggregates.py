"""A reviewee's aggregate, recomputed from its reviews: the summary row (average, count,
histogram), and the copies other contexts show (the expert's passport, the carrier's offering).

The reviewee's reviews are spread over every organization that reviewed it, and the copies are
the reviewee's rows: the recomputation reads and writes across tenants, in the audited
all-tenants scope. It counts the rows under the summary row's lock, so two reviews of one
reviewee written at once never lose an update: the second waits for the first to commit, then
counts both."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db.models import Count

from apps.core.context import system_scope
from apps.reviews.models import RATING_MAX, RATING_MIN, Review, RevieweeType, ReviewSummary

CENT = Decimal("0.01")


def average_of(histogram: dict[int, int]) -> tuple[Decimal, int]:
    """The average rating (rounded half up to two places; 0 with no review) and the count."""
    count = sum(histogram.values())
    if not count:
        return Decimal("0.00"), 0
    total = sum(rating * number for rating, number in histogram.items())
    return (Decimal(total) / Decimal(count)).quantize(CENT, rounding=ROUND_HALF_UP), count


def _histogram(**lookup) -> dict[int, int]:
    """How many visible reviews give each rating, 1 to 5 (every rating present, 0 if none)."""
    counted = dict(
        Review.objects.filter(is_hidden=False, **lookup)
        .order_by()
        .values("rating")
        .annotate(number=Count("id"))
        .values_list("rating", "number")
    )
    return {rating: counted.get(rating, 0) for rating in range(RATING_MIN, RATING_MAX + 1)}


def _summary_locked(*, reviewee_type: str, reviewee_id: UUID, organization_id: UUID) -> ReviewSummary:
    """The reviewee's summary row, made if missing, locked until the transaction ends. A
    concurrent first review waits on the unique index, then finds the row the other made."""
    ReviewSummary.objects.bulk_create(
        [ReviewSummary(organization_id=organization_id, reviewee_type=reviewee_type, reviewee_id=reviewee_id)],
        ignore_conflicts=True,
    )
    return ReviewSummary.objects.select_for_update().get(reviewee_type=reviewee_type, reviewee_id=reviewee_id)


def reviewee_aggregate_recompute(
    *, reviewee_type: str, reviewee_id: UUID, organization_id: UUID, offering_id: UUID | None, actor_id: UUID | None
) -> ReviewSummary:
    """Recount the reviewee's visible reviews into its summary and into the copies shown
    elsewhere: an expert's passport (apps.service), the offering that carried a reviewed freight
    order (apps.marketplace). Locks the summary row first (the one lock every writer of the
    reviewee's aggregate takes), then counts. Runs inside the caller's transaction."""
    from apps.marketplace.services import offering_rating_set
    from apps.service.services import expert_rating_set

    with system_scope(reason=f"reviews: the rating of {reviewee_type} {reviewee_id}", actor_id=actor_id):
        summary = _summary_locked(reviewee_type=reviewee_type, reviewee_id=reviewee_id, organization_id=organization_id)
        histogram = _histogram(reviewee_type=reviewee_type, reviewee_id=reviewee_id)
        summary.rating_average, summary.review_count = average_of(histogram)
        for rating, number in histogram.items():
            setattr(summary, f"count_{rating}", number)
        summary.save()
        if reviewee_type == RevieweeType.EXPERT:
            expert_rating_set(expert_id=reviewee_id, average=summary.rating_average, count=summary.review_count)
        if offering_id is not None:
            # Only the carrier's reviews name its offering: the carrier's lock, taken above, covers it.
            average, count = average_of(_histogram(offering_id=offering_id))
            offering_rating_set(offering_id=offering_id, average=average, count=count)
    return summary
