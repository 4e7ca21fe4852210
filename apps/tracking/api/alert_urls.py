"""Routes of alerts under /api/v1/tracking/alerts."""

from django.urls import path

from apps.tracking.api import alert_views

urlpatterns = [
    path("tracking/alerts", alert_views.AlertListView.as_view(), name="tracking-alert-list"),
    path("tracking/alerts/<uuid:alert_id>", alert_views.AlertDetailView.as_view(), name="tracking-alert-detail"),
    path(
        "tracking/alerts/<uuid:alert_id>/acknowledge",
        alert_views.AlertAcknowledgeView.as_view(),
        name="tracking-alert-acknowledge",
    ),
    path(
        "tracking/alerts/<uuid:alert_id>/resolve", alert_views.AlertResolveView.as_view(), name="tracking-alert-resolve"
    ),
]
