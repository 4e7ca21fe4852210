from django.apps import AppConfig


class PassportsConfig(AppConfig):
    name = "apps.passports"
    label = "passports"
    verbose_name = "Device passports"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.passports import demo

        demo_register(DemoSeeder("passports", demo.seed))
