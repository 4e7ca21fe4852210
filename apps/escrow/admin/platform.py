"""The platform's own records: payment providers' webhook events and the exchange rates."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from apps.escrow.admin.common import (
    ProviderFilter,
    StaffOnlyAdmin,
    WebhookStateFilter,
    moment,
)
from apps.escrow.models import (
    ExchangeRate,
    WebhookEvent,
)

# --- The platform's records -------------------------------------------------------------------------


@admin.register(WebhookEvent)
class WebhookEventAdmin(StaffOnlyAdmin):
    list_display = [
        "received",
        "event_id",
        "event_type",
        "organization",
        "applied",
        "attempts",
        "short_error",
    ]
    list_filter = [WebhookStateFilter, ProviderFilter]
    search_fields = ["event_id", "=reference"]
    list_select_related = ["organization"]
    ordering = ["-received_at", "-id"]
    fields = [
        ("provider", "event_id", "event_type"),
        ("organization", "reference"),
        ("received_at", "applied_at", "attempts"),
        "last_error",
        "payload_shown",
    ]
    readonly_fields = [
        "provider",
        "event_id",
        "event_type",
        "organization",
        "reference",
        "received_at",
        "applied_at",
        "attempts",
        "last_error",
        "payload_shown",
    ]

    @admin.display(description="received", ordering="received_at")
    def received(self, event):
        return moment(event.received_at)

    @admin.display(description="applied", boolean=True, ordering="applied_at")
    def applied(self, event):
        return event.applied_at is not None

    @admin.display(description="last error")
    def short_error(self, event):
        return (event.last_error[:80] + "…") if len(event.last_error) > 80 else event.last_error or "-"

    @admin.display(description="payload")
    def payload_shown(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


@admin.register(ExchangeRate)
class ExchangeRateAdmin(StaffOnlyAdmin):
    """Display-only rates (no money is converted with them), refreshed by a beat job."""

    list_display = ["base", "quote", "rate", "as_of", "provider", "fetched_at"]
    list_filter = ["base"]
    search_fields = ["base", "quote"]
    ordering = ["base", "quote"]
