"""The base of API endpoints that act for an organization (every context's): OrganizationEndpoint."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import ClassVar
from uuid import UUID

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from apps.core.context import system_scope
from apps.core.errors import NotFound, PermissionDenied
from apps.tenancy.permissions import FeatureEnabled, HasPermission, current_membership, method_permission
from apps.tenancy.resolver import PATH_ORGANIZATION_REFUSED
from apps.tenancy.roles import Actor, Grant

PATH_ORGANIZATION_KWARG = "organization_id"


class OrganizationEndpoint(APIView):
    """Acts for the organization the path names (`/organizations/{organization_id}/...`), or else
    for the one `X-Organization-ID` names or the caller's only one. Each method needs a
    permission of the caller's role in that organization."""

    # (The docstring above is every tenant operation's description in the OpenAPI schema.)
    # The organization is resolved once per request, by TenantMiddleware.process_view with
    # apps.tenancy.resolver: the path's `path_organization_kwarg` when the URL has it (a user
    # who is not an active member gets 404 here, as for any row of another tenant), otherwise
    # the one `X-Organization-ID` names (403 TENANT_ACCESS_DENIED in the middleware) or the
    # user's only one. Then `required_permissions` maps each method the view handles to the
    # permission it needs; a method without an entry is refused (deny by default;
    # `ANY_MEMBER` for "any active member"; HEAD follows GET; OPTIONS needs none).
    # `required_feature`, when set, names a feature flag that must be on (403 FEATURE_DISABLED).

    permission_classes = [IsAuthenticated, HasPermission, FeatureEnabled]
    required_permissions: ClassVar[dict[str, str]] = {}
    # The URL argument naming the organization to act for (read by TenantMiddleware).
    path_organization_kwarg: ClassVar[str] = PATH_ORGANIZATION_KWARG

    def check_permissions(self, request):
        if request.user.is_authenticated and getattr(request._request, PATH_ORGANIZATION_REFUSED, False):
            raise NotFound("Organization not found.")
        super().check_permissions(request)

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


class StaffActingEndpoint(OrganizationEndpoint):
    """An organization endpoint that platform staff may also call for no organization: the
    disputes' mediators, the staff who decide a device takeover when its owner is gone.

    A staff user whose request names no organization of theirs (TenantMiddleware resolved no
    membership) acts as staff: `is_staff` stands in for a role's permission, the actor is
    `Actor.staff`, and the view runs its reads and writes in `scope()`, the audited all-tenants
    scope. One who acts for an organization of their own is its member here, never both at once.
    `staff_methods` limits what staff may call (None: every method the view handles)."""

    staff_methods: ClassVar[frozenset[str] | None] = None
    staff_refusal: ClassVar[str] = "Platform staff do not do this here."
    # Why the all-tenants scope is entered: the audit row's reason, with the path.
    staff_scope_reason: ClassVar[str] = "platform staff"

    def acting_as_staff(self) -> bool:
        request = self.request
        return bool(
            request.user.is_authenticated
            and request.user.is_staff
            and getattr(request._request, "membership", None) is None
        )

    def check_permissions(self, request):
        if self.acting_as_staff():
            if self.staff_methods is not None and request.method not in self.staff_methods:
                raise PermissionDenied(self.staff_refusal)
            return
        super().check_permissions(request)

    def actor(self) -> Actor:
        if self.acting_as_staff():
            return Actor.staff(self.request.user.id)
        return super().actor()

    def scope(self) -> AbstractContextManager:
        """The audited all-tenants scope for staff; nothing more for a member (already in its own)."""
        if self.acting_as_staff():
            return system_scope(reason=f"{self.staff_scope_reason}: {self.request.path}", actor_id=self.request.user.id)
        return nullcontext()
