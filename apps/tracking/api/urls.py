"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

from django.urls import path

from apps.tracking.api import alert_urls, carrier, device_views, geofence_views, ingest_views
from apps.tracking.api import shipment_views as shipments

urlpatterns: list = [
    path("tracking/events", ingest_views.EventIngestView.as_view(), name="tracking-events"),
    path(
        "tracking/orders/<uuid:order_id>/location",
        ingest_views.OrderLocationView.as_view(),
        name="tracking-order-location",
    ),
    path(
        "tracking/packages/<uuid:package_id>/location",
        ingest_views.PackageLocationView.as_view(),
        name="tracking-package-location",
    ),
    path("tracking/devices", device_views.DeviceListView.as_view(), name="tracking-device-list"),
    path("tracking/devices/<uuid:device_id>", device_views.DeviceDetailView.as_view(), name="tracking-device-detail"),
    path(
        "tracking/devices/<uuid:device_id>/revoke",
        device_views.DeviceRevokeView.as_view(),
        name="tracking-device-revoke",
    ),
    path(
        "tracking/devices/<uuid:device_id>/assignments",
        device_views.AssignmentListView.as_view(),
        name="tracking-device-assignments",
    ),
    path(
        "tracking/devices/<uuid:device_id>/assignments/<uuid:assignment_id>/end",
        device_views.AssignmentEndView.as_view(),
        name="tracking-device-assignment-end",
    ),
    *alert_urls.urlpatterns,
    *carrier.urlpatterns,
    path("tracking/geofences", geofence_views.GeofenceListView.as_view(), name="tracking-geofences"),
    path(
        "tracking/geofences/<uuid:geofence_id>", geofence_views.GeofenceDetailView.as_view(), name="tracking-geofence"
    ),
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
