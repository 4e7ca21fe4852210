"""The queue of reported messages: platform staff only.

Open reports first, oldest first. Staff hide a reported message (with a reason, asked for on an
intermediate page) or dismiss the report, through the chat services, which audit both; each
result is said in a message of its own, a refusal (the message is already hidden, the report
already decided) included. Organization admins never get this page: a report names who
reported what, and the reporter's identity is not the reported side's to read.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from apps.chat import selectors, services
from apps.chat.models import MessageReport
from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.tenancy.admin_site import OrganizationScopedAdmin, is_platform_staff

EXCERPT_CHARACTERS = 80


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARACTERS else f"{text[: EXCERPT_CHARACTERS - 1]}…"


def _message_label(report: MessageReport, *, lead: str = "Message") -> str:
    return f'{lead} #{report.message.seq} in "{report.thread.title}"'


class HideReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": "Say why the message is hidden."},
        help_text="Required. Kept with the message and in the audit log; the parties see only that a moderator hid it.",
    )


@admin.register(MessageReport)
class MessageReportAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Reports of messages, worked by staff: open first, oldest first."""

    org_admin_actions = frozenset()  # staff only: no page, no rows for an organization admin
    list_display = ["created_at", "status", "short_reason", "reported_message", "sender", "thread_link", "reports"]
    list_filter = ["status"]
    list_select_related = ["message", "thread", "reporter"]
    search_fields = ["reason", "message__body", "thread__title"]
    show_full_result_count = False
    actions = ["hide_message", "dismiss"]
    fieldsets = [
        (None, {"fields": [("status", "created_at"), "reason", "reported_by"]}),
        ("The message", {"fields": ["thread_link", "message_sent", "message_state", "message_text", "original_text"]}),
        ("Decision", {"fields": [("decided_at", "decided_by"), "decision_note"]}),
    ]
    readonly_fields = [
        "reported_by",
        "thread_link",
        "message_sent",
        "message_state",
        "message_text",
        "original_text",
    ]

    def get_queryset(self, request):
        if not is_platform_staff(request):
            return MessageReport.objects.none()
        return selectors.report_queue_for_back_office()

    def get_ordering(self, request):
        return list(selectors.REPORT_QUEUE_ORDER)

    def has_moderate_permission(self, request):
        return is_platform_staff(request)

    # --- what the list and the page show ---

    @admin.display(description="reason")
    def short_reason(self, report):
        return _excerpt(report.reason)

    @admin.display(description="message")
    def reported_message(self, report):
        message = report.message
        state = "[hidden] " if message.is_hidden else "[deleted] " if message.is_deleted else ""
        return f"{state}{_excerpt(message.body)}"

    @admin.display(description="sender")
    def sender(self, report):
        message = report.message
        return f"{message.sender_name} ({report.thread.party_name(message.sender_organization_id)})"

    @admin.display(description="thread")
    def thread_link(self, report):
        url = reverse("admin:chat_thread_change", args=[report.thread_id])
        return format_html('<a href="{}?until={}">{}</a>', url, report.message.seq, report.thread.title)

    @admin.display(description="reports of the message")
    def reports(self, report):
        return report.message.report_count

    @admin.display(description="reported by")
    def reported_by(self, report):
        return f"{report.reporter or 'a former user'} ({report.thread.party_name(report.reporter_organization_id)})"

    @admin.display(description="sent")
    def message_sent(self, report):
        message = report.message
        edited = f", edited at {message.edited_at:%Y-%m-%d %H:%M} UTC" if message.edited_at else ""
        return f"#{message.seq} by {self.sender(report)} at {message.created_at:%Y-%m-%d %H:%M} UTC{edited}"

    @admin.display(description="state")
    def message_state(self, report):
        message = report.message
        if message.is_hidden:
            return f"Hidden at {message.hidden_at:%Y-%m-%d %H:%M} UTC: {message.hidden_reason}"
        if message.is_deleted:
            return f"Deleted by its sender at {message.deleted_at:%Y-%m-%d %H:%M} UTC"
        return "Shown"

    @admin.display(description="text")
    def message_text(self, report):
        return linebreaksbr(report.message.body, autoescape=True)

    @admin.display(description="text as written (moderation changed it)")
    def original_text(self, report):
        return linebreaksbr(report.message.original_body, autoescape=True) if report.message.original_body else "-"

    # --- actions ---

    @admin.action(description="Hide the message", permissions=["moderate"])
    def hide_message(self, request, queryset):
        reason = self._ask_reason(request, queryset)
        if not isinstance(reason, str):
            return reason
        actor = Actor.staff(request.user.id)
        # One call per message (its open reports close with it), in message-id order: two staff
        # hiding overlapping selections lock the messages in one order.
        first_report_of = {}
        for report in queryset.order_by("message_id", "created_at"):
            first_report_of.setdefault(report.message_id, report)
        for message_id, report in first_report_of.items():
            try:
                services.message_hide(actor=actor, message_id=message_id, reason=reason)
            except DomainError as error:
                self.message_user(request, f"{_message_label(report)}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"{_message_label(report)} hidden; its open reports are closed.", messages.SUCCESS
                )
        return None

    @admin.action(description="Dismiss the selected reports", permissions=["moderate"])
    def dismiss(self, request, queryset):
        actor = Actor.staff(request.user.id)
        for report in queryset.order_by("pk"):
            label = _message_label(report, lead="The report of message")
            try:
                services.report_dismiss(actor=actor, report_id=report.pk)
            except DomainError as error:
                self.message_user(request, f"{label}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{label} dismissed; the message stays as it is.", messages.SUCCESS)

    def _ask_reason(self, request, queryset):
        """The reason given on the confirmation page, or that page (shown again while the reason is missing)."""
        confirmed = "apply" in request.POST
        form = HideReasonForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            return form.cleaned_data["reason"]
        rows = [
            {"pk": report.pk, "label": _message_label(report), "detail": f": {_excerpt(report.message.body)}"}
            for report in queryset.order_by("message__seq")
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Hide the reported messages",
            "opts": self.model._meta,
            "rows": rows,
            "form": form,
            "action": "hide_message",
            "button": "Hide them",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)
