from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class TenancyConfig(AppConfig):
    default = True  # this module also holds ManifestAdminConfig
    name = "apps.tenancy"
    label = "tenancy"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.core.personal_data import erasure_check_register, erasure_step_register, personal_data_section
        from apps.tenancy import demo, personal_data
        from apps.tenancy.handlers import broadcast_to_organization

        subscribe("*", broadcast_to_organization, name="tenancy.broadcast_to_organization")
        personal_data_section(
            "memberships", lambda *, user_id, email: personal_data.memberships_of_person(user_id=user_id)
        )
        personal_data_section("invitations", personal_data.invitations_of_person)
        erasure_check_register(personal_data.erasure_refusal)
        erasure_step_register(personal_data.person_forget)
        demo_register(DemoSeeder("tenancy", demo.seed, tokens=demo.tokens))


class ManifestAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the back-office site that also admits organization admins."""

    default = False  # named in INSTALLED_APPS; TenancyConfig stays this module's default
    default_site = "apps.tenancy.admin_site.ManifestAdminSite"
