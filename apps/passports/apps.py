from django.apps import AppConfig


class PassportsConfig(AppConfig):
    name = "apps.passports"
    label = "passports"
    verbose_name = "Device passports"
