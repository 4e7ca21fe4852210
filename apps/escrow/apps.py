from django.apps import AppConfig


class EscrowConfig(AppConfig):
    name = "apps.escrow"
    label = "escrow"
    verbose_name = "Escrow and payments"

    def ready(self) -> None:
        from apps.core.demo import DemoSeeder, demo_register
        from apps.core.events import subscribe
        from apps.core.personal_data import personal_data_section
        from apps.escrow import demo, personal_data, receivers

        # Proof of delivery starts the auto-release clock; a cancelled order closes its unfunded escrow.
        subscribe("order.status_changed", receivers.order_status_changed, name="escrow.order_status_changed")
        personal_data_section("escrows", lambda *, user_id, email: personal_data.escrows_of_person(user_id=user_id))
        demo_register(DemoSeeder("escrow", demo.seed))
