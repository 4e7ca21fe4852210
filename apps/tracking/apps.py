from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "apps.tracking"
    label = "tracking"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.tracking import demo, live, receivers

        # A confirmed freight order is tracked; the tracking follows its status to the end.
        subscribe("order.status_changed", receivers.order_status_changed, name="tracking.order_status_changed")
        # A package is tracked from the moment it leaves the warehouse until it is delivered.
        subscribe("package.status_changed", receivers.package_status_changed, name="tracking.package_status_changed")
        # A shipment's milestones and alerts reach its `order.<id>` / `package.<id>` live group.
        subscribe("tracking.*", live.event_deliver, name="tracking.live_event_deliver")
        demo_register(DemoSeeder("tracking", demo.seed))
