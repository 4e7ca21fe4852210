from django.apps import AppConfig


class EscrowConfig(AppConfig):
    name = "apps.escrow"
    label = "escrow"
    verbose_name = "Escrow and payments"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.escrow import receivers

        # Proof of delivery starts the auto-release clock; a cancelled order closes its unfunded escrow.
        subscribe("order.status_changed", receivers.order_status_changed, name="escrow.order_status_changed")
