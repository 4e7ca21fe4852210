"""Routes of disputes under /api/v1/disputes."""

from django.urls import path

from apps.disputes.api import views

urlpatterns = [
    path("disputes", views.DisputeListView.as_view(), name="dispute-list"),
    path("disputes/<uuid:dispute_id>", views.DisputeDetailView.as_view(), name="dispute-detail"),
    path("disputes/<uuid:dispute_id>/status", views.DisputeStatusView.as_view(), name="dispute-status"),
    path("disputes/<uuid:dispute_id>/evidence", views.DisputeEvidenceView.as_view(), name="dispute-evidence"),
    path("disputes/<uuid:dispute_id>/mediator", views.DisputeMediatorView.as_view(), name="dispute-mediator"),
    path("disputes/<uuid:dispute_id>/resolution", views.DisputeResolutionView.as_view(), name="dispute-resolution"),
    path("disputes/evidence/<str:token>", views.EvidenceFileView.as_view(), name="dispute-evidence-file"),
    path("disputes/<uuid:dispute_id>/timeline", views.DisputeTimelineView.as_view(), name="dispute-timeline"),
]
