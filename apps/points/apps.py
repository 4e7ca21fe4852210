from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "apps.points"
    label = "points"
    verbose_name = "Points and referrals"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.core.personal_data import erasure_step_register, personal_data_section
        from apps.core.sign_up import SignUpExtension, sign_up_extension_register
        from apps.points import personal_data, receivers, services

        # Every event may earn points (the rules say which): one cached read for those that do not.
        subscribe("*", receivers.event_award, name="points.award")
        # Referrals: the referred organization, its first completed order, the referrer's reward.
        subscribe("organization.created", receivers.organization_created, name="points.organization_created")
        subscribe("member.joined", receivers.member_joined, name="points.member_joined")
        subscribe("order.status_changed", receivers.order_status_changed, name="points.order_status_changed")
        subscribe("service_order.completed", receivers.service_order_completed, name="points.service_order_completed")
        subscribe("referral.qualified", receivers.referral_qualified, name="points.referral_qualified")
        # A code given at sign-up (accounts imports no context: it runs what is registered).
        sign_up_extension_register(
            SignUpExtension(
                field="referral_code", check=services.referral_sign_up_check, record=services.referral_sign_up_record
            )
        )
        personal_data_section("points", personal_data.points_of_person)
        personal_data_section("referrals", personal_data.referrals_of_person)
        erasure_step_register(services.referral_code_forget)
