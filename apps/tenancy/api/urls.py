from django.urls import path

from apps.tenancy.api import views

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("organizations", views.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/<uuid:organization_id>", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<uuid:organization_id>/members", views.MemberListView.as_view(), name="member-list"),
    path(
        "organizations/<uuid:organization_id>/members/<uuid:member_id>",
        views.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path(
        "organizations/<uuid:organization_id>/members/<uuid:member_id>/unlock",
        views.MemberUnlockView.as_view(),
        name="member-unlock",
    ),
    path("organizations/<uuid:organization_id>/features", views.FeatureListView.as_view(), name="feature-list"),
    path(
        "organizations/<uuid:organization_id>/features/<slug:name>",
        views.FeatureDetailView.as_view(),
        name="feature-detail",
    ),
]
