"""Alerts API: the alerts of the caller's shipments (either party), a manual alert on an
order's or a package's tracked shipment, acknowledge and resolve."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.api.filtering import filter_queryset
from apps.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from apps.core.pagination import paginated_response
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking import selectors_alerts as selectors
from apps.tracking.api import alert_serializers as s
from apps.tracking.api.alert_filters import AlertFilter
from apps.tracking.models import AlertStatus, AlertType, Severity
from apps.tracking.services import alerts as services

# Raising, acknowledging and resolving: either party's roles that follow the goods (the
# shipper's included, which posts no pings: services/alerts.py).
ALERT_PERMISSION = services.ALERT_PERMISSION
REFUSED = OpenApiResponse(description="INVALID_STATE_TRANSITION")
# The list's filters (AlertFilter), documented: an APIView's filterset is not introspected.
LIST_FILTERS = [
    OpenApiParameter("status", str, enum=AlertStatus.values),
    OpenApiParameter("severity", str, enum=Severity.values),
    OpenApiParameter("alert_type", str, enum=AlertType.values),
    OpenApiParameter("order_id", OpenApiTypes.UUID, description="Alerts of this order's shipment"),
    OpenApiParameter("package_id", OpenApiTypes.UUID, description="Alerts of this package's shipment"),
]


class AlertView(OrganizationEndpoint):
    def alert_body(self, alert_id) -> dict:
        alert = selectors.alert_get(
            organization_id=self.organization_id, alert_id=alert_id, customer_id=self.own_customer_id()
        )
        return s.AlertDetailOutput(alert).data


class AlertListView(AlertView):
    required_permissions = {"GET": "tracking:read", "POST": ALERT_PERMISSION}
    filterset_class = AlertFilter

    @extend_schema(
        parameters=LIST_FILTERS,
        responses=s.AlertOutput(many=True),
        summary="Alerts of the shipments your organization is a party of, newest first",
    )
    def get(self, request):
        queryset = selectors.alert_list(organization_id=self.organization_id, customer_id=self.own_customer_id())
        return paginated_response(self, filter_queryset(AlertFilter, request, queryset), s.AlertOutput)

    @extend_schema(
        request=s.AlertInput,
        responses={
            201: s.AlertDetailOutput,
            404: OpenApiResponse(description="The order or package is not tracked, or not yours"),
            422: OpenApiResponse(description="The shipment's tracking has ended"),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Raise a manual alert on an order's or a package's shipment (either party)",
    )
    @idempotent
    def post(self, request):
        data = s.AlertInput(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.alert_create_manual(actor=self.actor(), **data.validated_data)
        return Response(self.alert_body(alert.id), status=201)


class AlertDetailView(AlertView):
    required_permissions = {"GET": "tracking:read"}

    @extend_schema(responses=s.AlertDetailOutput, summary="One alert with its history")
    def get(self, request, alert_id):
        return Response(self.alert_body(alert_id))


class AlertAcknowledgeView(AlertView):
    required_permissions = {"POST": ALERT_PERMISSION}

    @extend_schema(
        request=s.AlertNoteInput,
        responses={200: s.AlertDetailOutput, 422: REFUSED},
        summary="Acknowledge an open alert (it no longer escalates)",
    )
    def post(self, request, alert_id):
        data = s.AlertNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.alert_acknowledge(actor=self.actor(), alert_id=alert_id, note=data.validated_data["note"])
        return Response(self.alert_body(alert_id))


class AlertResolveView(AlertView):
    required_permissions = {"POST": ALERT_PERMISSION}

    @extend_schema(
        request=s.AlertNoteInput,
        responses={200: s.AlertDetailOutput, 422: REFUSED},
        summary="Resolve an open or acknowledged alert",
    )
    def post(self, request, alert_id):
        data = s.AlertNoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.alert_resolve(actor=self.actor(), alert_id=alert_id, note=data.validated_data["note"])
        return Response(self.alert_body(alert_id))
