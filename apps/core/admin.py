"""Back-office for the shared kernel: the outbox, read-only, for platform staff to watch
events that wait or fail."""

from django.contrib import admin

from apps.core.models import OutboxEvent


class ReadOnlyAdminMixin:
    """For records nobody edits by hand (the database often refuses anyway): view only.
    Fits model admins and inlines alike (an inline's has_add_permission takes the parent)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "event_type", "aggregate_type", "aggregate_id", "published_at", "attempts"]
    list_filter = ["event_type", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["aggregate_id", "event_type", "request_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
