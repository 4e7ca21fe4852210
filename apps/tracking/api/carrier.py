"""Carrier tracking of an order's shipment: which carrier and number it is polled by, and how
the polling goes (GET, both parties); attached or detached by the supplier (PATCH)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.api.fields import StrictCharField
from apps.core.parsers import StrictJSONParser
from apps.orders import selectors as order_selectors
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking.models import TrackedShipment
from apps.tracking.selectors_carrier import carrier_tracking_get
from apps.tracking.services.carrier_polling import carrier_tracking_attach


class CarrierTrackingInput(serializers.Serializer):
    carrier_code = StrictCharField(max_length=32, allow_blank=True, help_text='A configured carrier; "" detaches.')
    external_tracking_number = StrictCharField(
        max_length=100, allow_blank=True, help_text='The carrier\'s tracking number; "" detaches.'
    )


class PollingOutput(serializers.Serializer):
    state = serializers.SerializerMethodField(
        help_text="off: no carrier attached; scheduled: polled at next_at; stopped: the carrier kept "
        "refusing the number (attach it again to restart); ended: the shipment's tracking ended."
    )
    next_at = serializers.DateTimeField(allow_null=True, source="poll_next_at")
    failures = serializers.IntegerField(source="poll_failures", help_text="Failed polls in a row.")
    error_code = StrictCharField(source="poll_error_code", help_text="Why the last poll failed; blank if it did not.")
    error = StrictCharField(source="poll_error")
    stopped_at = serializers.DateTimeField(allow_null=True, source="poll_stopped_at")

    @extend_schema_field(serializers.ChoiceField(choices=["off", "scheduled", "stopped", "ended"]))
    def get_state(self, shipment: TrackedShipment) -> str:
        if not shipment.external_tracking_number:
            return "off"
        if not shipment.is_active:
            return "ended"
        if shipment.poll_stopped_at is not None:
            return "stopped"
        return "scheduled"


class CarrierTrackingOutput(serializers.Serializer):
    shipment_id = serializers.UUIDField(source="id")
    order_id = serializers.UUIDField()
    carrier_code = StrictCharField()
    external_tracking_number = StrictCharField()
    polling = PollingOutput(source="*")


class CarrierTrackingView(OrganizationEndpoint):
    required_permissions = {"GET": "tracking:read", "PATCH": "tracking:update"}
    parser_classes = [StrictJSONParser]

    @extend_schema(responses=CarrierTrackingOutput, summary="The order's carrier tracking and how its polling goes")
    def get(self, request, order_id):
        customer_id = self.own_customer_id()
        if customer_id is not None:  # tracking:read:own: the user's own orders only
            order_selectors.order_get(organization_id=self.organization_id, order_id=order_id, customer_id=customer_id)
        shipment = carrier_tracking_get(organization_id=self.organization_id, order_id=order_id)
        return Response(CarrierTrackingOutput(shipment).data)

    @extend_schema(
        request=CarrierTrackingInput,
        responses={
            200: CarrierTrackingOutput,
            400: OpenApiResponse(description="VALIDATION_FIELD_INVALID: an unknown carrier or a malformed number"),
            403: OpenApiResponse(description="RBAC_PERMISSION_DENIED: the client's side, not the supplier's"),
            422: OpenApiResponse(description="The shipment's tracking has ended"),
        },
        summary="Attach a carrier and its tracking number to the order's shipment (supplier), or detach both",
    )
    def patch(self, request, order_id):
        data = CarrierTrackingInput(data=request.data)
        data.is_valid(raise_exception=True)
        carrier_tracking_attach(actor=self.actor(), order_id=order_id, **data.validated_data)
        shipment = carrier_tracking_get(organization_id=self.organization_id, order_id=order_id)
        return Response(CarrierTrackingOutput(shipment).data)


urlpatterns = [
    path(
        "tracking/orders/<uuid:order_id>/carrier-tracking",
        CarrierTrackingView.as_view(),
        name="tracking-order-carrier-tracking",
    ),
]
