from django.urls import path

from apps.orders.api import views

urlpatterns = [
    path("orders", views.OrderListView.as_view(), name="order-list"),
    path("orders/options", views.OrderOptionsView.as_view(), name="order-options"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/status", views.OrderStatusView.as_view(), name="order-status"),
    path("orders/<uuid:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:order_id>/history", views.OrderHistoryView.as_view(), name="order-history"),
    path("warehouses", views.WarehouseListView.as_view(), name="warehouse-list"),
    path("warehouses/<uuid:warehouse_id>", views.WarehouseDetailView.as_view(), name="warehouse-detail"),
]
