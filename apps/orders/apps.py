from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders and warehouses"

    def ready(self) -> None:
        from apps.core.personal_data import personal_data_section
        from apps.orders import personal_data

        personal_data_section("orders", lambda *, user_id, email: personal_data.orders_of_person(user_id=user_id))
