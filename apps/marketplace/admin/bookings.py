"""Bookings of instant quotes with their history, read-only: their shipper and carrier see them."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.marketplace.admin.common import MarketplacePartInline
from apps.marketplace.models import Booking, BookingStatusChange
from apps.tenancy.admin_site import OrganizationScopedAdmin


class BookingStatusChangeInline(StatusHistoryInlineMixin, MarketplacePartInline):
    model = BookingStatusChange


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Bookings, read-only: written by their parties through the API, where the lifecycle rules live."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "number",
        "shipper_organization_name",
        "carrier_organization_name",
        "status",
        "price",
        "currency",
        "expires_at",
    ]
    list_filter = ["status"]
    search_fields = ["number", "shipper_organization_name", "carrier_organization_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [BookingStatusChangeInline]
    # The two organizations are left out: each party's row-level security hides the other's;
    # their names are copied onto the row.
    fields = [
        ("number", "status"),
        ("shipper_organization_name", "carrier_organization_name"),
        ("price", "currency", "transit_days"),
        ("quote_record_id", "offering_id", "order_id"),
        "expires_at",
        ("decided_at", "decision_note"),
        ("created_at", "updated_at"),
    ]
    readonly_fields = [
        "number",
        "status",
        "shipper_organization_name",
        "carrier_organization_name",
        "price",
        "currency",
        "transit_days",
        "quote_record_id",
        "offering_id",
        "order_id",
        "expires_at",
        "decided_at",
        "decision_note",
        "created_at",
        "updated_at",
    ]
