"""Escrows: the list, the detail with history, payments and entries, and staff resolving a dispute."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin, money
from apps.escrow.admin.common import (
    EscrowCurrencyFilter,
    EscrowPartInline,
    amount_only,
    ledger_url,
    lines_table,
    moment,
    postings_shown_to,
)
from apps.escrow.models import (
    Escrow,
    EscrowStatus,
    EscrowStatusChange,
    JournalEntry,
    PaymentTransaction,
    Posting,
)
from apps.tenancy.admin_site import OrganizationScopedAdmin, is_platform_staff

# --- Escrows ------------------------------------------------------------------------------------


class EscrowHistoryInline(StatusHistoryInlineMixin, EscrowPartInline):
    model = EscrowStatusChange


class PaymentTransactionInline(EscrowPartInline):
    model = PaymentTransaction
    verbose_name_plural = "payment transactions"
    fields = [
        "created_at",
        "kind",
        "amount_shown",
        "status",
        "provider",
        "external_id",
        "failure_reason",
        "submit_attempts",
        "completed_at",
    ]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    @admin.display(description="amount")
    def amount_shown(self, payment):
        return money(payment.amount, payment.currency)


class JournalEntryInline(EscrowPartInline):
    model = JournalEntry
    fk_name = "escrow"
    verbose_name_plural = "journal entries"
    fields = ["created_at", "kind", "description", "lines"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        postings = postings_shown_to(request, Posting.objects.select_related("account").order_by("id"))
        return (
            super()
            .get_queryset(request)
            .select_related("escrow")
            .prefetch_related(Prefetch("postings", queryset=postings, to_attr="shown_postings"))
        )

    @admin.display(description="postings")
    def lines(self, entry):
        escrow = entry.escrow
        names = {
            escrow.client_organization_id: escrow.client_organization_name,
            escrow.supplier_organization_id: escrow.supplier_organization_name,
        }
        return lines_table(entry.shown_postings, names)


@admin.register(Escrow)
class EscrowAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Escrows, read-only: money moves through the API (the parties) and the services (a
    dispute's resolution, decided on the case's mediation page of apps.disputes). Either
    party's organization admin sees them."""

    show_full_result_count = False

    # Short headers, the currency once (in the amount), the order under the escrow's number and
    # the auto-release under the funding date: the list fits a laptop's width beside the menus.
    list_display = [
        "escrow",
        "client",
        "supplier",
        "status",
        "amount_shown",
        "held",
        "released",
        "refunded",
        "commission",
        "dates",
    ]
    list_display_links = ["escrow"]
    list_filter = ["status", EscrowCurrencyFilter]
    search_fields = ["number", "order_number"]
    ordering = ["-created_at", "-id"]
    inlines = [EscrowHistoryInline, PaymentTransactionInline, JournalEntryInline]
    fieldsets = [
        (None, {"fields": ["number", "order_link", "status", "status_before_dispute", "provider"]}),
        ("Parties", {"fields": [("client", "supplier")]}),
        (
            "Money",
            {
                "fields": [
                    "amount_shown",
                    ("commission_rate_shown", "commission_minimum_shown", "commission_due"),
                    ("held_shown", "released_shown", "refunded_shown", "commission_shown"),
                ]
            },
        ),
        (
            "Timeline",
            {
                "fields": [
                    ("created_at", "funded_at", "delivered_at"),
                    ("auto_release_at", "disputed_at", "released_at"),
                    ("settled_at", "closed_at"),
                ]
            },
        ),
    ]
    readonly_fields = [
        "number",
        "order_link",
        "status",
        "status_before_dispute",
        "provider",
        "client",
        "supplier",
        "amount_shown",
        "commission_rate_shown",
        "commission_minimum_shown",
        "commission_due",
        "held_shown",
        "released_shown",
        "refunded_shown",
        "commission_shown",
        "created_at",
        "funded_at",
        "delivered_at",
        "auto_release_at",
        "disputed_at",
        "released_at",
        "settled_at",
        "closed_at",
        "staff_tools",
    ]

    def changelist_view(self, request, extra_context=None):
        # Ten columns of money and dates want the width the menu on the left takes (its
        # links are on the index and in the breadcrumbs).
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def get_fieldsets(self, request, obj=None):
        if not is_platform_staff(request):
            return self.fieldsets
        return [*self.fieldsets, ("Back-office", {"fields": ["staff_tools"]})]

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, escrow):
        return money(escrow.amount, escrow.currency)

    @admin.display(description="client", ordering="client_organization_name")
    def client(self, escrow):
        return escrow.client_organization_name

    @admin.display(description="supplier", ordering="supplier_organization_name")
    def supplier(self, escrow):
        return escrow.supplier_organization_name

    @admin.display(description="held", ordering="held_amount")
    def held(self, escrow):
        return amount_only(escrow.held_amount, escrow.currency)

    @admin.display(description="released", ordering="released_amount")
    def released(self, escrow):
        return amount_only(escrow.released_amount, escrow.currency)

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded(self, escrow):
        return amount_only(escrow.refunded_amount, escrow.currency)

    @admin.display(description="commission", ordering="commission_taken")
    def commission(self, escrow):
        return amount_only(escrow.commission_taken, escrow.currency)

    @admin.display(description="escrow / order", ordering="number")
    def escrow(self, escrow):
        return format_html('{}<br><span class="quiet">{}</span>', escrow.number, escrow.order_number)

    @admin.display(description="funded / auto-release", ordering="funded_at")
    def dates(self, escrow):
        return format_html(
            '{}<br><span class="quiet">{}</span>',
            moment(escrow.funded_at),
            moment(escrow.auto_release_at) if escrow.auto_release_at else "",
        )

    @admin.display(description="held")
    def held_shown(self, escrow):
        return money(escrow.held_amount, escrow.currency)

    @admin.display(description="released (commission included)")
    def released_shown(self, escrow):
        return money(escrow.released_amount, escrow.currency)

    @admin.display(description="refunded")
    def refunded_shown(self, escrow):
        return money(escrow.refunded_amount, escrow.currency)

    @admin.display(description="commission taken")
    def commission_shown(self, escrow):
        return money(escrow.commission_taken, escrow.currency)

    @admin.display(description="commission rate")
    def commission_rate_shown(self, escrow):
        return f"{(escrow.commission_rate * 100).quantize(Decimal('0.01'))} %"

    @admin.display(description="minimum commission")
    def commission_minimum_shown(self, escrow):
        return money(escrow.commission_minimum, escrow.currency)

    @admin.display(description="commission due on the whole amount")
    def commission_due(self, escrow):
        return money(escrow.commission_amount, escrow.currency)

    @admin.display(description="order")
    def order_link(self, escrow):
        url = reverse("admin:orders_order_change", args=[escrow.order_id])
        return format_html('<a href="{}">{}</a>', url, escrow.order_number)

    @admin.display(description="tools")
    def staff_tools(self, escrow):
        links = [
            (ledger_url(organization=escrow.client_organization_id, currency=escrow.currency), "Client's ledger"),
            (ledger_url(organization=escrow.supplier_organization_id, currency=escrow.currency), "Supplier's ledger"),
        ]
        if escrow.status == EscrowStatus.DISPUTED:
            # The case decides what the frozen money does (a URL name, not an import: escrow
            # does not depend on disputes).
            case = f"{reverse('admin:disputes_dispute_changelist')}?q={escrow.order_number}"
            links.insert(0, (case, "The dispute case"))
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)
