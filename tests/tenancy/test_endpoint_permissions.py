"""Deny by default: every method of every tenant endpoint names the permission it needs.

The first test walks the whole URLconf (includes too): an API view is either an
OrganizationEndpoint whose `required_permissions` maps every method it handles, or one of the
few known views that act for no organization (listed below, each with why). The others show
that a method left out of the map is refused through the real stack.
"""

from __future__ import annotations

import re
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.services import session_start
from apps.core.context import current_organization_id
from apps.tenancy import consumers, middleware
from apps.tenancy.api import base
from apps.tenancy.api.base import OrganizationEndpoint
from apps.tenancy.permissions import ANY_MEMBER, METADATA_METHODS, HasPermission, method_permission, view_handles
from apps.tenancy.resolver import NotAMember, resolve_membership
from apps.tenancy.roles import Grant, Role, grant_for
from tests.factories import OrganizationFactory, member

# API views that act for no organization, and why. A new view belongs here only if it reads
# or writes nothing of a tenant's; otherwise it derives from OrganizationEndpoint.
NOT_TENANT_VIEWS = {
    # the caller's own account (user scope): sign-up, sign-in, tokens, sessions, 2FA, passwords,
    # personal data
    "apps.tenancy.api.sign_up.RegisterView",
    "apps.accounts.api.views.VerifyEmailView",
    "apps.accounts.api.views.LoginView",
    "apps.accounts.api.views.VerifyTwoFactorView",
    "apps.accounts.api.views.RefreshView",
    "apps.accounts.api.views.LogoutView",
    "apps.accounts.api.views.SessionListView",
    "apps.accounts.api.views.SessionDetailView",
    "apps.accounts.api.views.EnableTwoFactorView",
    "apps.accounts.api.views.ConfirmTwoFactorView",
    "apps.accounts.api.views.DisableTwoFactorView",
    "apps.accounts.api.views.ChangePasswordView",
    "apps.accounts.api.views.ResetPasswordView",
    "apps.accounts.api.views.ResetPasswordConfirmView",
    "apps.accounts.api.personal_data.PersonalDataExportView",
    "apps.accounts.api.personal_data.PersonalDataExportFileView",
    "apps.accounts.api.personal_data.ErasureRequestView",
    # the user, their memberships and the invitations addressed to them (user scope)
    "apps.tenancy.api.views.MeView",
    "apps.tenancy.api.views.MyInvitationListView",
    "apps.tenancy.api.views.MyInvitationAcceptView",
    "apps.tenancy.api.views.MyInvitationDeclineView",
    "apps.tenancy.api.views.InvitationAcceptByTokenView",
    "apps.tenancy.api.views.OrganizationListView",
    # a signed, short-lived link is the permission (as with S3)
    "apps.documents.api.views.DocumentFileView",
    "apps.kyc.api.views.DocumentFileView",
    "apps.chat.api.views.AttachmentFileView",
    "apps.disputes.api.views.EvidenceFileView",
    "apps.passports.api.views.AttachmentFileView",
    "apps.service.api.expert_views.CertificationFileView",
    "apps.service.api.order_views.AttachmentFileView",
    # platform staff, across organizations
    "apps.kyc.api.views.DocumentStatusView",
    # payment providers, authenticated by their signature
    "apps.escrow.api.views.WebhookView",
    "apps.integrations.api.webhook_views.PlatformWebhookView",
    # the caller's own notifications, preferences, push subscriptions and phone (user scope)
    "apps.notifications.api.views.NotificationListView",
    "apps.notifications.api.views.NotificationDetailView",
    "apps.notifications.api.views.NotificationReadView",
    "apps.notifications.api.views.NotificationReadAllView",
    "apps.notifications.api.views.PreferencesView",
    "apps.notifications.api.views.PushSubscriptionListView",
    "apps.notifications.api.views.PushSubscriptionDetailView",
    "apps.notifications.api.views.PushKeyView",
    "apps.notifications.api.views.PhoneVerificationView",
    "apps.notifications.api.views.PhoneConfirmView",
    # platform staff: notifications to anyone, and their templates
    "apps.notifications.api.views.SendView",
    "apps.notifications.api.views.TemplateListView",
    "apps.notifications.api.views.TemplateDetailView",
    "apps.notifications.api.views.TemplatePreviewView",
    # an SMS gateway's delivery reports, authenticated by its signature
    "apps.notifications.api.views.SmsReportView",
    # pure computation over what is sent, reading no row (a passport code's check digits)
    "apps.passports.api.views.CodeValidateView",
    "apps.service.api.expert_views.ExpertCodeValidateView",  # an expert code's check digits
    # a device's public passport and public service requests: anyone holding the device (the
    # owner's section is read in the caller's own organization, which the middleware resolved)
    "apps.passports.api.public_views.ScanView",
    "apps.passports.api.public_views.ScanServiceRequestView",
    # the OpenAPI schema and its viewer
    "drf_spectacular.views.SpectacularAPIView",
    "drf_spectacular.views.SpectacularSwaggerSplitView",
}


def _views(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
            if view_class is not None:
                yield prefix + str(entry.pattern), view_class


def _name(view_class) -> str:
    return f"{view_class.__module__}.{view_class.__qualname__}"


def _handled_methods(view_class) -> list[str]:
    return [
        method.upper()
        for method in view_class.http_method_names
        if method.upper() not in METADATA_METHODS and view_handles(view_class, method.upper())
    ]


def test_every_tenant_endpoint_maps_every_method_it_handles():
    views = list(_views(get_resolver().url_patterns))
    endpoints = [(route, view) for route, view in views if issubclass(view, OrganizationEndpoint)]
    assert len(endpoints) > 50  # the walk reached every app's urls

    unmapped = [
        f"{route} {_name(view)} {method}"
        for route, view in endpoints
        for method in _handled_methods(view)
        if not method_permission(view, method)
    ]
    assert unmapped == [], "tenant endpoints with a method no permission covers (deny by default refuses them)"

    others = {
        _name(view) for _, view in views if issubclass(view, APIView) and not issubclass(view, OrganizationEndpoint)
    }
    assert others - NOT_TENANT_VIEWS == set(), "API views that are not OrganizationEndpoint: derive from it"
    # A view using the permission map outside the base would skip the organization resolution.
    assert [
        _name(view) for _, view in views if _name(view) in others and HasPermission in view.permission_classes
    ] == []


def test_head_follows_get_and_any_member_is_explicit():
    class View(OrganizationEndpoint):
        required_permissions = {"GET": "order:read", "POST": ANY_MEMBER}

        def get(self, request): ...

        def post(self, request): ...

    assert method_permission(View, "HEAD") == "order:read"
    assert method_permission(View, "POST") == ANY_MEMBER
    assert method_permission(View, "PUT") is None


# --- a test-only endpoint through the real stack ------------------------------------------------


class HalfMappedEndpoint(OrganizationEndpoint):
    """GET is mapped; POST is handled but deliberately left out of the map."""

    required_permissions = {"GET": "order:read"}

    def get(self, request):
        return Response({"organization_id": str(self.organization_id)})

    def post(self, request):
        return Response({"done": True})


class AnyMemberEndpoint(OrganizationEndpoint):
    required_permissions = {"GET": ANY_MEMBER}

    def get(self, request):
        return Response({"organization_id": str(self.organization_id)})


class PathEndpoint(OrganizationEndpoint):
    required_permissions = {"GET": ANY_MEMBER}

    def get(self, request, organization_id):
        return Response({"organization_id": str(self.organization_id)})


class PathScopeEndpoint(OrganizationEndpoint):
    """The scope the view runs in: in Python (the context variable) and in PostgreSQL."""

    required_permissions = {"GET": ANY_MEMBER}

    def get(self, request, organization_id):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.current_tenant', true)")
            (tenant,) = cursor.fetchone()
        return Response({"python": str(current_organization_id()), "postgresql": tenant})


urlpatterns = [
    path("api/v1/test-only/half-mapped", HalfMappedEndpoint.as_view()),
    path("api/v1/test-only/any-member", AnyMemberEndpoint.as_view()),
    path("api/v1/test-only/organizations/<uuid:organization_id>", PathEndpoint.as_view()),
    path("api/v1/test-only/organizations/<uuid:organization_id>/scope", PathScopeEndpoint.as_view()),
    path("", include("config.urls")),
]

with_test_views = pytest.mark.urls(__name__)


@pytest.mark.django_db
@with_test_views
def test_a_method_missing_from_the_map_is_refused(api):
    organization = OrganizationFactory()
    client = api(member(organization, role=Role.ORG_ADMIN))  # a role that may do everything

    assert client.get("/api/v1/test-only/half-mapped").status_code == 200
    assert client.head("/api/v1/test-only/half-mapped").status_code == 200
    response = client.post("/api/v1/test-only/half-mapped", {}, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    # a method the view does not handle is still 405, not 403
    assert client.delete("/api/v1/test-only/half-mapped").status_code == 405


@pytest.mark.django_db
@with_test_views
def test_head_needs_the_permission_of_get(api):
    organization = OrganizationFactory()
    role = next(role for role in Role if grant_for(role, [], "order:read") is Grant.NONE)
    client = api(member(organization, role=role))

    assert client.get("/api/v1/test-only/half-mapped").status_code == 403
    response = client.head("/api/v1/test-only/half-mapped")
    assert response.status_code == 403


@pytest.mark.django_db
@with_test_views
def test_any_member_still_needs_an_organization(api):
    first, second = OrganizationFactory(), OrganizationFactory()
    user = member(first, role=Role.SHIPPER)
    member(second, role=Role.SHIPPER, user=user)

    assert api(user).get("/api/v1/test-only/any-member").status_code == 400  # which one?
    response = api(user, organization=second).get("/api/v1/test-only/any-member")
    assert response.json() == {"organization_id": str(second.id)}


@pytest.mark.django_db
@with_test_views
def test_the_path_organization_is_resolved_by_the_same_rule(api):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    user = member(mine, role=Role.SHIPPER)
    other = OrganizationFactory()
    member(other, role=Role.SHIPPER, user=user)

    # the path wins over the header's (both the user's)
    response = api(user, organization=other).get(f"/api/v1/test-only/organizations/{mine.id}")
    assert response.json() == {"organization_id": str(mine.id)}
    # not a member: 404, as any row of another tenant
    response = api(user).get(f"/api/v1/test-only/organizations/{theirs.id}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


@pytest.mark.django_db
@with_test_views
def test_a_header_naming_a_strangers_organization_is_refused_on_a_path_too(api):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    user = member(mine, role=Role.SHIPPER)

    response = api(user, organization=theirs).get(f"/api/v1/test-only/organizations/{mine.id}")
    assert response.status_code == 403
    assert response.json()["error_code"] == "TENANT_ACCESS_DENIED"
    # both strangers': the header is checked first, as before the path was looked at
    response = api(user, organization=theirs).get(f"/api/v1/test-only/organizations/{theirs.id}")
    assert response.status_code == 403
    # no caller: 401 before any organization is looked at
    assert api().get(f"/api/v1/test-only/organizations/{theirs.id}").status_code == 401


def _tenants_set(queries) -> list[str]:
    """The organizations the request's statements scoped the transaction to, in order."""
    return [
        tenant
        for query in queries
        for tenant in re.findall(r"set_config\('app\.current_tenant', '([^']*)'", query["sql"])
        if tenant
    ]


@pytest.mark.django_db
@with_test_views
def test_the_organization_is_resolved_and_entered_once_per_request(api):
    mine, other = OrganizationFactory(), OrganizationFactory()
    user = member(mine, role=Role.SHIPPER)
    member(other, role=Role.SHIPPER, user=user)
    client = api(user, organization=other)

    # a path naming one of the user's organizations, a header naming another of theirs:
    # the scope is set once, to the path's (not first to the header's, then switched)
    with CaptureQueriesContext(connection) as path_request:
        response = client.get(f"/api/v1/test-only/organizations/{mine.id}")
    assert response.json() == {"organization_id": str(mine.id)}
    assert _tenants_set(path_request.captured_queries) == [str(mine.id)]

    # the header alone: once, to the header's
    with CaptureQueriesContext(connection) as header_request:
        response = client.get("/api/v1/test-only/any-member")
    assert response.json() == {"organization_id": str(other.id)}
    assert _tenants_set(header_request.captured_queries) == [str(other.id)]

    # a path that is not theirs: 404, and no organization entered at all
    with CaptureQueriesContext(connection) as refused_request:
        response = client.get(f"/api/v1/test-only/organizations/{OrganizationFactory().id}")
    assert response.status_code == 404
    assert _tenants_set(refused_request.captured_queries) == []


@pytest.mark.django_db
@with_test_views
def test_the_view_runs_in_the_path_organizations_scope_under_wsgi_and_asgi(api):
    # Under ASGI, Django runs process_view apart from the view (sync_to_async): the scope it
    # enters must still be the one the view's queries and code see.
    mine, other = OrganizationFactory(), OrganizationFactory()
    user = member(mine, role=Role.SHIPPER)
    member(other, role=Role.SHIPPER, user=user)
    url = f"/api/v1/test-only/organizations/{mine.id}/scope"
    expected = {"python": str(mine.id), "postgresql": str(mine.id)}

    assert api(user, organization=other).get(url).json() == expected
    headers = {"Authorization": f"Bearer {session_start(user=user).access}", "X-Organization-ID": str(other.id)}
    assert async_to_sync(AsyncClient().get)(url, headers=headers).json() == expected


# --- the one resolver (HTTP header, HTTP path and the live feed all call it) ---------------------


def test_the_resolver_picks_the_requested_or_the_only_membership():
    first, second = uuid.uuid4(), uuid.uuid4()
    assert resolve_membership({first: "a"}, None) == "a"
    assert resolve_membership({first: "a", second: "b"}, None) is None
    assert resolve_membership({}, None) is None
    assert resolve_membership({first: "a", second: "b"}, second) == "b"
    with pytest.raises(NotAMember):
        resolve_membership({first: "a"}, second)
    # the path wins over the request; a request for a stranger's is refused even then
    assert resolve_membership({first: "a", second: "b"}, second, path_id=first) == "a"
    assert resolve_membership({first: "a", second: "b"}, None, path_id=second) == "b"
    with pytest.raises(NotAMember) as refused:
        resolve_membership({first: "a"}, None, path_id=second)
    assert refused.value.in_path
    with pytest.raises(NotAMember) as refused:
        resolve_membership({first: "a"}, second, path_id=first)
    assert not refused.value.in_path
    # every entry point uses this one function (HTTP: the middleware, for header and path alike;
    # the base endpoint only answers the path's refusal)
    for module in (middleware, consumers):
        assert module.resolve_membership is resolve_membership
    assert base.OrganizationEndpoint.path_organization_kwarg == "organization_id"
