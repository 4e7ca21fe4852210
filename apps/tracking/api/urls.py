"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

from django.urls import path

from apps.tracking.api import alert_urls, carrier, device_views, ingest_views

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
]
