"""RFQs with their offers and history, read-only; staff close an abusive one."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.marketplace import services
from apps.marketplace.admin.common import MarketplacePartInline, StaffModerationMixin, list_display_for
from apps.marketplace.models import Offer, OfferStatus, Rfq, RfqStatusChange
from apps.tenancy.admin_site import OrganizationScopedAdmin


class OfferInline(MarketplacePartInline):
    model = Offer
    verbose_name_plural = "offers"
    fields = [
        "carrier_organization_name",
        "status",
        "version",
        "price",
        "currency",
        "transit_days",
        "valid_until",
        "decision_note",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    show_change_link = True


class RfqStatusChangeInline(StatusHistoryInlineMixin, MarketplacePartInline):
    model = RfqStatusChange


@admin.register(Rfq)
class RfqAdmin(StaffModerationMixin, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """RFQs are written by their shipper through the API; here they are read, and staff
    close an abusive one."""

    org_admin_actions = frozenset({"view"})
    list_display = [
        "rfq_number",
        "title",
        "organization_name",
        "status",
        "audience",
        "weight_kg",
        "deadline",
        "live_offers",
    ]
    list_filter = ["status", "audience", "service_type"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [OfferInline, RfqStatusChangeInline]
    actions = ["close_as_abusive"]
    fieldsets = [
        (None, {"fields": ["number", "title", "organization_name", "status", "description"]}),
        ("Audience", {"fields": ["audience", "invited_organization_ids", "service_type"]}),
        (
            "Cargo",
            {
                "fields": [
                    ("weight_kg", "volume_cbm", "pallet_count"),
                    ("length_cm", "width_cm", "height_cm"),
                    ("cargo_type", "hazmat_class"),
                    ("temperature_min_c", "temperature_max_c"),
                    ("declared_value", "currency"),
                ]
            },
        ),
        ("Route", {"fields": ["route"]}),
        (
            "Timeline",
            {
                "fields": [
                    ("created_at", "published_at", "deadline"),
                    ("closed_at", "close_reason"),
                    ("awarded_offer", "order"),
                ]
            },
        ),
    ]
    readonly_fields = [
        "route",
        *[field.name for field in Rfq._meta.fields if field.name not in {"id", "organization", "segments"}],
    ]

    def get_queryset(self, request):
        # The count of live offers in the query of the rows, not one query per row. A
        # subquery rather than a join: the page's count and date queries leave it out, and
        # the partial index of one live offer per carrier answers it.
        live = (
            Offer.objects.filter(rfq=OuterRef("pk"), status=OfferStatus.SUBMITTED)
            .order_by()
            .values("rfq")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(live_offer_count=Coalesce(Subquery(live), 0))

    def get_list_display(self, request):
        return list_display_for(request, self.list_display)

    @admin.display(description="number", ordering="number")
    def rfq_number(self, rfq):
        return format_html('<span style="white-space: nowrap">{}</span>', rfq.number)

    @admin.display(description="live offers", ordering="live_offer_count")
    def live_offers(self, rfq):
        return rfq.live_offer_count

    @admin.display(description="route")
    def route(self, rfq):
        def place(stop: dict) -> str:
            return ", ".join(part for part in (stop.get("city"), stop.get("country")) if part)

        legs = sorted(rfq.segments or [], key=lambda leg: leg.get("sequence") or 0)
        if not legs:
            return "-"
        return " → ".join([place(legs[0].get("origin") or {}), *(place(leg.get("destination") or {}) for leg in legs)])

    @admin.action(description="Close (abusive)", permissions=["moderate"])
    def close_as_abusive(self, request, queryset):
        reason = self.ask_reason(
            request,
            queryset,
            action="close_as_abusive",
            title="Close abusive RFQs",
            help_text="Required. The shipper and the carriers whose offers are rejected see it.",
            button="Close them",
        )
        if not isinstance(reason, str):
            return reason
        self.moderate_each(
            request,
            queryset,
            lambda rfq: services.rfq_close_by_staff(actor=Actor.staff(request.user.id), rfq_id=rfq.pk, reason=reason),
            done="{count} RFQ(s) closed; their live offers were rejected.",
        )
        return None
