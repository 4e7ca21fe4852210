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


class HasPermission(BasePermission):
    """Checks `view.required_permissions[request.method]` against the current membership."""

    def has_permission(self, request, view):
        permission = getattr(view, "required_permissions", {}).get(request.method)
        if permission:
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
