"""Permission checks for views: roles (`resource:action[:own]`) and feature flags."""

from __future__ import annotations

from functools import wraps

from rest_framework.permissions import BasePermission

from apps.core.errors import ErrorCode, FeatureDisabled, PermissionDenied, ValidationFailed
from apps.tenancy.roles import Grant, grant_for
from apps.tenancy.selectors import feature_is_active


def current_membership(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        raise ValidationFailed(
            "Choose an organization with the X-Organization-ID header: you belong to several, or to none.",
            code=ErrorCode.VALIDATION_FIELD_REQUIRED,
            details={"X-Organization-ID": ["Required."]},
        )
    return membership


def require_permission(request, permission: str) -> Grant:
    """The grant the current membership holds for `permission`; RBAC_PERMISSION_DENIED if none.

    Views that receive Grant.OWN must limit their rows to the user's own.
    """
    membership = current_membership(request)
    grant = grant_for(membership.role, membership.extra_permissions, permission)
    if grant is Grant.NONE:
        raise PermissionDenied(f"Your role does not allow {permission}.")
    return grant


# A method any active member of the organization may call, whatever their role: it must be
# written in `required_permissions` like any permission (a missing entry is refused).
ANY_MEMBER = "*:member"

# OPTIONS answers the endpoint's static description (name, parsers, renderers: DRF's
# metadata, the same for every caller, no rows), so it needs no entry in the map.
METADATA_METHODS = frozenset({"OPTIONS"})


def method_permission(view, method: str) -> str | None:
    """The permission `view.required_permissions` maps `method` to; HEAD follows GET."""
    permissions = getattr(view, "required_permissions", {})
    if method == "HEAD" and "HEAD" not in permissions:
        method = "GET"
    return permissions.get(method)


def view_handles(view, method: str) -> bool:
    """Whether the view has a handler for `method` (Django gives HEAD the GET handler)."""
    name = method.lower()
    return name in view.http_method_names and (hasattr(view, name) or (name == "head" and hasattr(view, "get")))


class HasPermission(BasePermission):
    """Checks `view.required_permissions[request.method]` against the current membership.

    Deny by default: a method the view handles but the map does not name is refused
    (403 RBAC_PERMISSION_DENIED); a method it does not handle falls through to 405.
    `ANY_MEMBER` admits any active member of the organization; OPTIONS needs no entry
    (METADATA_METHODS).
    """

    def has_permission(self, request, view):
        method = request.method
        if method in METADATA_METHODS or not view_handles(view, method):
            return True
        permission = method_permission(view, method)
        if permission is None:
            raise PermissionDenied(f"No role may {method} here.")
        if permission == ANY_MEMBER:
            current_membership(request)
            request.permission_grant = Grant.ALL
        else:
            request.permission_grant = require_permission(request, permission)
        return True


class FeatureEnabled(BasePermission):
    """Checks `view.required_feature` for the current organization: 403 FEATURE_DISABLED if off."""

    def has_permission(self, request, view):
        name = getattr(view, "required_feature", None)
        if name:
            require_feature(request, name)
        return True


def require_feature(request, name: str) -> None:
    membership = current_membership(request)
    if not feature_is_active(organization_id=membership.organization_id, name=name):
        raise FeatureDisabled(f"The feature {name!r} is not enabled for this organization.")


def requires_feature(name: str):
    """Decorator for view methods: `@requires_feature("assisted_purchase")`."""

    def decorate(method):
        @wraps(method)
        def wrapper(self, request, *args, **kwargs):
            require_feature(request, name)
            return method(self, request, *args, **kwargs)

        return wrapper

    return decorate
