"""What the back-office pages of platform integrations share: the feature gate and links between
a shop's pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html

from apps.tenancy.admin_site import admin_organization_id, is_platform_staff
from apps.tenancy.selectors import feature_is_active

FEATURE = "platform_integrations"


class IntegrationsSwitchedOn:
    """Hides a page from an organization admin whose organization has platform integrations off
    (staff see it whatever the organization's flags)."""

    def _integrations_on(self, request) -> bool:
        return is_platform_staff(request) or feature_is_active(
            organization_id=admin_organization_id(request), name=FEATURE
        )

    def has_module_permission(self, request):
        return self._integrations_on(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._integrations_on(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._integrations_on(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._integrations_on(request) and super().has_change_permission(request, obj)


def changelist_link(model_name: str, label: str, lookup: dict) -> str:
    """A link to one of this app's lists, filtered (a shop's sync log, its quarantine, ...)."""
    url = f"{reverse(f'admin:integrations_{model_name}_changelist')}?{urlencode(lookup)}"
    return format_html('<a href="{}">{}</a>', url, label)
