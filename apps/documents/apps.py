from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "apps.documents"
    label = "documents"
    verbose_name = "Shipping documents"

    def ready(self) -> None:
        from apps.core.events import subscribe
        from apps.documents import receivers

        # A document made before its shipment changed no longer says what the shipment says.
        subscribe("shipment.*", receivers.shipment_changed, name="documents.shipment_changed")
