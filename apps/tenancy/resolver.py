"""Which organization a caller acts for: the one tenant resolver of every entry point.

HTTP (TenantMiddleware, once per request, with the header and the path together) and the
live feed (apps.tenancy.consumers) all pick the membership here, so that the rule is
written once:

- an organization that was asked for (the `X-Organization-ID` header, the socket's
  `organization`) must be one of the caller's active memberships, otherwise `NotAMember`;
- an API path that names the organization (`/organizations/{organization_id}/...`) wins over
  the header; it too must be one of the caller's, otherwise `NotAMember` with `in_path`
  (each entry point answers in its own way: 403, 404 for the path, close 4403);
- with nothing asked for, a caller with exactly one organization acts for it, a caller with
  several (or none) for none until they say which.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TypeVar
from uuid import UUID

from apps.core.context import Scope, switch
from apps.tenancy.selectors import active_memberships_of

M = TypeVar("M")

# The request attribute TenantMiddleware sets, and OrganizationEndpoint answers 404 for, when
# the path names an organization the user is not an active member of.
PATH_ORGANIZATION_REFUSED = "path_organization_refused"


class NotAMember(Exception):
    """The organization asked for is not one the caller is an active member of.

    `in_path` tells that the URL's path named it (HTTP answers 404 then, as for any row of
    another tenant; a header or a socket naming it is refused outright).
    """

    def __init__(self, organization_id, *, in_path: bool = False):
        super().__init__(organization_id)
        self.organization_id = organization_id
        self.in_path = in_path


def memberships_by_organization(*, user_id: UUID) -> dict:
    """The user's active memberships keyed by organization id (run in the user's scope)."""
    return {m.organization_id: m for m in active_memberships_of(user_id=user_id)}


def parse_organization_id(value) -> UUID | None:
    """An organization id from outside (header, query string, message); None if it is not a UUID."""
    if isinstance(value, UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (TypeError, ValueError, AttributeError):
        return None


def resolve_membership(
    memberships: Mapping[UUID, M], requested_id: UUID | None = None, *, path_id: UUID | None = None
) -> M | None:
    """The membership to act with: the path's, or the requested one's, or the only one, or None.

    `requested_id` is what the caller asked for (header, socket); `path_id` the organization
    an API path names, which wins. Raises NotAMember when either is not among `memberships`
    (the requested one is checked first, so a header naming a stranger's is refused even on a
    path).
    """
    if requested_id is not None and requested_id not in memberships:
        raise NotAMember(requested_id)
    if path_id is not None:
        membership = memberships.get(path_id)
        if membership is None:
            raise NotAMember(path_id, in_path=True)
        return membership
    if requested_id is not None:
        return memberships[requested_id]
    if len(memberships) == 1:
        return next(iter(memberships.values()))
    return None


def enter_organization(request, membership) -> None:
    """Make `membership` the request's and scope the transaction to its organization.

    Called once per request, by TenantMiddleware; `request` is Django's request, and the
    enclosing `activate` (TenantMiddleware) restores the previous scope when the request ends.
    """
    request.membership = membership
    if membership is not None:
        switch(Scope(user_id=membership.user_id, organization_id=membership.organization_id))
