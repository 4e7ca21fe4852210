"""The base of API endpoints that act for an organization (every context's): OrganizationEndpoint."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from apps.core.errors import NotFound
from apps.tenancy.permissions import FeatureEnabled, HasPermission, current_membership, method_permission
from apps.tenancy.resolver import NotAMember, enter_organization, resolve_membership
from apps.tenancy.roles import Actor, Grant

PATH_ORGANIZATION_KWARG = "organization_id"


class OrganizationEndpoint(APIView):
    """Acts for the current organization: the user's only one, or the one `X-Organization-ID`
    names. `required_permissions` maps each method to the permission it needs."""

    # (The docstring above is every tenant operation's description in the OpenAPI schema.)
    # The organization is resolved once, by apps.tenancy.resolver: the path's `organization_id`
    # when the URL has one (a user who is not an active member gets 404, as for any row of
    # another tenant), otherwise the one `X-Organization-ID` names or the user's only one
    # (TenantMiddleware, same function). Then `required_permissions` maps each method the view
    # handles to the permission it needs; a method without an entry is refused (deny by
    # default; `ANY_MEMBER` for "any active member"; HEAD follows GET; OPTIONS needs none).
    # `required_feature`, when set, names a feature flag that must be on (403 FEATURE_DISABLED).

    permission_classes = [IsAuthenticated, HasPermission, FeatureEnabled]
    required_permissions: ClassVar[dict[str, str]] = {}

    def check_permissions(self, request):
        if request.user.is_authenticated:
            self.resolve_organization(request)
        super().check_permissions(request)

    def resolve_organization(self, request) -> None:
        """Scope the request to the organization its path names, if it names one."""
        requested_id = self.kwargs.get(PATH_ORGANIZATION_KWARG)
        if requested_id is None:
            return  # the header's or the only one, resolved by TenantMiddleware
        django_request = request._request
        try:
            membership = resolve_membership(django_request.memberships, requested_id)
        except NotAMember:
            raise NotFound("Organization not found.") from None
        enter_organization(django_request, membership)

    @property
    def membership(self):
        return current_membership(self.request._request)

    @property
    def organization_id(self) -> UUID:
        return self.membership.organization_id

    @property
    def method_permission(self) -> str | None:
        """The permission the current method needs (the entry of `required_permissions`)."""
        return method_permission(self, self.request.method)

    def own_customer_id(self) -> UUID | None:
        """With an `:own` grant, the user's id (rows limited to their own); None with a full grant."""
        grant = getattr(self.request, "permission_grant", Grant.ALL)
        return self.request.user.id if grant is Grant.OWN else None

    def actor(self) -> Actor:
        """The caller as services see them: user, organization, role and extra permissions."""
        return Actor.of(self.membership, user_id=self.request.user.id)
