from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "apps.marketplace"
    label = "marketplace"
    verbose_name = "Freight marketplace"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.core.personal_data import personal_data_section
        from apps.marketplace import demo, personal_data, receivers

        # A booked order cancelled by a party takes its pending booking with it.
        subscribe("order.status_changed", receivers.order_status_changed, name="marketplace.order_status_changed")

        personal_data_section("rfqs", lambda *, user_id, email: personal_data.rfqs_of_person(user_id=user_id))
        personal_data_section("offers", lambda *, user_id, email: personal_data.offers_of_person(user_id=user_id))
        demo_register(DemoSeeder("marketplace", demo.seed))
