from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Platform integrations"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.integrations import receivers

        subscribe("order.status_changed", receivers.order_status_changed, name="integrations.push_fulfilment")
