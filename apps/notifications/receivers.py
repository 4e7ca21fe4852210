"""Outbox consumers of the notifications context: they only delegate."""

from __future__ import annotations

from apps.notifications import services


def event_notify(event) -> None:
    services.event_fan_out(event=event)


def email_tracked(sender, event, esp_name, **kwargs) -> None:
    """django-anymail's tracking signal (a real e-mail provider's webhook): delivered, bounced..."""
    services.delivery_report_record(
        provider_id=event.message_id or "", status=event.event_type, error=event.description or ""
    )
