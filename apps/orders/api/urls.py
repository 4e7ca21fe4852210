from django.urls import path

from apps.orders.api import views

urlpatterns = [
    path("orders", views.OrderListView.as_view(), name="order-list"),
    path("orders/options", views.OrderOptionsView.as_view(), name="order-options"),
    path("orders/assisted-purchase", views.AssistedPurchaseView.as_view(), name="order-assisted-purchase"),
    path("orders/self-purchase", views.SelfPurchaseView.as_view(), name="order-self-purchase"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/status", views.OrderStatusView.as_view(), name="order-status"),
    path("orders/<uuid:order_id>/cancel", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<uuid:order_id>/history", views.OrderHistoryView.as_view(), name="order-history"),
    path("orders/<uuid:order_id>/shipment", views.OrderShipmentView.as_view(), name="order-shipment"),
    path("orders/<uuid:order_id>/quote", views.OrderQuoteView.as_view(), name="order-quote"),
    path("orders/<uuid:order_id>/purchase", views.OrderPurchaseView.as_view(), name="order-purchase"),
    path("warehouses", views.WarehouseListView.as_view(), name="warehouse-list"),
    path("warehouses/unmatched-arrivals", views.UnmatchedArrivalListView.as_view(), name="unmatched-arrival-list"),
    path("warehouses/<uuid:warehouse_id>", views.WarehouseDetailView.as_view(), name="warehouse-detail"),
    path("warehouses/<uuid:warehouse_id>/receive", views.WarehouseReceiveView.as_view(), name="warehouse-receive"),
    path("warehouses/<uuid:warehouse_id>/staff", views.WarehouseStaffView.as_view(), name="warehouse-staff"),
    path("packages", views.PackageListView.as_view(), name="package-list"),
    path("packages/<uuid:package_id>", views.PackageDetailView.as_view(), name="package-detail"),
    path("packages/<uuid:package_id>/status", views.PackageStatusView.as_view(), name="package-status"),
    path("returns", views.ReturnListView.as_view(), name="return-list"),
    path("returns/<uuid:return_id>", views.ReturnDetailView.as_view(), name="return-detail"),
    path("returns/<uuid:return_id>/status", views.ReturnStatusView.as_view(), name="return-status"),
]
