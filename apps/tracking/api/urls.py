"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

from django.urls import path

from apps.tracking.api import geofence_views as geofences
from apps.tracking.api import shipment_views as shipments

urlpatterns: list = [
    path("tracking/geofences", geofences.GeofenceListView.as_view(), name="tracking-geofences"),
    path("tracking/geofences/<uuid:geofence_id>", geofences.GeofenceDetailView.as_view(), name="tracking-geofence"),
    path("tracking/orders/<uuid:order_id>", shipments.TrackingDetailView.as_view(), name="tracking-order"),
    path("tracking/orders/<uuid:order_id>/route", shipments.TrackingRouteView.as_view(), name="tracking-order-route"),
    path("tracking/orders/<uuid:order_id>/eta", shipments.TrackingEtaView.as_view(), name="tracking-order-eta"),
    path(
        "tracking/orders/<uuid:order_id>/events", shipments.TrackingEventsView.as_view(), name="tracking-order-events"
    ),
    path(
        "tracking/orders/<uuid:order_id>/route/plan",
        shipments.TrackingRoutePlanView.as_view(),
        name="tracking-order-route-plan",
    ),
    path(
        "tracking/packages/<uuid:package_id>/route/plan",
        shipments.PackageTrackingRoutePlanView.as_view(),
        name="tracking-package-route-plan",
    ),
    path("tracking/packages/<uuid:package_id>", shipments.PackageTrackingDetailView.as_view(), name="tracking-package"),
    path(
        "tracking/packages/<uuid:package_id>/route",
        shipments.PackageTrackingRouteView.as_view(),
        name="tracking-package-route",
    ),
    path(
        "tracking/packages/<uuid:package_id>/eta",
        shipments.PackageTrackingEtaView.as_view(),
        name="tracking-package-eta",
    ),
    path(
        "tracking/packages/<uuid:package_id>/events",
        shipments.PackageTrackingEventsView.as_view(),
        name="tracking-package-events",
    ),
]
