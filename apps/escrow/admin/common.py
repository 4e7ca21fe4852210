"""What the escrow back-office pages share: money formatting, filters, read-only bases."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, money
from apps.core.money import round_money
from apps.escrow.models import (
    DEBIT_NORMAL,
    AccountKind,
    LedgerAccount,
    Posting,
)
from apps.tenancy.admin_site import admin_organization_id, is_platform_staff
from apps.tenancy.selectors import organization_queryset

PLATFORM = "platform"  # the organization filter's value for the platform's own accounts


def amount_only(amount: Decimal, currency: str) -> str:
    """`600.00`: for the columns beside an amount that names the currency."""
    return str(round_money(amount, currency))


def moment(value) -> str:
    """`2026-12-01 10:07` in the back-office's time zone: short enough for a column."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def shown_balance(kind: str, total: Decimal) -> Decimal:
    """A sum of postings as the account's owner reads it: credit-normal accounts positive."""
    return total if kind in DEBIT_NORMAL else -total


def ledger_url(**filters) -> str:
    """The ledger page (the posting list) with the given filters."""
    query = urlencode({name: value for name, value in filters.items() if value})
    return reverse("admin:escrow_posting_changelist") + (f"?{query}" if query else "")


# --- Filters ------------------------------------------------------------------------------------


class CurrencyFilter(admin.SimpleListFilter):
    """The currencies money has moved in, read from the (small) table of accounts rather than
    with a DISTINCT over escrows or postings, which only grow."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        currencies = LedgerAccount.objects.order_by("currency").values_list("currency", flat=True).distinct()
        return [(currency, currency) for currency in currencies]

    def queryset(self, request, queryset):
        return queryset.filter(currency=self.value().upper()) if self.value() else queryset


class EscrowCurrencyFilter(CurrencyFilter):
    """An organization admin's escrows may be in a currency none of their own accounts holds
    (the other party's do): their currencies come from their escrows, which are few. Staff
    get the accounts' currencies (an escrow in a currency no money has moved in yet is
    found by searching for it instead)."""

    def lookups(self, request, model_admin):
        if is_platform_staff(request):
            return super().lookups(request, model_admin)
        currencies = model_admin.get_queryset(request).order_by("currency").values_list("currency", flat=True)
        return [(currency, currency) for currency in currencies.distinct()]


class OrganizationFilter(admin.SimpleListFilter):
    """Staff's choice of whose account lines to see: an organization with accounts, or the
    platform's own (commission and the providers' clearing accounts)."""

    title = "organization"
    parameter_name = "organization"

    def lookups(self, request, model_admin):
        owners = LedgerAccount.objects.filter(organization__isnull=False).values("organization_id")
        organizations = organization_queryset().filter(pk__in=owners).order_by("name").values_list("pk", "name")
        return [(PLATFORM, "Platform accounts"), *((str(pk), name) for pk, name in organizations)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == PLATFORM:
            return queryset.filter(organization_id__isnull=True)
        organization_id = as_uuid(value)
        return queryset.filter(organization_id=organization_id) if organization_id else queryset.none()


def as_uuid(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


class WebhookStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("applied", "applied"), ("waiting", "not applied yet"), ("failing", "failing")]

    def queryset(self, request, queryset):
        match self.value():
            case "applied":
                return queryset.filter(applied_at__isnull=False)
            case "waiting":
                return queryset.filter(applied_at__isnull=True, last_error="")
            case "failing":
                return queryset.filter(applied_at__isnull=True).exclude(last_error="")
        return queryset


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(name, name) for name in settings.PAYMENT_GATEWAYS]

    def queryset(self, request, queryset):
        return queryset.filter(provider=self.value()) if self.value() else queryset


# --- Shared bases -------------------------------------------------------------------------------


class StaffOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The platform's own records, read-only, for platform staff only."""

    show_full_result_count = False

    def has_module_permission(self, request):
        return is_platform_staff(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_platform_staff(request) and super().has_view_permission(request, obj)


class EscrowPartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on their escrow's page, read-only. Whoever may open the page may see them
    (row-level security limits the rows); Django's model permissions, which organization
    admins lack, would hide them."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return True


def postings_shown_to(request, queryset):
    """An organization admin sees only their organization's own lines of an entry."""
    if is_platform_staff(request):
        return queryset
    return queryset.filter(organization_id=admin_organization_id(request))


def account_label(posting: Posting, names: dict) -> str:
    """`Available EUR (Baltic Shippers)`, `Platform commission EUR`, `Provider clearing EUR (sandbox)`."""
    label = f"{posting.get_account_kind_display()} {posting.currency}"
    if posting.account_kind == AccountKind.CLEARING:
        return f"{label} ({posting.account.provider})"
    if posting.organization_id is None:
        return label
    return f"{label} ({names.get(posting.organization_id) or posting.organization_id})"


def lines_table(postings, names: dict):
    if not postings:
        return "-"
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td class='money'>{}</td><td class='money'>{}</td></tr>",
        (
            (
                account_label(posting, names),
                money(posting.amount, posting.currency) if posting.amount > 0 else "",
                money(-posting.amount, posting.currency) if posting.amount < 0 else "",
            )
            for posting in postings
        ),
    )
    return format_html(
        "<table class='ledger-lines'><tr><th>account</th><th>debit</th><th>credit</th></tr>{}</table>", rows
    )
