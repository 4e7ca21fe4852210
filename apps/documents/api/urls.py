from django.urls import path

from apps.documents.api import views

urlpatterns = [
    path("documents", views.DocumentListView.as_view(), name="document-list"),
    path("documents/generate", views.GenerateView.as_view(), name="document-generate"),
    path("documents/templates", views.TemplateListView.as_view(), name="document-template-list"),
    path("documents/templates/<uuid:template_id>", views.TemplateDetailView.as_view(), name="document-template"),
    path("documents/files/<str:token>", views.DocumentFileView.as_view(), name="document-file"),
    path("documents/<uuid:document_id>", views.DocumentDetailView.as_view(), name="document-detail"),
    path("documents/<uuid:document_id>/sign", views.SignView.as_view(), name="document-sign"),
    path("documents/<uuid:document_id>/verify", views.VerifyView.as_view(), name="document-verify"),
]
