from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "apps.orders"
    label = "orders"
    verbose_name = "Orders and warehouses"

    def ready(self) -> None:
        from apps.core.live_groups import register_group_authorizer
        from apps.core.personal_data import personal_data_section
        from apps.orders import personal_data, selectors

        # The live feed's `order.<id>` and `package.<id>` groups (tracking pushes to them).
        register_group_authorizer("order", selectors.live_order_may_listen)
        register_group_authorizer("package", selectors.live_package_may_listen)
        personal_data_section("orders", lambda *, user_id, email: personal_data.orders_of_person(user_id=user_id))
