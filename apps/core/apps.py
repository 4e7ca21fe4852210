from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Platform core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.core.api.fields import use_strict_text_fields
        from apps.core.provisioning import grant_application_role

        post_migrate.connect(grant_application_role, sender=self)
        use_strict_text_fields()
