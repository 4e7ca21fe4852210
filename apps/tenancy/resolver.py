"""Which organization a caller acts for: the one tenant resolver of every entry point.

HTTP (TenantMiddleware, then `OrganizationEndpoint` for a path that names the organization)
and the live feed (apps.tenancy.consumers) all pick the membership here, so that the rule
is written once:

- an organization that was asked for (the path's `organization_id`, the `X-Organization-ID`
  header, the socket's `organization`) must be one of the caller's active memberships,
  otherwise `NotAMember` (each entry point answers it in its own way: 403, 404, close 4403);
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


class NotAMember(Exception):
    """The organization asked for is not one the caller is an active member of."""


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


def resolve_membership(memberships: Mapping[UUID, M], requested_id: UUID | None) -> M | None:
    """The membership to act with: the requested organization's, or the only one, or None.

    Raises NotAMember when an organization was requested that is not among `memberships`.
    """
    if requested_id is not None:
        membership = memberships.get(requested_id)
        if membership is None:
            raise NotAMember(requested_id)
        return membership
    if len(memberships) == 1:
        return next(iter(memberships.values()))
    return None


def enter_organization(request, membership) -> None:
    """Make `membership` the request's and scope the transaction to its organization.

    `request` is Django's request; the enclosing `activate` (TenantMiddleware) restores the
    previous scope when the request ends.
    """
    if getattr(request, "membership", None) is membership and membership is not None:
        return
    request.membership = membership
    if membership is not None:
        switch(Scope(user_id=membership.user_id, organization_id=membership.organization_id))
