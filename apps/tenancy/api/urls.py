from django.urls import path

from apps.tenancy.api import sign_up, views

urlpatterns = [
    path("auth/register", sign_up.RegisterView.as_view(), name="auth-register"),
    path("me", views.MeView.as_view(), name="me"),
    path("me/invitations", views.MyInvitationListView.as_view(), name="my-invitation-list"),
    path(
        "me/invitations/<uuid:invitation_id>/accept",
        views.MyInvitationAcceptView.as_view(),
        name="my-invitation-accept",
    ),
    path(
        "me/invitations/<uuid:invitation_id>/decline",
        views.MyInvitationDeclineView.as_view(),
        name="my-invitation-decline",
    ),
    path("invitations/accept", views.InvitationAcceptByTokenView.as_view(), name="invitation-accept-by-token"),
    path("organizations", views.OrganizationListView.as_view(), name="organization-list"),
    path("organizations/<uuid:organization_id>", views.OrganizationDetailView.as_view(), name="organization-detail"),
    path("organizations/<uuid:organization_id>/members", views.MemberListView.as_view(), name="member-list"),
    path(
        "organizations/<uuid:organization_id>/members/<uuid:member_id>",
        views.MemberDetailView.as_view(),
        name="member-detail",
    ),
    path(
        "organizations/<uuid:organization_id>/invitations",
        views.InvitationListView.as_view(),
        name="invitation-list",
    ),
    path(
        "organizations/<uuid:organization_id>/invitations/<uuid:invitation_id>",
        views.InvitationDetailView.as_view(),
        name="invitation-detail",
    ),
    path("organizations/<uuid:organization_id>/features", views.FeatureListView.as_view(), name="feature-list"),
    path(
        "organizations/<uuid:organization_id>/features/<slug:name>",
        views.FeatureDetailView.as_view(),
        name="feature-detail",
    ),
]
