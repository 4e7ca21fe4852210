"""A telematics device's key: `Authorization: Device <key>`, accepted by the ingest endpoint only.

The key is looked up before any tenant is known, through migration 0003's SECURITY DEFINER
function `tracking_device_for_key` (only non-revoked devices, only their id and organization):
row-level security shows a request without a tenant no device at all. The request then runs
in the device's organization's tenant scope, with no user, for the rest of its transaction
(the one TenantMiddleware opened), so every row the ingest reads or writes is checked by
PostgreSQL against that organization.

A view accepts device keys by listing `DeviceKeyAuthentication` in its `authentication_classes`;
every other view keeps the default authentication, which ignores this scheme, so a device key
gets 401 there.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from apps.core.context import Scope, switch
from apps.tenancy.permissions import FeatureEnabled, HasPermission
from apps.tracking.services import devices as device_services
from apps.tracking.services.devices import KEY_PREFIX, key_digest

SCHEME = "device"
# A key is `mfd_` and 43 URL-safe characters; anything much longer is not ours and is refused
# before it is hashed.
MAX_KEY_LENGTH = 100


@dataclass(frozen=True)
class DevicePrincipal:
    """The caller of a device-key request: a device of one organization, never a user."""

    device_id: UUID
    organization_id: UUID
    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_active = True

    @property
    def pk(self) -> UUID:
        # What the API-wide throttle counts requests by (apps.core.throttling): per device.
        return self.device_id


def device_for_key(key: str) -> DevicePrincipal | None:
    """The non-revoked device holding `key`, or None; readable without a tenant."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT device_id, organization_id FROM tracking_device_for_key(%s)", [key_digest(key)])
        found = cursor.fetchone()
    return DevicePrincipal(device_id=found[0], organization_id=found[1]) if found else None


def is_device(user) -> bool:
    return isinstance(user, DevicePrincipal)


class DeviceKeyAuthentication(BaseAuthentication):
    """`Authorization: Device <key>`: the device, acting in its organization's tenant scope."""

    def authenticate(self, request):
        header = request._request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != SCHEME:
            return None
        key = key.strip()
        device = device_for_key(key) if key.startswith(KEY_PREFIX) and len(key) <= MAX_KEY_LENGTH else None
        if device is None:
            raise AuthenticationFailed("The device key is invalid or revoked.")
        # TenantMiddleware opened the request's transaction with no user and no tenant (the
        # caller was anonymous to it); from here on it is the device's organization's.
        switch(Scope(organization_id=device.organization_id))
        device_services.device_seen(device_id=device.device_id, now=timezone.now())
        return device, None

    def authenticate_header(self, request):
        return 'Device realm="api"'


class DeviceKeyScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes DeviceKeyAuthentication: `Authorization: Device <key>`."""

    target_class = DeviceKeyAuthentication
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <key>`: a telematics device's key (POST /tracking/events only).",
        }


class DeviceOrMember(BasePermission):
    """A device is admitted as it is (what it may do is decided by its assignments); a user
    needs what every tenant endpoint needs (`required_permissions`, `required_feature`)."""

    def has_permission(self, request, view):
        if is_device(request.user):
            return True
        return HasPermission().has_permission(request, view) and FeatureEnabled().has_permission(request, view)
