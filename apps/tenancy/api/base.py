"""The base of API endpoints that act for the current organization (every context's)."""

from __future__ import annotations

from uuid import UUID

from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from apps.tenancy.permissions import HasPermission, current_membership
from apps.tenancy.roles import Actor, Grant


class CurrentOrganizationView(APIView):
    """Acts for the current organization: the user's only one, or the one `X-Organization-ID`
    names. `required_permissions` maps each method to the permission it needs."""

    permission_classes = [IsAuthenticated, HasPermission]

    @property
    def membership(self):
        return current_membership(self.request._request)

    @property
    def organization_id(self) -> UUID:
        return self.membership.organization_id

    def own_customer_id(self) -> UUID | None:
        """With an `:own` grant, the user's id (rows limited to their own); None with a full grant."""
        grant = getattr(self.request, "permission_grant", Grant.ALL)
        return self.request.user.id if grant is Grant.OWN else None

    def actor(self) -> Actor:
        """The caller as services see them: user, organization, role and extra permissions."""
        return Actor.of(self.membership, user_id=self.request.user.id)
