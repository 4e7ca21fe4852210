"""Escrows: the list, the detail with history, payments and entries, and staff resolving a dispute."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.core.errors import DomainError
from apps.escrow import services
from apps.escrow.admin.common import (
    EscrowCurrencyFilter,
    EscrowPartInline,
    amount_only,
    ledger_url,
    lines_table,
    moment,
    money,
    postings_shown_to,
    show_service_error,
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


class ResolveDisputeForm(forms.Form):
    release_amount = forms.CharField(
        required=False, max_length=32, help_text="To the supplier (the platform's commission is taken from it)."
    )
    refund_amount = forms.CharField(required=False, max_length=32, help_text="Back to the client's card.")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Say how the dispute was decided."},
        help_text="Required. Kept in the escrow's history and the audit log; both parties see it.",
    )


@admin.register(Escrow)
class EscrowAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Escrows, read-only: money moves through the API (the parties) and the services (staff's
    dispute resolution below). Either party's organization admin sees them."""

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
            links.insert(0, (reverse("admin:escrow_escrow_resolve", args=[escrow.pk]), "Resolve the dispute"))
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', links)

    # Staff resolve a dispute: what goes to the supplier, what back to the client, and why.

    def get_urls(self):
        resolve = self.admin_site.admin_view(self.resolve_view)
        return [path("<uuid:object_id>/resolve/", resolve, name="escrow_escrow_resolve"), *super().get_urls()]

    def resolve_view(self, request, object_id):
        if not is_platform_staff(request):
            raise PermissionDenied
        escrow = self.get_queryset(request).filter(pk=object_id).first()
        if escrow is None:
            raise Http404("No such escrow.")
        form = ResolveDisputeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                resolved = services.escrow_resolve_dispute(
                    actor=Actor.staff(request.user.id),
                    escrow_id=escrow.pk,
                    release_amount=data["release_amount"] or Decimal(0),
                    refund_amount=data["refund_amount"] or Decimal(0),
                    note=data["note"],
                )
            except DomainError as error:
                # Beside the amount it names, else as a message above the form (kept as typed).
                if any(field in form.fields for field in error.details):
                    show_service_error(form, error)
                else:
                    messages.error(request, f"{escrow.number}: {error.message}")
            else:
                messages.success(
                    request,
                    f"{resolved.number}: dispute resolved, now {resolved.get_status_display().lower()}; "
                    f"released {money(resolved.released_amount, resolved.currency)} and refunded "
                    f"{money(resolved.refunded_amount, resolved.currency)} in all, "
                    f"{money(resolved.held_amount, resolved.currency)} still held.",
                )
                return HttpResponseRedirect(reverse("admin:escrow_escrow_change", args=[escrow.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Resolve the dispute of {escrow.number}",
            "opts": self.model._meta,
            "original": escrow,
            "form": form,
            "held": money(escrow.held_amount, escrow.currency),
            "amount": money(escrow.amount, escrow.currency),
            "released": money(escrow.released_amount, escrow.currency),
            "refunded": money(escrow.refunded_amount, escrow.currency),
            "disputes": escrow.history.filter(to_status=EscrowStatus.DISPUTED).order_by("at", "id"),
        }
        return TemplateResponse(request, "admin/escrow/escrow/resolve.html", context)
