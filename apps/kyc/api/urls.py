from django.urls import path

from apps.kyc.api import views

urlpatterns = [
    path("kyc/documents", views.DocumentListView.as_view(), name="kyc-document-list"),
    path("kyc/documents/<uuid:document_id>", views.DocumentDetailView.as_view(), name="kyc-document-detail"),
    path("kyc/documents/<uuid:document_id>/status", views.DocumentStatusView.as_view(), name="kyc-document-status"),
    path("kyc/files/<str:token>", views.DocumentFileView.as_view(), name="kyc-document-file"),
    path("kyc/verification-status", views.VerificationStatusView.as_view(), name="kyc-verification-status"),
    path("kyc/resubmit", views.ResubmitView.as_view(), name="kyc-resubmit"),
]
