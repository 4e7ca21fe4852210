from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"
    verbose_name = "Platform integrations"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.integrations import demo, receivers

        demo_register(DemoSeeder("integrations", demo.seed))
        subscribe("order.status_changed", receivers.order_status_changed, name="integrations.push_fulfilment")
