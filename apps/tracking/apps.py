from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "apps.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.tracking import live

        # A shipment's milestones and alerts reach its `order.<id>` / `package.<id>` live group.
        subscribe("tracking.*", live.event_deliver, name="tracking.live_event_deliver")
