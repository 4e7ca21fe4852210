"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

from apps.tracking.api import alert_urls

urlpatterns: list = [*alert_urls.urlpatterns]
