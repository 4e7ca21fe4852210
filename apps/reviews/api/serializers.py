"""Serializers of the reviews API: writing a review, reading reviews, a reviewee's summary."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import StrictCharField
from apps.reviews.models import RATING_MAX, RATING_MIN, TEXT_MAX, Review, RevieweeType, SubjectType


class ReviewCreateInput(serializers.Serializer):
    subject_type = serializers.ChoiceField(
        choices=SubjectType.choices, help_text="What is reviewed: a service order or a freight order."
    )
    subject_id = serializers.UUIDField(help_text="The completed order's id.")
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX, help_text="1 (worst) to 5 (best).")
    text = StrictCharField(max_length=TEXT_MAX, help_text="What went well or badly, in your words.")


class ReviewListQuery(serializers.Serializer):
    subject_type = serializers.ChoiceField(choices=SubjectType.choices, required=False)
    subject_id = serializers.UUIDField(required=False)
    reviewee_type = serializers.ChoiceField(choices=RevieweeType.choices, required=False)
    reviewee_id = serializers.UUIDField(required=False, help_text="An expert passport's or an organization's id.")
    mine = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: the reviews your organization wrote; false: the reviews about it. Default: both.",
    )


class ReviewSummaryQuery(serializers.Serializer):
    reviewee_type = serializers.ChoiceField(choices=RevieweeType.choices)
    reviewee_id = serializers.UUIDField(help_text="An expert passport's id, or the reviewed organization's id.")


class ReviewOutput(serializers.ModelSerializer):
    reviewee_organization_id = serializers.UUIDField(read_only=True)
    author_user_id = serializers.UUIDField(source="author_id", read_only=True, allow_null=True)
    author_organization_id = serializers.UUIDField(read_only=True)
    mine = serializers.SerializerMethodField(help_text="Whether your organization wrote it.")
    hidden_reason = serializers.SerializerMethodField(
        help_text="Why platform staff hid it (shown to its author only, the one party that still sees it)."
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "subject_type",
            "subject_id",
            "subject_number",
            "reviewee_type",
            "reviewee_id",
            "reviewee_organization_id",
            "reviewee_organization_name",
            "offering_id",
            "author_user_id",
            "author_organization_id",
            "author_organization_name",
            "mine",
            "rating",
            "text",
            "is_hidden",
            "hidden_reason",
            "created_at",
        ]
        read_only_fields = fields

    def get_mine(self, review: Review) -> bool:
        return review.author_organization_id == self.context.get("organization_id")

    def get_hidden_reason(self, review: Review) -> str:
        return review.hidden_reason if self.get_mine(review) else ""


class RatingCountOutput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    count = serializers.IntegerField(min_value=0)


class ReviewSummaryOutput(serializers.Serializer):
    reviewee_type = serializers.ChoiceField(choices=RevieweeType.choices)
    reviewee_id = serializers.UUIDField()
    average = serializers.DecimalField(
        max_digits=3, decimal_places=2, help_text="Of the visible reviews, rounded half up; 0.00 with none."
    )
    count = serializers.IntegerField(min_value=0)
    histogram = serializers.SerializerMethodField()

    @extend_schema_field(RatingCountOutput(many=True))
    def get_histogram(self, summary) -> list[dict]:
        """How many reviews give each rating, 1 to 5 in order (every rating, 0 when none)."""
        return [{"rating": rating, "count": count} for rating, count in sorted(summary.histogram.items())]
