"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

from apps.tracking.api import carrier

urlpatterns: list = [*carrier.urlpatterns]
