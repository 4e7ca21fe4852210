"""Back-office for the shared kernel: the outbox, read-only, for platform staff to watch
events that wait or fail; and what every context's back-office pages share (read-only
admins, history inlines, money as shown, a service's refusal on its form)."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from apps.core.errors import DomainError
from apps.core.models import OutboxEvent
from apps.core.money import round_money


def money(amount: Decimal | None, currency: str) -> str:
    """`1000.00 EUR`: stored amounts are whole minor units, shown with exactly that many places."""
    if amount is None:
        return "-"
    return f"{round_money(amount, currency)} {currency}"


def show_service_error(form: forms.Form, error: DomainError) -> None:
    """A service's refusal on its form (the values stay as typed): its problems beside the
    fields they name (lists of sentences; other details, such as what is held, are context),
    else its message above the form."""
    named = [field for field, problems in error.details.items() if field in form.fields and isinstance(problems, list)]
    for field in named:
        form.add_error(field, error.details[field])
    if not named:
        form.add_error(None, error.message)


class ReadOnlyAdminMixin:
    """For records nobody edits by hand (the database often refuses anyway): view only.
    Fits model admins and inlines alike (an inline's has_add_permission takes the parent)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StatusHistoryInlineMixin:
    """An inline of a lifecycle's history rows (apps.core.lifecycle.StatusChange): the same
    columns for every aggregate, oldest first, with who moved it joined in the one query."""

    verbose_name_plural = "history"
    fields = ["at", "from_status", "to_status", "by", "reason"]
    readonly_fields = fields
    ordering = ["at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "aggregate_type", "aggregate_id", "published_at", "attempts"]
    list_filter = ["event_type", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["aggregate_id", "event_type", "request_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
