"""What the marketplace's back-office pages share: who acts, how amounts and columns are
shown, staff's moderation actions and the read-only inlines."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.money import minor_units
from apps.tenancy.admin_site import is_platform_staff
from apps.tenancy.roles import Actor


def acting_for(request) -> Actor | None:
    """The organization admin as the services see them; None for platform staff, who act
    for no organization in the back-office."""
    membership = getattr(request, "admin_membership", None)
    if membership is None:
        return None
    return Actor.of(membership, user_id=request.user.id)


def amount_with_currency(amount: Decimal, currency: str) -> str:
    """`1850.00 EUR`, `0.0125 EUR`: the currency's minor units at least, no trailing zeros past them."""
    whole, _, fraction = f"{amount:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(minor_units(currency), "0")
    return f"{whole}.{fraction} {currency}" if fraction else f"{whole} {currency}"


def list_display_for(request, columns: list[str]) -> list[str]:
    """The columns of a list; an organization admin's rows are all their organization's,
    so its name is left out for them."""
    return columns if is_platform_staff(request) else [column for column in columns if column != "organization_name"]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), error_messages={"required": "Say why."}
    )

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text


class StaffModerationMixin:
    """Actions only platform staff get (`permissions=["moderate"]`); the ones that need a
    reason ask for it on an intermediate page, as the KYC review asks why a document is
    rejected: no reason, nothing happens."""

    def has_moderate_permission(self, request):
        return is_platform_staff(request)

    def ask_reason(self, request, queryset, *, action: str, title: str, help_text: str, button: str):
        """The reason given with the confirmed action, or the page asking for it."""
        confirmed = "apply" in request.POST
        form = ReasonForm(request.POST if confirmed else None, help_text=help_text)
        if confirmed and form.is_valid():
            return form.cleaned_data["reason"]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "rows": [
                {
                    "pk": row.pk,
                    "label": str(row),
                    "detail": f" ({row.organization_name})" if getattr(row, "organization_name", "") else "",
                }
                for row in queryset
            ],
            "form": form,
            "action": action,
            "button": button,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)

    def moderate_each(self, request, queryset, change, *, done: str, nothing: str = "") -> None:
        """Apply `change` to each row, in primary-key order: the rows stay locked until the
        request's transaction ends, so two staff acting on overlapping rows lock them in one
        order and cannot deadlock. A refusal names its row and leaves the others done."""
        rows = list(queryset.order_by("pk"))
        if not rows:
            self.message_user(request, nothing or "Nothing to do.", messages.WARNING)
            return
        count = 0
        for row in rows:
            try:
                change(row)
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)


class MarketplacePartInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows shown on their parent's page, read-only. Whoever may open the page may see them
    (row-level security limits the rows); Django's model permissions would hide them from
    organization admins."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return True
