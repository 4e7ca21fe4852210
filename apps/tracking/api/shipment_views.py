"""The tracking read API: where an order's or a package's goods are, their route, ETA and
events, for either party of the order (a customer: their own orders' only). An order or
package of another organization, and one not tracked yet, answer 404 alike."""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from apps.core.pagination import StreamPagination
from apps.orders import selectors as order_selectors
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tracking import selectors
from apps.tracking.api import shipment_serializers as s
from apps.tracking.services import shipments as services


class EventStreamPagination(StreamPagination):
    """Events by the time they happened (the device's or carrier's), newest first."""

    ordering = ("-occurred_at", "-id")


class TrackedShipmentView(OrganizationEndpoint):
    """Finds the tracked shipment of the order or package the path names, within the member's
    reach of orders (`tracking:read`, or `tracking:read:own` for a customer)."""

    required_permissions: ClassVar[dict[str, str]] = {"GET": "tracking:read"}
    subject: ClassVar[str] = "order"

    def shipment(self):
        scope = order_selectors.order_scope(actor=self.actor(), permission=self.method_permission)
        if self.subject == "order":
            return selectors.tracked_shipment_get(scope=scope, order_id=self.kwargs["order_id"])
        return selectors.tracked_shipment_get(scope=scope, package_id=self.kwargs["package_id"])


class TrackingDetailView(TrackedShipmentView):
    @extend_schema(
        responses=s.TrackingOutput,
        summary="Where the goods are: status, position, ETA, the last 10 events and the open alerts",
    )
    def get(self, request, **path):
        shipment = self.shipment()
        context = {
            "eta": selectors.shipment_eta(shipment=shipment),
            "last_events": selectors.shipment_last_events(shipment=shipment),
            "open_alerts": selectors.shipment_open_alerts(shipment=shipment),
        }
        return Response(s.TrackingOutput(shipment, context=context).data)


class TrackingRouteView(TrackedShipmentView):
    @extend_schema(
        responses=s.RouteOutput,
        summary="The planned route, its waypoints and the travelled track, as GeoJSON",
    )
    def get(self, request, **path):
        return Response(selectors.shipment_route_geojson(shipment=self.shipment()))


class TrackingEtaView(TrackedShipmentView):
    @extend_schema(responses=s.EtaOutput, summary="The estimated arrival, the distance left and the promised time")
    def get(self, request, **path):
        return Response(s.EtaOutput(selectors.shipment_eta(shipment=self.shipment())).data)


class TrackingEventsView(TrackedShipmentView):
    pagination_class = EventStreamPagination

    @extend_schema(responses=s.EventOutput(many=True), summary="The shipment's events, newest first (by cursor)")
    def get(self, request, **path):
        queryset = selectors.shipment_events(shipment=self.shipment())
        paginator = EventStreamPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(s.EventOutput(page, many=True).data)


class TrackingRoutePlanView(TrackedShipmentView):
    """The planned route: both parties read it; the carrier (supplier side) plans it."""

    required_permissions: ClassVar[dict[str, str]] = {"GET": "tracking:read", "PUT": "tracking:update"}

    @extend_schema(responses=s.RoutePlanOutput, summary="The planned route: waypoints, windows, corridor")
    def get(self, request, **path):
        return Response(s.RoutePlanOutput(self.shipment()).data)

    @extend_schema(
        request=s.RoutePlanInput,
        responses={
            200: s.RoutePlanOutput,
            422: OpenApiResponse(description="INVALID_STATE_TRANSITION: tracking ended"),
        },
        summary="Plan the route (the carrier): replaces the waypoints; the length and promised time follow",
    )
    def put(self, request, **path):
        data = s.RoutePlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        shipment = services.shipment_route_plan(
            actor=self.actor(),
            shipment_id=self.shipment().id,
            waypoints=data.validated_data["waypoints"],
            corridor_width_m=data.validated_data.get("corridor_width_m"),
        )
        return Response(s.RoutePlanOutput(shipment).data)


def _package(view_class):
    return type(f"Package{view_class.__name__}", (view_class,), {"subject": "package"})


PackageTrackingDetailView = _package(TrackingDetailView)
PackageTrackingRouteView = _package(TrackingRouteView)
PackageTrackingEtaView = _package(TrackingEtaView)
PackageTrackingEventsView = _package(TrackingEventsView)
PackageTrackingRoutePlanView = _package(TrackingRoutePlanView)
