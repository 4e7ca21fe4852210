"""Who may listen to which live-feed group: one authorizer per group kind, registered by the
context that owns the resource (`order.<id>` by orders, `thread.<id>` by chat, ...).

The registry lives in core so any context can register without importing the consumer
(apps.tenancy.consumers), which runs each check inside the socket's tenant scope.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

GroupAuthorizer = Callable[[uuid.UUID, str], bool]

_authorizers: dict[str, GroupAuthorizer] = {}


def register_group_authorizer(kind: str, check: GroupAuthorizer) -> None:
    """`check(organization_id, resource_id)` says whether that tenant may see the resource;
    it runs in the tenant's scope, so a query that finds no row answers no."""
    _authorizers[kind] = check


def group_authorizer(kind: str) -> GroupAuthorizer | None:
    return _authorizers.get(kind)
