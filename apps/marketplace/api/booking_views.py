"""Bookings API: a shipper books an instant quote; the carrier confirms or declines."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.marketplace import selectors, services
from apps.marketplace.api import booking_serializers as s
from apps.marketplace.api.serializers import OptionalReasonInput
from apps.tenancy.api.base import OrganizationEndpoint

REFUSED = OpenApiResponse(description="INVALID_STATE_TRANSITION, KYC_NOT_VERIFIED")


class BookingView(OrganizationEndpoint):
    def booking_body(self, booking_id) -> dict:
        booking = selectors.booking_get(
            organization_id=self.organization_id, booking_id=booking_id, created_by_id=self.own_customer_id()
        )
        return s.BookingDetailOutput(booking).data


class BookingListView(BookingView):
    # Booking is placing a freight order; the carrier answers as it works its orders.
    required_permissions = {"GET": "order:read", "POST": "order:create"}

    @extend_schema(responses=s.BookingOutput(many=True), summary="Bookings you made, and bookings of your offerings")
    def get(self, request):
        queryset = selectors.booking_list(organization_id=self.organization_id, created_by_id=self.own_customer_id())
        return paginated_response(self, queryset, s.BookingOutput)

    @extend_schema(
        request=s.BookingInput,
        responses={
            201: s.BookingDetailOutput,
            422: OpenApiResponse(description="QUOTE_EXPIRED, KYC_NOT_VERIFIED, or the quote is booked already"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Book an instant quote: a freight order at the quoted price, pending the carrier's confirmation",
    )
    @idempotent
    def post(self, request):
        data = s.BookingInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_create(
            actor=self.actor(), quote_id=data.validated_data["quote_id"], shipment=data.validated_data["shipment"]
        )
        return Response(self.booking_body(booking.id), status=201)


class BookingDetailView(BookingView):
    required_permissions = {"GET": "order:read"}

    @extend_schema(responses=s.BookingDetailOutput, summary="One booking with its history")
    def get(self, request, booking_id):
        return Response(self.booking_body(booking_id))


class BookingConfirmView(BookingView):
    required_permissions = {"POST": "order:update"}

    @extend_schema(
        request=None,
        responses={200: s.BookingDetailOutput, 422: REFUSED},
        summary="Confirm a booking of your offering (its order is confirmed)",
    )
    def post(self, request, booking_id):
        services.booking_confirm(actor=self.actor(), booking_id=booking_id)
        return Response(self.booking_body(booking_id))


class BookingDeclineView(BookingView):
    required_permissions = {"POST": "order:update"}

    @extend_schema(
        request=OptionalReasonInput,
        responses={200: s.BookingDetailOutput, 422: REFUSED},
        summary="Decline a booking of your offering (its order is cancelled)",
    )
    def post(self, request, booking_id):
        data = OptionalReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.booking_decline(actor=self.actor(), booking_id=booking_id, reason=data.validated_data["reason"])
        return Response(self.booking_body(booking_id))
