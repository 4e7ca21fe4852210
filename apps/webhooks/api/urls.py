"""Routes of webhooks under /api/v1/webhooks."""

from django.urls import path

from apps.webhooks.api import views

urlpatterns = [
    path("webhooks/endpoints", views.EndpointListView.as_view(), name="webhook-endpoint-list"),
    path("webhooks/endpoints/<uuid:endpoint_id>", views.EndpointDetailView.as_view(), name="webhook-endpoint-detail"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/rotate-secret",
        views.EndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhooks/endpoints/<uuid:endpoint_id>/ping", views.EndpointPingView.as_view(), name="webhook-endpoint-ping"),
    path(
        "webhooks/endpoints/<uuid:endpoint_id>/deliveries",
        views.EndpointDeliveryListView.as_view(),
        name="webhook-endpoint-deliveries",
    ),
    path("webhooks/deliveries/<uuid:delivery_id>", views.DeliveryDetailView.as_view(), name="webhook-delivery-detail"),
    path(
        "webhooks/deliveries/<uuid:delivery_id>/redeliver",
        views.DeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
