"""Every write of reviews, one function per use case (split by group, one façade here)."""

from apps.reviews.services.aggregates import reviewee_aggregate_recompute
from apps.reviews.services.reviews import ReviewInput, review_create, review_input_errors, review_set_hidden

__all__ = [
    "ReviewInput",
    "review_create",
    "review_input_errors",
    "review_set_hidden",
    "reviewee_aggregate_recompute",
]
