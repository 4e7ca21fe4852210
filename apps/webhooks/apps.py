from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.webhooks import receivers

        # Every event an organization is concerned by becomes one delivery per matching endpoint.
        subscribe("*", receivers.event_deliver, name="webhooks.event_deliver")
