"""The ledger: journal entries, accounts with their balances, an organization's lines, and staff adjustments."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery, Sum
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin, money, show_service_error
from apps.core.errors import DomainError
from apps.escrow import selectors, services
from apps.escrow.admin.common import (
    PLATFORM,
    CurrencyFilter,
    EscrowPartInline,
    OrganizationFilter,
    account_label,
    as_uuid,
    ledger_url,
    moment,
    postings_shown_to,
    shown_balance,
)
from apps.escrow.models import (
    AccountKind,
    JournalEntry,
    LedgerAccount,
    Posting,
)
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_organization_id, is_platform_staff
from apps.tenancy.selectors import organization_queryset

# --- The ledger -----------------------------------------------------------------------------------


class PostingInline(EscrowPartInline):
    model = Posting
    verbose_name_plural = "postings"
    fields = ["account_shown", "debit", "credit"]
    readonly_fields = fields
    ordering = ["id"]

    def get_queryset(self, request):
        names = organization_queryset().filter(pk=OuterRef("organization_id")).values("name")[:1]
        queryset = super().get_queryset(request).select_related("account").annotate(organization_name=Subquery(names))
        return postings_shown_to(request, queryset)

    @admin.display(description="account")
    def account_shown(self, posting):
        return account_label(posting, {posting.organization_id: posting.organization_name})

    @admin.display(description="debit")
    def debit(self, posting):
        return money(posting.amount, posting.currency) if posting.amount > 0 else ""

    @admin.display(description="credit")
    def credit(self, posting):
        return money(-posting.amount, posting.currency) if posting.amount < 0 else ""


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Journal entries, read-only; an organization admin sees the entries of which their
    organization is a party, and of each only their organization's lines."""

    show_full_result_count = False

    list_display = ["when", "kind", "description", "escrow_number", "created_by"]
    list_filter = ["kind"]
    search_fields = ["description", "escrow__number"]
    list_select_related = ["escrow", "created_by"]
    ordering = ["-created_at", "-id"]
    inlines = [PostingInline]
    fields = ["created_at", "kind", "description", "escrow_number", "payment_transaction_id", "created_by"]
    readonly_fields = fields

    @admin.display(description="when", ordering="created_at")
    def when(self, entry):
        return moment(entry.created_at)

    @admin.display(description="escrow", ordering="escrow__number")
    def escrow_number(self, entry):
        if entry.escrow is None:
            return "-"
        url = reverse("admin:escrow_escrow_change", args=[entry.escrow_id])
        return format_html('<a href="{}">{}</a>', url, entry.escrow.number)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """The accounts with their balances; an organization admin sees their organization's own.
    Staff adjust an organization's available balance from here (the adjustment page)."""

    org_admin_actions = frozenset({"view"})
    list_display = ["owner", "kind", "currency", "balance", "lines", "opened"]
    list_filter = ["kind", CurrencyFilter]
    search_fields = ["organization__name", "provider"]
    list_select_related = ["organization"]
    ordering = ["organization__name", "kind", "currency", "provider"]
    show_full_result_count = False
    fields = ["owner", "kind", "currency", "provider", "balance", "lines", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        total = (
            Posting.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        return super().get_queryset(request).annotate(posted=Subquery(total))

    @admin.display(description="owner", ordering="organization__name")
    def owner(self, account):
        if account.kind == AccountKind.CLEARING:
            return f"Provider {account.provider}"
        return account.organization.name if account.organization_id else "Platform"

    @admin.display(description="opened", ordering="created_at")
    def opened(self, account):
        return moment(account.created_at)

    @admin.display(description="balance")
    def balance(self, account):
        return money(shown_balance(account.kind, account.posted or Decimal(0)), account.currency)

    @admin.display(description="lines")
    def lines(self, account):
        url = ledger_url(
            organization=account.organization_id or PLATFORM, currency=account.currency, account_kind=account.kind
        )
        return format_html('<a href="{}">Lines</a>', url)

    def changelist_view(self, request, extra_context=None):
        extra = {"adjust_url": reverse("admin:escrow_ledger_adjust")} if is_platform_staff(request) else {}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # Staff's manual adjustment: a balanced entry against the platform's commission, audited.

    def get_urls(self):
        adjust = self.admin_site.admin_view(self.adjust_view)
        return [path("adjust/", adjust, name="escrow_ledger_adjust"), *super().get_urls()]

    def adjust_view(self, request):
        if not is_platform_staff(request):
            raise PermissionDenied
        initial = {"currency": request.GET.get("currency", ""), "direction": "credit"}
        if organization_id := as_uuid(request.GET.get("organization")):
            initial["organization"] = organization_id
        form = AdjustmentForm(request.POST or None, initial=initial, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            organization = data["organization"]
            try:
                entry = services.ledger_adjust(
                    actor=Actor.staff(request.user.id),
                    organization_id=organization.id,
                    currency=data["currency"],
                    amount=data["amount"],
                    direction=data["direction"],
                    reason=data["reason"],
                )
            except DomainError as error:
                show_service_error(form, error)
            else:
                [line] = [posting for posting in entry.postings.all() if posting.organization_id == organization.id]
                moved = money(abs(line.amount), line.currency)
                done = f"Credited {moved} to" if data["direction"] == "credit" else f"Debited {moved} from"
                messages.success(
                    request,
                    f"{done} the available balance of {organization.name}, against the platform's commission. "
                    "The entry is in the ledger below.",
                )
                return HttpResponseRedirect(ledger_url(organization=organization.id, currency=line.currency))
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust an organization's available balance",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/escrow/ledgeraccount/adjust.html", context)


class AdjustmentForm(forms.Form):
    currency = forms.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. EUR.")
    amount = forms.CharField(max_length=32, help_text="Positive, in the currency's minor units at most, e.g. 25.00.")
    direction = forms.ChoiceField(
        choices=[("credit", "Credit the organization"), ("debit", "Debit the organization")],
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),  # laid out as the admin's own radio lists
        help_text="Credit: its available balance grows, paid from the platform's commission. "
        "Debit: it shrinks, into the commission.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Say why: the reason is kept with the entry and in the audit log."},
        help_text="Required. The organization sees it in its statement.",
    )

    field_order = ["organization", "currency", "amount", "direction", "reason"]

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # Searched as the organization page searches, rather than a list of every organization.
        self.fields["organization"] = forms.ModelChoiceField(
            queryset=organization_queryset().order_by("name"),
            widget=AutocompleteSelect(LedgerAccount._meta.get_field("organization"), admin_site),
        )
        self.order_fields(self.field_order)

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """The ledger page: account lines, filtered by organization (staff) and currency, with the
    chosen organization's balance per account above them. An organization admin's lines are
    their organization's own."""

    org_admin_actions = frozenset({"view"})
    # Narrower than the lines' visibility (both parties of the entry): the lines of the
    # organization's own accounts.
    organization_lookup = "organization_id"
    list_display = [
        "when",
        "organization_name",
        "account_shown",
        "debit",
        "credit",
        "entry_description",
        "escrow_number",
    ]
    list_filter = [OrganizationFilter, CurrencyFilter, "account_kind"]
    list_select_related = ["entry", "escrow", "account"]
    search_fields = ["entry__description", "escrow__number"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    list_display_links = None  # a line is read on its entry's page
    fields = ["created_at", "organization_id", "account_kind", "currency", "debit", "credit", "entry_description"]
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not is_platform_staff(request):
            return queryset  # their own lines only (organization_id): the column is theirs
        names = organization_queryset().filter(pk=OuterRef("organization_id")).values("name")[:1]
        return queryset.annotate(organization_name=Subquery(names))

    def get_list_display(self, request):
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "organization_name"]

    def get_list_filter(self, request):
        if is_platform_staff(request):
            return self.list_filter
        return [CurrencyFilter, "account_kind"]

    @admin.display(description="when", ordering="created_at")
    def when(self, posting):
        return moment(posting.created_at)

    @admin.display(description="organization")
    def organization_name(self, posting):
        return posting.organization_name or ("Platform" if posting.organization_id is None else posting.organization_id)

    @admin.display(description="account", ordering="account_kind")
    def account_shown(self, posting):
        if posting.account_kind == AccountKind.CLEARING:
            return f"{posting.get_account_kind_display()} {posting.currency} ({posting.account.provider})"
        return f"{posting.get_account_kind_display()} {posting.currency}"

    @admin.display(description="debit")
    def debit(self, posting):
        return money(posting.amount, posting.currency) if posting.amount > 0 else ""

    @admin.display(description="credit")
    def credit(self, posting):
        return money(-posting.amount, posting.currency) if posting.amount < 0 else ""

    @admin.display(description="entry")
    def entry_description(self, posting):
        url = reverse("admin:escrow_journalentry_change", args=[posting.entry_id])
        return format_html('<a href="{}">{}</a>', url, posting.entry.description)

    @admin.display(description="escrow", ordering="escrow__number")
    def escrow_number(self, posting):
        if posting.escrow is None:
            return "-"
        url = reverse("admin:escrow_escrow_change", args=[posting.escrow_id])
        return format_html('<a href="{}">{}</a>', url, posting.escrow.number)

    def changelist_view(self, request, extra_context=None):
        context = {"title": "Ledger", **self._balances_context(request)}
        if is_platform_staff(request):
            context["adjust_url"] = reverse("admin:escrow_ledger_adjust")
            chosen = request.GET.get("organization", "")
            if as_uuid(chosen):
                prefilled = {"organization": chosen, "currency": request.GET.get("currency", "")}
                context["adjust_url"] += "?" + urlencode(prefilled)
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def _balances_context(self, request) -> dict:
        """The balance of each account of the organization the page is about: the org admin's
        own, or the one staff chose in the filter (the platform's accounts too)."""
        if not is_platform_staff(request):
            organization_id = admin_organization_id(request)
            return {"balances": account_balances(organization_id=organization_id), "balances_of": "your organization"}
        chosen = request.GET.get("organization", "")
        if chosen == PLATFORM:
            return {"balances": account_balances(organization_id=None), "balances_of": "the platform"}
        organization_id = as_uuid(chosen)
        organization = organization_queryset().filter(pk=organization_id).first() if organization_id else None
        if organization is None:
            return {"balances": None}
        return {"balances": account_balances(organization_id=organization.id), "balances_of": organization.name}


def account_balances(*, organization_id: UUID | None) -> list[dict]:
    """Each account of the organization (None: the platform's own) with its debits, credits
    and balance as its owner reads it, formatted for the page."""
    return [
        {
            "account": f"{AccountKind(row['account_kind']).label}"
            + (f" ({row['account__provider']})" if row["account__provider"] else ""),
            "kind": row["account_kind"],
            "currency": row["currency"],
            "debits": money(row["debits"], row["currency"]),
            "credits": money(-row["credits"], row["currency"]),
            "balance": money(shown_balance(row["account_kind"], row["total"]), row["currency"]),
        }
        for row in selectors.account_totals(organization_id=organization_id)
    ]
