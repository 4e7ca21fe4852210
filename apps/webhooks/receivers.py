"""Outbox subscribers of webhooks: they only delegate to the services."""

from apps.webhooks import services


def event_deliver(event) -> None:
    """One delivery per active endpoint (of the organizations the event concerns) whose
    patterns match; idempotent on the event id."""
    services.deliveries_fan_out(event=event)
