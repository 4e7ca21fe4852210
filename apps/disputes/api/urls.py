"""Routes of disputes under /api/v1/disputes."""

from django.urls import path

from apps.disputes.api import views

urlpatterns = [
    path("disputes", views.DisputeListView.as_view(), name="dispute-list"),
    path("disputes/<uuid:dispute_id>", views.DisputeDetailView.as_view(), name="dispute-detail"),
    path("disputes/<uuid:dispute_id>/status", views.DisputeStatusView.as_view(), name="dispute-status"),
    path("disputes/<uuid:dispute_id>/evidence", views.DisputeEvidenceView.as_view(), name="dispute-evidence"),
    path("disputes/evidence/<str:token>", views.EvidenceFileView.as_view(), name="dispute-evidence-file"),
    path("disputes/<uuid:dispute_id>/timeline", views.DisputeTimelineView.as_view(), name="dispute-timeline"),
]
