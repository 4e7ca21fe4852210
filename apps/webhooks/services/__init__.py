"""Webhooks' writes, one function per use case (split by group: endpoints, fan-out, sending)."""

from apps.webhooks.services.endpoints import (
    endpoint_create,
    endpoint_delete,
    endpoint_rotate_secret,
    endpoint_secrets,
    endpoint_update,
)
from apps.webhooks.services.fan_out import (
    deliveries_fan_out,
    delivery_redeliver,
    endpoint_ping,
    event_audience,
    event_body,
)
from apps.webhooks.services.sending import deliveries_due, delivery_send, retry_delay

__all__ = [
    "deliveries_due",
    "deliveries_fan_out",
    "delivery_redeliver",
    "delivery_send",
    "endpoint_create",
    "endpoint_delete",
    "endpoint_ping",
    "endpoint_rotate_secret",
    "endpoint_secrets",
    "endpoint_update",
    "event_audience",
    "event_body",
    "retry_delay",
]
