from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "apps.marketplace"
    label = "marketplace"
    verbose_name = "Freight marketplace"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.personal_data import personal_data_section
        from apps.marketplace import demo, personal_data

        personal_data_section("rfqs", lambda *, user_id, email: personal_data.rfqs_of_person(user_id=user_id))
        personal_data_section("offers", lambda *, user_id, email: personal_data.offers_of_person(user_id=user_id))
        demo_register(DemoSeeder("marketplace", demo.seed))
