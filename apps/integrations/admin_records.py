"""What the syncs of a shop leave, in the back-office (read-only): the sync log, quarantined orders,
billing records, fulfilment pushes, and the probable duplicates across platforms, which platform
staff review ("Confirm duplicate" / "Not a duplicate", through `duplicate_review`; nothing is
merged). Organization admins see their own organization's rows (apps/integrations/admin.py says
who does what)."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.core.admin import ReadOnlyAdminMixin, money
from apps.core.errors import DomainError
from apps.integrations import services
from apps.integrations.admin_common import IntegrationsSwitchedOn
from apps.integrations.models import (
    BillingRecord,
    DuplicateFlag,
    DuplicateStatus,
    PlatformOrderLink,
    QuarantinedOrder,
    StatusPush,
    SyncRun,
)
from apps.tenancy.admin_site import OrganizationScopedAdmin, is_platform_staff


class RecordAdmin(IntegrationsSwitchedOn, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    org_admin_actions = frozenset({"view"})
    show_full_result_count = False


def _order_shown(link: PlatformOrderLink) -> str:
    return f"{link.order_number} ({link.get_platform_display()} {link.external_id})"


@admin.register(SyncRun)
class SyncRunAdmin(RecordAdmin):
    """The sync log: one row per run of a shop, newest first."""

    list_display = [
        "started_at",
        "configuration",
        "trigger",
        "status",
        "window_start",
        "window_end",
        "pages",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "quarantined",
        "retries",
        "error_code",
    ]
    list_filter = ["status", "trigger", "configuration"]
    list_select_related = ["configuration"]
    ordering = ["-started_at", "-id"]


@admin.register(QuarantinedOrder)
class QuarantinedOrderAdmin(RecordAdmin):
    """Platform orders that could not be imported as they are, with the reason; released (imported)
    once a later read of the order is sound."""

    list_display = [
        "external_id",
        "configuration",
        "reason",
        "times_seen",
        "first_seen_at",
        "last_seen_at",
        "released_at",
    ]
    list_filter = ["configuration", ("released_at", admin.EmptyFieldListFilter)]
    list_select_related = ["configuration"]
    search_fields = ["external_id"]
    ordering = ["-last_seen_at", "-id"]


class LinkedRecordAdmin(RecordAdmin):
    """A record of a platform order: the order's link is read with it, without its raw payload."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("link").defer("link__raw_payload")

    @admin.display(description="order", ordering="link__order_number")
    def order_shown(self, record) -> str:
        return _order_shown(record.link)


@admin.register(BillingRecord)
class BillingRecordAdmin(LinkedRecordAdmin):
    list_display = ["number", "kind", "status", "amount_shown", "order_shown", "issued_at", "external_reference"]
    list_filter = ["kind", "status", "link__configuration"]
    search_fields = ["number", "external_reference"]
    ordering = ["-issued_at", "-id"]

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, record: BillingRecord) -> str:
        return money(record.amount, record.currency)


@admin.register(StatusPush)
class StatusPushAdmin(LinkedRecordAdmin):
    """Fulfilments pushed back to the platforms (our order shipped): sent, waiting for a retry, or
    failed with the platform's reason."""

    list_display = [
        "created_at",
        "order_shown",
        "status",
        "tracking_number",
        "carrier",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["state", "link__configuration"]
    search_fields = ["tracking_number", "link__order_number", "link__external_id"]
    ordering = ["-created_at", "-id"]


@admin.register(DuplicateFlag)
class DuplicateFlagAdmin(RecordAdmin):
    """The review queue of probable duplicates across platforms (the same customer, items and amount
    within a window). Staff confirm or dismiss each; the seller cancels a confirmed duplicate on
    its platform, and ours follows the platform."""

    list_display = [
        "flagged_at",
        "status",
        "owner",
        "order_shown",
        "other_order_shown",
        "amount_shown",
        "reasons_shown",
        "reviewed_at",
    ]
    list_filter = ["status"]
    ordering = ["-flagged_at", "-id"]
    actions = ["confirm_duplicate", "not_duplicate"]

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("link", "other_link")
            .defer("link__raw_payload", "other_link__raw_payload")
        )
        return queryset.select_related("organization") if is_platform_staff(request) else queryset

    def get_list_display(self, request):
        if is_platform_staff(request):
            return self.list_display
        return [column for column in self.list_display if column != "owner"]

    @admin.display(description="organization", ordering="organization__name")
    def owner(self, flag: DuplicateFlag) -> str:
        return flag.organization.name

    @admin.display(description="order")
    def order_shown(self, flag: DuplicateFlag) -> str:
        return _order_shown(flag.link)

    @admin.display(description="resembles")
    def other_order_shown(self, flag: DuplicateFlag) -> str:
        return _order_shown(flag.other_link)

    @admin.display(description="amount")
    def amount_shown(self, flag: DuplicateFlag) -> str:
        return money(flag.link.total_amount, flag.link.currency)

    @admin.display(description="why")
    def reasons_shown(self, flag: DuplicateFlag) -> str:
        return ", ".join(str(reason) for reason in flag.reasons) or "-"

    def has_review_permission(self, request) -> bool:
        return is_platform_staff(request) and self.has_view_permission(request)

    @admin.action(description="Confirm duplicate", permissions=["review"])
    def confirm_duplicate(self, request, queryset):
        self._review(request, queryset, DuplicateStatus.DUPLICATE)

    @admin.action(description="Not a duplicate", permissions=["review"])
    def not_duplicate(self, request, queryset):
        self._review(request, queryset, DuplicateStatus.NOT_DUPLICATE)

    def _review(self, request, queryset, status: str) -> None:
        done = 0
        for flag_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                services.duplicate_review(flag_id=flag_id, reviewer_id=request.user.id, status=status)
            except DomainError as error:
                self.message_user(request, f"{flag_id}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            label = DuplicateStatus(status).label.lower()
            self.message_user(request, f"{done} flag(s) reviewed: {label}.", messages.SUCCESS)
