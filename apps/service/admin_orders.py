"""Service orders and matching results in the back-office (apps/service/admin.py says who sees
and does what)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdminMixin, StatusHistoryInlineMixin, money
from apps.core.errors import DomainError
from apps.service import services, vocabulary
from apps.service.admin_common import (
    PageChangeList,
    PartInline,
    ReasonForm,
    ServiceSwitchedOn,
    breakdown_html,
    download_link,
    names_attach,
    organization_name,
    stream_file,
)
from apps.service.models import (
    ExpertPassport,
    MatchingResult,
    ServiceOrder,
    ServiceOrderAttachment,
    ServiceOrderStatus,
    ServiceOrderStatusChange,
)
from apps.tenancy.admin_site import (
    OrganizationScopedAdmin,
    admin_actor,
    admin_organization_id,
    is_platform_staff,
)

CANCELLABLE = (ServiceOrderStatus.PENDING, ServiceOrderStatus.ASSIGNED)


def experts_by_id(expert_ids) -> dict[UUID, ExpertPassport]:
    """The experts the page names, in one query (those the reader may see: their own
    organization's and the published ones; staff every one)."""
    ids = {expert_id for expert_id in expert_ids if expert_id}
    if not ids:
        return {}
    return {
        expert.id: expert for expert in ExpertPassport.objects.filter(id__in=ids).only("id", "code", "display_name")
    }


def expert_shown(expert: ExpertPassport | None, user) -> str:
    """The expert by code and name; by the person's name when their profile is hidden from the
    reader (unpublished, of another organization)."""
    if expert is not None:
        return f"{expert.code} {expert.display_name}"
    return str(user) if user is not None else "-"


# --- Service orders -----------------------------------------------------------------------------


class ServiceOrderHistoryInline(StatusHistoryInlineMixin, PartInline):
    model = ServiceOrderStatusChange


class ServiceOrderAttachmentInline(PartInline):
    """Photos of the problem and of the work done, documents, the customer's sign-off."""

    model = ServiceOrderAttachment
    verbose_name = "file"
    verbose_name_plural = "photos and documents"
    fields = ["download", "kind", "content_type", "size", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="file")
    def download(self, attachment: ServiceOrderAttachment) -> str:
        url = reverse("admin:service_serviceorder_attachment", args=[attachment.service_order_id, attachment.pk])
        return download_link(url, attachment.filename)


@admin.register(ServiceOrder)
class ServiceOrderAdmin(ServiceSwitchedOn, ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Service orders the organization is a party of (as the customer or as the expert's
    organization), read-only; cancelled by the customer (staff: for the customer) with a reason
    through `service_order_cancel`. The work itself is done through the API."""

    org_admin_actions = frozenset({"view"})
    list_display = ["number", "title", "customer_organization", "expert_column", "urgency", "status", "created_at"]
    list_filter = ["status", "urgency"]
    list_select_related = ["expert", "expert_user"]
    search_fields = ["number", "title", "passport_code"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    actions = ["cancel"]
    inlines = [ServiceOrderHistoryInline, ServiceOrderAttachmentInline]
    fieldsets = [
        ("Order", {"fields": [("number", "status", "urgency"), "title", "description", "skill"]}),
        (
            "Parties",
            {
                "fields": [
                    ("customer_organization", "customer", "created_by"),
                    ("expert_column", "expert_organization_name", "accepted_at"),
                ]
            },
        ),
        (
            "Device and site",
            {"fields": [("passport_code", "device_name"), "address", ("latitude", "longitude")]},
        ),
        ("When and price", {"fields": [("scheduled_start", "scheduled_end"), "price_shown"]}),
        (
            "Completion",
            {
                "fields": [
                    "work_done",
                    "parts",
                    ("signed_off_by_name", "signed_off_at"),
                    ("completed_at", "passport_event_id"),
                    "cancellation_reason",
                ]
            },
        ),
        ("Matching", {"fields": [("offer_round", "offers_expire_at"), "matching"]}),
        ("Record", {"fields": [("status_changed_at", "created_at", "updated_at")]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field for _, options in self.fieldsets for row in options["fields"] for field in _flat(row)]

    def get_changelist(self, request, **kwargs):
        return PageChangeList

    def rows_loaded(self, request, rows) -> None:
        names_attach(rows, columns=("organization_id", "expert_organization_id"))

    @admin.display(description="customer organization")
    def customer_organization(self, order: ServiceOrder) -> str:
        return organization_name(order, "organization_id")

    @admin.display(description="expert's organization")
    def expert_organization_name(self, order: ServiceOrder) -> str:
        return organization_name(order, "expert_organization_id")

    @admin.display(description="expert")
    def expert_column(self, order: ServiceOrder) -> str:
        if order.expert_id is None:
            return "-"
        return expert_shown(order.expert, order.expert_user)

    @admin.display(description="required skill")
    def skill(self, order: ServiceOrder) -> str:
        return f"{order.required_skill} {vocabulary.skill_label(order.required_skill)}"

    @admin.display(description="price")
    def price_shown(self, order: ServiceOrder) -> str:
        return money(order.price, order.currency) if order.price is not None else "-"

    @admin.display(description="parts used")
    def parts(self, order: ServiceOrder) -> str:
        if not order.parts_used:
            return "-"
        return format_html_join(
            "",
            "<div>{} x {}{}</div>",
            (
                (
                    part.get("quantity", 1),
                    part.get("name", ""),
                    f" ({part['part_number']})" if part.get("part_number") else "",
                )
                for part in order.parts_used
            ),
        )

    @admin.display(description="matching results")
    def matching(self, order: ServiceOrder) -> str:
        """The scored candidates as the reader may see them (the customer's side: every one; an
        expert's organization: its own), best first, with each score's breakdown."""
        results = list(
            MatchingResult.objects.filter(source_id=order.id).select_related("target_user").order_by("rank", "id")
        )
        if not results:
            return "none"
        experts = experts_by_id(result.target_id for result in results)
        return format_html(
            '<table class="matching-results"><thead><tr><th>rank</th><th>expert</th><th>score</th>'
            "<th>distance (km)</th><th>status</th><th>offer</th><th>breakdown</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        result.rank,
                        expert_shown(experts.get(result.target_id), result.target_user),
                        result.score,
                        result.distance_km if result.distance_km is not None else "-",
                        result.get_status_display(),
                        _offer(result),
                        breakdown_html(result.breakdown),
                    )
                    for result in results
                ),
            ),
        )

    # --- cancelling ---

    def has_cancel_permission(self, request) -> bool:
        return self.has_view_permission(request)

    @admin.action(description="Cancel the selected service orders (with a reason)", permissions=["cancel"])
    def cancel(self, request, queryset):
        """Ask for the reason (both sides read it), then cancel each order through
        `service_order_cancel` in primary-key order: an organization admin only their
        organization's own orders (as the customer), staff for the customer."""
        staff = is_platform_staff(request)
        organization_id = admin_organization_id(request)
        rows = list(queryset.order_by("pk"))
        theirs = [row for row in rows if not staff and row.organization_id != organization_id]
        for row in theirs:
            self.message_user(request, f"{row}: only the customer cancels a service order.", messages.ERROR)
        rows = [row for row in rows if row not in theirs]
        if not rows:
            return None
        confirmed = "apply" in request.POST
        form = ReasonForm(
            request.POST if confirmed else None, help_text="The customer and the expert read it with the cancellation."
        )
        if not (confirmed and form.is_valid()):
            context = {
                **self.admin_site.each_context(request),
                "title": f"Cancel {len(rows)} service order(s)",
                "opts": self.model._meta,
                "rows": [{"pk": row.pk, "label": str(row), "detail": f" ({row.status}: {row.title})"} for row in rows],
                "form": form,
                "action": "cancel",
                "button": "Yes, cancel",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/action_reason.html", context)
        done = 0
        for row in rows:
            actor = admin_actor(request, organization_id=row.organization_id)
            try:
                services.service_order_cancel(actor=actor, service_order_id=row.pk, reason=form.cleaned_data["reason"])
            except DomainError as error:
                self.message_user(request, f"{row}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} service order(s) cancelled.", messages.SUCCESS)
        return None

    # --- the files ---

    def get_urls(self):
        return [
            path(
                "<uuid:object_id>/files/<uuid:attachment_id>/",
                self.admin_site.admin_view(self.attachment_view),
                name="service_serviceorder_attachment",
            ),
            *super().get_urls(),
        ]

    def attachment_view(self, request, object_id: UUID, attachment_id: UUID):
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = self.get_queryset(request).filter(pk=object_id).first()
        if order is None:
            raise Http404("No such service order.")
        attachment = ServiceOrderAttachment.objects.filter(pk=attachment_id, service_order_id=order.pk).first()
        if attachment is None or not attachment.file:
            raise Http404("No such file.")
        return stream_file(attachment.file, filename=attachment.filename, content_type=attachment.content_type)


def _flat(row) -> tuple:
    return row if isinstance(row, tuple) else (row,)


def _offer(result: MatchingResult) -> str:
    if result.offer_round == 0:
        return result.get_offer_status_display()
    when = f", {timezone.localtime(result.offered_at):%Y-%m-%d %H:%M}" if result.offered_at else ""
    return f"{result.get_offer_status_display()} (round {result.offer_round}{when})"


# --- Matching results (staff) -------------------------------------------------------------------


@admin.register(MatchingResult)
class MatchingResultAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Every scored candidate of every service order, for staff to see why an expert was (or
    was not) proposed: the score, its breakdown per factor, the rank and what became of the
    offer. Search by the service order's id or number, or the expert's id."""

    org_admin_actions = frozenset()  # staff only: each side reads its own in the order's page and the API
    list_display = [
        "order",
        "rank",
        "expert",
        "expert_organization",
        "score",
        "distance_km",
        "status",
        "offer_status",
        "offer_round",
        "created_at",
    ]
    list_filter = ["status", "offer_status", "source_type"]
    list_select_related = ["target_organization", "target_user"]
    search_fields = ["=source_id", "=target_id", "summary__number"]
    ordering = ["-created_at", "source_id", "rank"]
    show_full_result_count = False
    fields = [
        ("order", "source_type", "source_id"),
        ("expert", "expert_organization", "target_id"),
        ("rank", "score", "distance_km"),
        "breakdown_table",
        ("status", "offer_status", "offer_round"),
        ("offered_at", "responded_at"),
        "summary",
        ("created_at", "updated_at"),
    ]
    readonly_fields = [field for row in fields for field in _flat(row)]

    def get_changelist(self, request, **kwargs):
        return PageChangeList

    def rows_loaded(self, request, rows) -> None:
        experts = experts_by_id(row.target_id for row in rows)
        for row in rows:
            row.expert_row = experts.get(row.target_id)

    def get_search_fields(self, request):
        # An id is searched exactly, and only when the term is one (a number is not an id).
        try:
            UUID(request.GET.get("q", "").strip())
        except ValueError:
            return ["summary__number"]
        return ["=source_id", "=target_id"]

    @admin.display(description="service order")
    def order(self, result: MatchingResult) -> str:
        number = (result.summary or {}).get("number") if isinstance(result.summary, dict) else None
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:service_serviceorder_change", args=[result.source_id]),
            number or str(result.source_id),
        )

    @admin.display(description="expert")
    def expert(self, result: MatchingResult) -> str:
        if not hasattr(result, "expert_row"):
            result.expert_row = experts_by_id([result.target_id]).get(result.target_id)
        return expert_shown(result.expert_row, result.target_user)

    @admin.display(description="expert's organization", ordering="target_organization__name")
    def expert_organization(self, result: MatchingResult) -> str:
        return result.target_organization.name

    @admin.display(description="breakdown")
    def breakdown_table(self, result: MatchingResult) -> str:
        return breakdown_html(result.breakdown)
