"""Reviews API: after a completed service order or freight order, each of its two parties rates
the other once (1 to 5, with a text); the ratings add up per expert, carrier, customer and
shipper.

Roles (apps/tenancy/roles.py): shippers and carriers review their freight orders' other party
(`review:create`); customers review the experts who worked for them and experts the customers
they worked for, on their own service orders only (`review:create:own`); dispatchers
(operators) and organization admins review any of their organization's. Everyone who reviews
reads reviews (`review:read`): the ones their organization wrote or received, never a third
organization's. A reviewee's summary (average, count, histogram) is public to every
organization.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import query_params
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.core.parsers import StrictJSONParser
from apps.reviews import selectors, services
from apps.reviews.api import serializers as s
from apps.tenancy.api.base import OrganizationEndpoint

NOT_YOURS = OpenApiResponse(description="NOT_FOUND: no such review written or received by your organization")


class ReviewView(OrganizationEndpoint):
    """Acts for the organization that writes or receives reviews."""

    def context(self) -> dict:
        return {"organization_id": self.organization_id}


class ReviewListView(ReviewView):
    parser_classes = [StrictJSONParser]
    required_permissions = {"GET": "review:read", "POST": "review:create"}

    @extend_schema(
        parameters=[s.ReviewListQuery],
        responses=s.ReviewOutput(many=True),
        summary="The reviews your organization wrote or received, newest first",
    )
    def get(self, request):
        query = query_params(s.ReviewListQuery, request)
        reviews = selectors.review_list(
            organization_id=self.organization_id,
            subject_type=query.get("subject_type"),
            subject_id=query.get("subject_id"),
            reviewee_type=query.get("reviewee_type"),
            reviewee_id=query.get("reviewee_id"),
            mine=query.get("mine"),
        )
        return paginated_response(self, reviews, s.ReviewOutput, context=self.context())

    @extend_schema(
        request=s.ReviewCreateInput,
        responses={
            201: s.ReviewOutput,
            400: OpenApiResponse(description="Invalid or missing fields (a rating from 1 to 5, a text)"),
            404: OpenApiResponse(description="NOT_FOUND: no such order of which your organization is a party"),
            422: OpenApiResponse(
                description="VALIDATION_CONSTRAINT_VIOLATION: the order is not completed yet, or your "
                "organization has reviewed it already (one review per party)"
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Review the other party of a completed service order or freight order (once per party)",
    )
    @idempotent
    def post(self, request):
        data = s.ReviewCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_create(actor=self.actor(), data=services.ReviewInput(**data.validated_data))
        return Response(s.ReviewOutput(review, context=self.context()).data, status=201)


class ReviewDetailView(ReviewView):
    required_permissions = {"GET": "review:read"}

    @extend_schema(
        responses={200: s.ReviewOutput, 404: NOT_YOURS}, summary="A review your organization wrote or received"
    )
    def get(self, request, review_id):
        review = selectors.review_get(organization_id=self.organization_id, review_id=review_id)
        return Response(s.ReviewOutput(review, context=self.context()).data)


class ReviewSummaryView(ReviewView):
    required_permissions = {"GET": "review:read"}

    @extend_schema(
        parameters=[s.ReviewSummaryQuery],
        responses=s.ReviewSummaryOutput,
        summary="A reviewee's rating: the average, the count and how many reviews give each rating",
    )
    def get(self, request):
        query = query_params(s.ReviewSummaryQuery, request)
        summary = selectors.reviewee_summary(reviewee_type=query["reviewee_type"], reviewee_id=query["reviewee_id"])
        return Response(s.ReviewSummaryOutput(summary).data)
