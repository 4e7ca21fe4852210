from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "apps.service"
    label = "service"
    verbose_name = "Field service"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.service import demo, live, receivers

        demo_register(DemoSeeder("service", demo.seed, demo.tokens))

        subscribe(
            "passport.service_requested",
            receivers.passport_service_requested,
            name="service.passport_service_requested",
        )
        subscribe("service_order.created", receivers.service_order_created, name="service.match_new_order")
        subscribe("service_order.updated", receivers.service_order_updated, name="service.match_changed_order")
        subscribe(
            "service_order.status_changed", receivers.service_order_status_changed, name="service.match_returned_order"
        )
        for offer_event in ("service_order.offered", "service_order.offer_closed"):
            subscribe(offer_event, live.offer_deliver, name=f"service.live_{offer_event.split('.')[1]}")
