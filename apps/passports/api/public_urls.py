"""The public scan API (no login): /api/v1/scan/{code} and its service requests."""

from django.urls import path

from apps.passports.api import public_views as views

urlpatterns = [
    path("scan/<str:code>", views.ScanView.as_view(), name="passport-scan"),
    path(
        "scan/<str:code>/service-requests",
        views.ScanServiceRequestView.as_view(),
        name="passport-scan-service-requests",
    ),
]
