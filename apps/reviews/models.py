"""Reviews: after a completed service order or freight order, each of its two parties rates the
other once, 1 to 5 with a text; the ratings add up per reviewee (an expert, a carrier, a
customer or a shipper organization).

- `Review`: one party's review of the other party of one completed order. Shared by the author's
  organization and the reviewed organization; no third organization reads it. Staff may hide an
  abusive one: it then leaves the reviewee's aggregate, and only its author still sees it.
- `ReviewSummary`: the reviewee's aggregate (average, count and how many of each rating), one
  row per reviewee, recomputed from the reviews whenever one is written or hidden. It is the
  reviewee's public reputation: every tenant reads it once it counts a review (a shipper choosing
  a carrier, a customer choosing an expert). The expert's passport and the carrier's offering
  show copies of it, written through their contexts' services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.rls import Published, SharedByParties

RATING_MIN, RATING_MAX = 1, 5
TEXT_MAX = 2000
REVIEW_PARTIES = ("author_organization_id", "reviewee_organization_id")


class SubjectType(models.TextChoices):
    SERVICE_ORDER = "SERVICE_ORDER", "Service order"
    FREIGHT_ORDER = "FREIGHT_ORDER", "Freight order"


class RevieweeType(models.TextChoices):
    # A service order's two sides: the expert who did the work, the customer organization.
    EXPERT = "EXPERT", "Expert"
    CUSTOMER = "CUSTOMER", "Customer"
    # A freight order's two sides: the carrier (supplier) and the shipper (client) organization.
    CARRIER = "CARRIER", "Carrier"
    SHIPPER = "SHIPPER", "Shipper"


class Review(models.Model):
    """One party's review of the other party of one completed order; never edited (staff may
    only hide it)."""

    row_visibility = SharedByParties(*REVIEW_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject_type = models.CharField(max_length=16, choices=SubjectType.choices)
    subject_id = models.UUIDField()
    subject_number = models.CharField(max_length=32, help_text="The order's number when it was reviewed.")
    reviewee_type = models.CharField(max_length=8, choices=RevieweeType.choices)
    # The expert passport's id, or the carrier's, customer's or shipper's organization id.
    reviewee_id = models.UUIDField()
    reviewee_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # The service offering that carried a freight order (its rating is kept from these reviews).
    offering_id = models.UUIDField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Copied: row-level security lets neither party read the other's organization row.
    author_organization_name = models.CharField(max_length=200)
    reviewee_organization_name = models.CharField(max_length=200)
    rating = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=TEXT_MAX)
    created_at = models.DateTimeField(auto_now_add=True)
    # Moderation: staff hide an abusive review (it leaves the aggregate), or put it back.
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.TextField(blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One review per party of an order: its organization is the party.
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "author_organization"], name="review_one_per_party"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX), name="review_rating_range"
            ),
        ]
        indexes = [
            # The lists' order with its tie-breaker, one per party (apps/core/visibility.py).
            models.Index(fields=["author_organization", "created_at", "id"], name="review_author_created_idx"),
            models.Index(fields=["reviewee_organization", "created_at", "id"], name="review_reviewee_created_idx"),
            # The aggregate of one reviewee, and of one offering.
            models.Index(fields=["reviewee_type", "reviewee_id", "rating"], name="review_reviewee_idx"),
            models.Index(fields=["offering_id"], condition=Q(offering_id__isnull=False), name="review_offering_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="review_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_type_display()} {self.subject_number}: {self.rating}/5"


class ReviewSummary(models.Model):
    """A reviewee's aggregate over its visible reviews, recomputed by the reviews services only
    (under this row's lock, so concurrent reviews never lose an update)."""

    row_visibility = Published(published_condition="review_count > 0")

    id = models.BigAutoField(primary_key=True)
    # The reviewee's organization (the expert's, or the reviewed organization itself).
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    reviewee_type = models.CharField(max_length=8, choices=RevieweeType.choices)
    reviewee_id = models.UUIDField()
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    review_count = models.PositiveIntegerField(default=0)
    count_1 = models.PositiveIntegerField(default=0)
    count_2 = models.PositiveIntegerField(default=0)
    count_3 = models.PositiveIntegerField(default=0)
    count_4 = models.PositiveIntegerField(default=0)
    count_5 = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review summaries"
        ordering = ["reviewee_type", "reviewee_id"]
        constraints = [
            models.UniqueConstraint(fields=["reviewee_type", "reviewee_id"], name="review_summary_reviewee_unique"),
            models.CheckConstraint(
                condition=Q(rating_average__gte=0, rating_average__lte=RATING_MAX), name="review_summary_average"
            ),
        ]
        indexes = [models.Index(fields=["organization", "reviewee_type"], name="review_summary_org_idx")]

    def __str__(self) -> str:
        return f"{self.reviewee_type} {self.reviewee_id}: {self.rating_average} ({self.review_count})"

    def histogram(self) -> dict[int, int]:
        return {rating: getattr(self, f"count_{rating}") for rating in range(RATING_MIN, RATING_MAX + 1)}
