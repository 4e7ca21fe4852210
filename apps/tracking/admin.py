"""Tracking in the back-office (each area's pages registered here)."""

from django.contrib import admin, messages

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin
from apps.core.errors import DomainError
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_actor
from apps.tracking import (
    admin_devices,  # noqa: F401 - registers the devices' pages
    admin_shipments,  # noqa: F401 - registers the shipments' and geofences' pages
)
from apps.tracking.models import Alert, AlertStatusChange
from apps.tracking.services import alerts as alert_services

# --- Alerts -------------------------------------------------------------------------------------


class AlertStatusChangeInline(StatusHistoryInlineMixin, ReadOnlyAdminMixin, admin.TabularInline):
    """The alert's history on its page. Whoever may open the page may see it (row-level
    security limits the rows); Django's model permissions would hide it from organization admins."""

    model = AlertStatusChange
    extra = 0

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Alerts of the organization's shipments (either party), read-only: raised by the pipeline
    or through the API; acknowledged and resolved by the actions below, through the services
    (lifecycle, history, audit and event as from the API)."""

    org_admin_actions = frozenset({"view"})
    list_display = ["created_at", "alert_type", "severity", "status", "short_message", "shipment", "escalated_at"]
    list_filter = ["status", "severity", "alert_type", ("escalated_at", admin.EmptyFieldListFilter)]
    list_select_related = ["shipment"]
    search_fields = ["message", "shipment__reference", "shipment__tracking_number"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [AlertStatusChangeInline]
    actions = ["acknowledge", "resolve"]
    # The two organizations are left out: each party's row-level security hides the other's.
    fields = [
        ("alert_type", "severity", "status"),
        "message",
        "details",
        ("shipment", "condition_key"),
        ("raised_by", "created_at"),
        ("acknowledged_by", "acknowledged_at"),
        ("resolved_by", "resolved_at"),
        "escalated_at",
    ]
    readonly_fields = [field for row in fields for field in (row if isinstance(row, tuple) else (row,))]

    @admin.display(description="message")
    def short_message(self, alert):
        return alert.message if len(alert.message) <= 80 else f"{alert.message[:79]}…"

    def _move_each(self, request, queryset, move, *, done: str) -> None:
        """Apply `move` to each alert in primary-key order (two people acting on overlapping
        alerts lock them in one order); a refusal names its alert and leaves the others done."""
        moved = 0
        for alert in queryset.order_by("pk"):
            actor = admin_actor(request, organization_id=alert.supplier_organization_id)
            try:
                move(actor=actor, alert_id=alert.pk, note="From the back-office.")
            except DomainError as error:
                self.message_user(request, f"{alert}: {error.message}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, done.format(count=moved), messages.SUCCESS)

    @admin.action(description="Acknowledge the selected alerts")
    def acknowledge(self, request, queryset):
        self._move_each(request, queryset, alert_services.alert_acknowledge, done="{count} alert(s) acknowledged.")

    @admin.action(description="Resolve the selected alerts")
    def resolve(self, request, queryset):
        self._move_each(request, queryset, alert_services.alert_resolve, done="{count} alert(s) resolved.")
