from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.tenancy.handlers import broadcast_to_organization

        subscribe("*", broadcast_to_organization, name="tenancy.broadcast_to_organization")
