"""Routes of the integrations API under /api/v1/integrations."""

from django.urls import path

from apps.integrations.api import webhook_views

urlpatterns = [
    path(
        "integrations/webhooks/<slug:platform>",
        webhook_views.PlatformWebhookView.as_view(),
        name="integration-webhook",
    ),
]
