from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "apps.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.tracking import receivers

        # A confirmed freight order is tracked; the tracking follows its status to the end.
        subscribe("order.status_changed", receivers.order_status_changed, name="tracking.order_status_changed")
