"""Routes of the integrations API under /api/v1/integrations."""

from django.urls import path

from apps.integrations.api import views, webhook_views

CONFIGURATION = "integrations/configurations/<uuid:configuration_id>"
PLATFORM_ORDER = "integrations/platform-orders/<uuid:order_id>"

urlpatterns = [
    path(
        "integrations/webhooks/<slug:platform>",
        webhook_views.PlatformWebhookView.as_view(),
        name="integration-webhook",
    ),
    path("integrations/configurations", views.ConfigurationListView.as_view(), name="integration-configurations"),
    path(CONFIGURATION, views.ConfigurationDetailView.as_view(), name="integration-configuration"),
    path(f"{CONFIGURATION}/sync", views.ConfigurationSyncView.as_view(), name="integration-configuration-sync"),
    path(
        f"{CONFIGURATION}/webhooks",
        views.ConfigurationWebhooksView.as_view(),
        name="integration-configuration-webhooks",
    ),
    path(f"{CONFIGURATION}/runs", views.SyncRunListView.as_view(), name="integration-configuration-runs"),
    path("integrations/quarantine", views.QuarantineListView.as_view(), name="integration-quarantine"),
    path("integrations/duplicates", views.DuplicateListView.as_view(), name="integration-duplicates"),
    path("integrations/billing-records", views.BillingRecordListView.as_view(), name="integration-billing-records"),
    path("integrations/platform-orders", views.PlatformOrderListView.as_view(), name="integration-platform-orders"),
    path(PLATFORM_ORDER, views.PlatformOrderDetailView.as_view(), name="integration-platform-order"),
    path(f"{PLATFORM_ORDER}/ship", views.PlatformOrderShipView.as_view(), name="integration-platform-order-ship"),
]
