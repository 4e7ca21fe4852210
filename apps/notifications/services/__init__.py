"""Writes of the notifications context, grouped by use case; import them from here."""

from apps.notifications.services.broadcast import notification_broadcast
from apps.notifications.services.fan_out import event_fan_out
from apps.notifications.services.inbox import notification_delete, notification_mark_read, notifications_mark_all_read
from apps.notifications.services.phone import phone_verification_confirm, phone_verification_start
from apps.notifications.services.preferences import preferences_update
from apps.notifications.services.sending import deliveries_due, deliveries_send, delivery_report_record, retry_delay
from apps.notifications.services.subscriptions import push_public_key, push_subscription_add, push_subscription_remove
from apps.notifications.services.templates import template_create, template_preview, template_update

__all__ = [
    "deliveries_due",
    "deliveries_send",
    "delivery_report_record",
    "event_fan_out",
    "notification_broadcast",
    "notification_delete",
    "notification_mark_read",
    "notifications_mark_all_read",
    "phone_verification_confirm",
    "phone_verification_start",
    "preferences_update",
    "push_public_key",
    "push_subscription_add",
    "push_subscription_remove",
    "retry_delay",
    "template_create",
    "template_preview",
    "template_update",
]
