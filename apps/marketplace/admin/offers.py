"""Offers with their revisions and history, read-only: their carrier and the RFQ's owner see them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.marketplace.admin.common import MarketplacePartInline
from apps.marketplace.models import Offer, OfferRevision, OfferStatusChange
from apps.tenancy.admin_site import OrganizationScopedAdmin


class OfferRevisionInline(MarketplacePartInline):
    model = OfferRevision
    verbose_name_plural = "revisions"
    fields = ["version", "price", "currency", "transit_days", "valid_until", "conditions", "created_at"]
    readonly_fields = fields
    ordering = ["version"]


class OfferStatusChangeInline(StatusHistoryInlineMixin, MarketplacePartInline):
    model = OfferStatusChange


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Offers, read-only: their carrier and the RFQ's owner see them, no other carrier."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "rfq_number",
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "valid_until",
    ]
    list_filter = ["status"]
    search_fields = ["rfq_number", "carrier_organization_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OfferRevisionInline, OfferStatusChangeInline]
    fields = [
        ("rfq_number", "carrier_organization_name"),
        ("status", "version"),
        ("price", "currency", "transit_days"),
        "valid_until",
        "conditions",
        "breakdown",
        ("decided_at", "decision_note"),
        ("created_at", "updated_at"),
    ]
    # The RFQ, the offering and the two organizations are left out: once the RFQ closes,
    # row-level security hides it from a losing carrier; the names are copied onto the row.
    readonly_fields = [
        "breakdown",
        "rfq_number",
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "transit_days",
        "valid_until",
        "conditions",
        "decided_at",
        "decision_note",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="price breakdown")
    def breakdown(self, offer):
        """The quote the price was pre-filled from, line by line (apps.marketplace.pricing)."""
        quote = offer.price_breakdown or {}
        if not quote.get("lines"):
            return "None: the carrier gave the price."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style='text-align:right'>{}</td></tr>",
            (
                (
                    line.get("name", ""),
                    line.get("quantity") or "",
                    line.get("unit", ""),
                    line.get("rate") or "",
                    line.get("multiplier") or "",
                    line.get("amount", ""),
                )
                for line in quote["lines"]
            ),
        )
        skipped = format_html_join(
            "", "<li>{}</li>", ((reason.get("message", ""),) for reason in quote.get("skipped_tariffs", []))
        )
        return format_html(
            "<table><tr><th>line</th><th>quantity</th><th>unit</th><th>rate</th><th>multiplier</th><th>amount</th></tr>"
            "{}<tr><th colspan='5'>total</th><th style='text-align:right'>{} {}</th></tr></table>{}",
            rows,
            quote.get("total", ""),
            quote.get("currency", ""),
            format_html("<p>Tariffs that did not apply:</p><ul>{}</ul>", skipped) if skipped else "",
        )
