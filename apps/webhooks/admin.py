"""Webhooks in the back-office: endpoints and their deliveries, for platform staff (every
organization) and organization admins (their own). Endpoints are registered and changed
through the API (where the URL and the patterns are checked); here they are read, pinged,
switched back on and given a new secret, and deliveries are sent again, all through the
services, as the API does."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_actor
from apps.webhooks import services
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def _each(model_admin, request, queryset, call, *, done: str) -> list:
    """Call the service once per selected row (in primary-key order) as the page's actor;
    a refusal is a message, the other rows still go."""
    results = []
    for pk, organization_id in queryset.order_by("pk").values_list("pk", "organization_id"):
        try:
            results.append(call(actor=admin_actor(request, organization_id=organization_id), pk=pk))
        except DomainError as error:
            model_admin.message_user(request, f"{pk}: {error.message}", messages.ERROR)
    if results:
        model_admin.message_user(request, done.format(count=len(results)), messages.SUCCESS)
    return results


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    list_display = ["url", "organization", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    list_select_related = ["organization"]
    actions = ["rotate_secret", "ping", "switch_on"]
    fields = [
        ("organization", "url"),
        "event_types",
        "description",
        ("is_active", "disabled_at", "disabled_reason"),
        ("consecutive_failures", "failing_since"),
        ("secret_rotated_at", "previous_secret_expires_at"),
        ("created_by", "created_at", "updated_at"),
    ]
    readonly_fields = [field for row in fields for field in (row if isinstance(row, tuple) else (row,))]

    @admin.action(description="Rotate the selected endpoints' secrets (shown once)")
    def rotate_secret(self, request, queryset):
        def rotate(*, actor, pk):
            return services.endpoint_rotate_secret(actor=actor, endpoint_id=pk)

        rotated = _each(self, request, queryset, rotate, done="{count} secret(s) rotated.")
        if not rotated:
            return None
        rows = [
            {"url": endpoint.url, "secret": secret, "previous_until": endpoint.previous_secret_expires_at}
            for endpoint, secret in rotated
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "New secrets",
            "rows": rows,
        }
        # The admin's views are never cached (Cache-Control: no-store): nor is this answer.
        return TemplateResponse(request, "admin/webhooks/secrets_shown.html", context)

    @admin.action(description="Send a test ping to the selected endpoints")
    def ping(self, request, queryset):
        def ping(*, actor, pk):
            return services.endpoint_ping(actor=actor, endpoint_id=pk)

        _each(self, request, queryset, ping, done="{count} ping(s) sent: see the deliveries.")

    @admin.action(description="Switch the selected endpoints back on (resets the circuit breaker)")
    def switch_on(self, request, queryset):
        def switch_on(*, actor, pk):
            return services.endpoint_update(actor=actor, endpoint_id=pk, data={"is_active": True})

        _each(self, request, queryset, switch_on, done="{count} endpoint(s) switched on.")


class WebhookAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The delivery's attempts on its page. Whoever may open the page may see them (row-level
    security limits the rows); Django's model permissions would hide them from organization admins."""

    model = WebhookAttempt
    extra = 0
    fields = [
        "sequence",
        "number",
        "requested_at",
        "succeeded",
        "status_code",
        "latency_ms",
        "error",
        "response_excerpt",
    ]
    readonly_fields = fields
    ordering = ["requested_at", "id"]

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["event_type", "event_id"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["redeliver"]
    inlines = [WebhookAttemptInline]
    fields = [
        ("endpoint", "event_type", "event_id"),
        ("status", "sequence", "attempt_count"),
        ("next_attempt_at", "last_attempt_at", "delivered_at"),
        ("last_status_code", "last_error"),
        "body",
        "created_at",
    ]
    readonly_fields = [field for row in fields for field in (row if isinstance(row, tuple) else (row,))]

    @admin.action(description="Send the selected deliveries again")
    def redeliver(self, request, queryset):
        def redeliver(*, actor, pk):
            return services.delivery_redeliver(actor=actor, delivery_id=pk)

        _each(self, request, queryset, redeliver, done="Sent again: {count}.")
