from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TenancyConfig(AppConfig):
    default = True  # this module also holds ManifestAdminConfig
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.tenancy.handlers import broadcast_to_organization

        subscribe("*", broadcast_to_organization, name="tenancy.broadcast_to_organization")


class ManifestAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the back-office site that also admits organization admins."""

    default = False  # named in INSTALLED_APPS; TenancyConfig stays this module's default
    default_site = "apps.tenancy.admin_site.ManifestAdminSite"
