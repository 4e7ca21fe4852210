"""Tracked shipments and geofences in the back-office.

Tracked shipments are read-only: they start and follow their order or package by themselves,
their route is planned through the API by the carrier. Geofences are drawn through the API
(where their shapes are checked); here an organization admin sees them and switches them off
or removes them through the service, which rewrites the shipments' snapshots as the API does."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_actor
from apps.tracking.models import Geofence, TrackedShipment
from apps.tracking.services import geofences as geofence_services


@admin.register(TrackedShipment)
class TrackedShipmentAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """The organization's tracked orders and packages (either party), read-only."""

    org_admin_actions = frozenset({"view"})
    list_display = ["reference", "tracking_number", "kind", "status", "is_active", "last_position_at", "eta_at"]
    list_filter = ["kind", "is_active", "status"]
    search_fields = ["reference", "tracking_number", "external_tracking_number"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # The two organizations are left out: each party's row-level security hides the other's.
    fields = [
        ("kind", "reference", "tracking_number"),
        ("status", "is_active", "started_at", "completed_at"),
        ("order", "package"),
        "route",
        ("corridor_width_m", "route_length_m", "promised_at"),
        ("temperature_min_c", "temperature_max_c"),
        ("last_latitude", "last_longitude", "last_position_at", "last_city", "last_country"),
        ("eta_at", "remaining_distance_m", "eta_computed_at"),
        "geofences",
        ("carrier_code", "external_tracking_number"),
    ]
    readonly_fields = [field for row in fields for field in (row if isinstance(row, tuple) else (row,))]


@admin.register(Geofence)
class GeofenceAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    list_display = ["name", "shape", "radius_m", "warehouse", "is_active", "alert_on_enter", "updated_at"]
    list_filter = ["shape", "is_active"]
    search_fields = ["name"]
    list_select_related = ["warehouse"]
    actions = ["switch_off", "remove"]
    fields = [
        ("name", "shape", "is_active", "alert_on_enter"),
        ("center_latitude", "center_longitude", "radius_m"),
        "polygon",
        "warehouse",
        ("created_at", "updated_at"),
    ]
    readonly_fields = [field for row in fields for field in (row if isinstance(row, tuple) else (row,))]

    def _each(self, request, queryset, change, *, done: str) -> None:
        changed = 0
        for geofence_id, organization_id in queryset.order_by("pk").values_list("pk", "organization_id"):
            try:
                change(actor=admin_actor(request, organization_id=organization_id), geofence_id=geofence_id)
            except DomainError as error:
                self.message_user(request, f"{geofence_id}: {error.message}", messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, done.format(count=changed), messages.SUCCESS)

    @admin.action(description="Switch the selected geofences off")
    def switch_off(self, request, queryset):
        def switch_off(*, actor, geofence_id):
            geofence_services.geofence_update(actor=actor, geofence_id=geofence_id, data={"is_active": False})

        self._each(request, queryset, switch_off, done="{count} geofence(s) switched off.")

    @admin.action(description="Remove the selected geofences")
    def remove(self, request, queryset):
        self._each(request, queryset, geofence_services.geofence_delete, done="{count} geofence(s) removed.")
