"""Tracking's API under /api/v1/tracking/ (each area's routes in its own module)."""

urlpatterns: list = []
