"""Devices in the back-office: an organization's devices with their key prefix (never the key),
revoked through the service (audited)."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.core.errors import DomainError
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_actor
from apps.tracking.models import Device
from apps.tracking.services import devices as services


@admin.register(Device)
class DeviceAdmin(OrganizationScopedAdmin):
    list_display = ["name", "serial_number", "key_prefix", "organization", "last_seen_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "serial_number", "key_prefix"]
    list_select_related = ["organization"]
    # Registered through the API, which hands out the key once; here they are read and revoked.
    readonly_fields = [
        "name",
        "serial_number",
        "key_prefix",
        "organization",
        "created_by",
        "created_at",
        "last_seen_at",
        "revoked_at",
    ]
    exclude = ["key_digest"]
    actions = ["revoke"]
    org_admin_actions = frozenset({"view", "change"})

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: its events name it

    @admin.action(description="Revoke the selected devices' keys")
    def revoke(self, request, queryset):
        revoked = 0
        for device_id, organization_id in queryset.values_list("pk", "organization_id"):
            try:
                services.device_revoke(
                    actor=admin_actor(request, organization_id=organization_id),
                    device_id=device_id,
                    reason="revoked in the back-office",
                )
                revoked += 1
            except DomainError as error:
                self.message_user(request, f"{device_id}: {error.message}", messages.ERROR)
        self.message_user(request, f"{revoked} device key(s) revoked.")
