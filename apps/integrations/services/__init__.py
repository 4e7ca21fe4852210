"""Writes of platform integrations, one module per group of use cases; import them from here."""

from apps.integrations.services.binder import ApplyResult, orders_apply
from apps.integrations.services.configurations import (
    UNSET,
    configuration_connect,
    configuration_connect_trusted,
    configuration_register_webhooks,
    configuration_sync_now,
    configuration_update,
    credentials_rotate_all,
)
from apps.integrations.services.duplicates import duplicate_review
from apps.integrations.services.fulfilment import platform_order_ship
from apps.integrations.services.pushes import status_push_send
from apps.integrations.services.sync import configuration_sync, order_fetch_and_apply
from apps.integrations.services.webhooks import WebhookOutcome, webhook_apply, webhook_receive

__all__ = [
    "UNSET",
    "ApplyResult",
    "WebhookOutcome",
    "configuration_connect",
    "configuration_connect_trusted",
    "configuration_register_webhooks",
    "configuration_sync",
    "configuration_sync_now",
    "configuration_update",
    "credentials_rotate_all",
    "duplicate_review",
    "order_fetch_and_apply",
    "orders_apply",
    "platform_order_ship",
    "status_push_send",
    "webhook_apply",
    "webhook_receive",
]
