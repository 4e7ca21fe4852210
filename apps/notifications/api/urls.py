from django.urls import path

from apps.notifications.api import views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read-all", views.NotificationReadAllView.as_view(), name="notification-read-all"),
    path("notifications/preferences", views.PreferencesView.as_view(), name="notification-preferences"),
    path("notifications/send", views.SendView.as_view(), name="notification-send"),
    path("notifications/templates", views.TemplateListView.as_view(), name="notification-templates"),
    path("notifications/templates/preview", views.TemplatePreviewView.as_view(), name="notification-template-preview"),
    path(
        "notifications/templates/<uuid:template_id>",
        views.TemplateDetailView.as_view(),
        name="notification-template-detail",
    ),
    path("notifications/push-subscriptions", views.PushSubscriptionListView.as_view(), name="push-subscriptions"),
    path("notifications/push-subscriptions/key", views.PushKeyView.as_view(), name="push-key"),
    path(
        "notifications/push-subscriptions/<uuid:subscription_id>",
        views.PushSubscriptionDetailView.as_view(),
        name="push-subscription-detail",
    ),
    path("notifications/phone-verification", views.PhoneVerificationView.as_view(), name="phone-verification"),
    path(
        "notifications/phone-verification/confirm", views.PhoneConfirmView.as_view(), name="phone-verification-confirm"
    ),
    path(
        "notifications/providers/sms/<slug:gateway>/reports", views.SmsReportView.as_view(), name="sms-delivery-reports"
    ),
    path("notifications/<uuid:notification_id>", views.NotificationDetailView.as_view(), name="notification-detail"),
    path("notifications/<uuid:notification_id>/read", views.NotificationReadView.as_view(), name="notification-read"),
]
