"""Chat in the back-office: threads here, the queue of reported messages in admin_reports.

Platform staff see every thread (their admin requests run in the audited all-tenants scope) and,
on a thread's page, what moderation and the parties changed: the text as written where
moderation masked it, earlier versions, deleted and hidden messages with who did it and why.
Opening a thread's page also writes an audit row for each party: a conversation is the parties'
private record, and each of them finds in its own audit log that staff read it.

An organization admin sees the threads their organization is a party of, as the parties see
them through the API: deleted and hidden messages keep their place, not their content.

Nothing here is editable: the chat services are the only writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.contrib import admin
from django.db.models import Q

from apps.chat import (
    admin_reports,  # noqa: F401 - registers the queue of reported messages
    selectors,
)
from apps.chat.api.serializers import attachment_download_url
from apps.chat.models import Message, Thread
from apps.core.actors import Actor
from apps.core.admin import ReadOnlyAdminMixin
from apps.core.audit import audit_record
from apps.tenancy.admin_site import OrganizationScopedAdmin, admin_organization_id, is_platform_staff
from apps.tenancy.selectors import feature_is_active

# Messages on one page of a thread: a window of the (thread, seq) index, whatever the thread's length.
MESSAGES_PER_PAGE = 100


@dataclass(frozen=True)
class MessageRow:
    """One message as the thread's page shows it to whoever reads it. The fields after
    `attachments` are filled for platform staff only."""

    seq: int
    sent_at: datetime
    sender: str
    state: str  # "active", "deleted" (by its sender), "hidden" (by a moderator)
    text: str
    edited_at: datetime | None
    attachments: list[tuple[str, str | None]]  # (name and size, download link while it is shown)
    original_text: str = ""
    moderation: str = ""
    state_detail: str = ""
    report_count: int = 0
    versions: list[dict] = field(default_factory=list)


def _attachments(message: Message) -> list[tuple[str, str | None]]:
    # The download link serves only messages still shown; staff see the names of the others' files.
    shown = not (message.is_hidden or message.is_deleted)
    return [
        (f"{a.filename} ({a.size:,} bytes)", attachment_download_url(a) if shown else None)
        for a in message.attachments.all()
    ]


def _party_row(thread: Thread, message: Message) -> MessageRow:
    """What the parties see (apps/chat/api/serializers.py MessageOutput): no content once deleted or hidden."""
    state = "hidden" if message.is_hidden else "deleted" if message.is_deleted else "active"
    return MessageRow(
        seq=message.seq,
        sent_at=message.created_at,
        sender=f"{message.sender_name} ({thread.party_name(message.sender_organization_id)})",
        state=state,
        text=message.body if state == "active" else "",
        edited_at=message.edited_at,
        attachments=_attachments(message) if state == "active" else [],
    )


def _staff_row(thread: Thread, message: Message) -> MessageRow:
    """Everything kept: the text whatever its state, the original, the versions, who did what and why."""
    details = []
    if message.is_deleted:
        details.append(f"Deleted by {message.deleted_by or 'its sender'} at {message.deleted_at:%Y-%m-%d %H:%M} UTC.")
    if message.is_hidden:
        details.append(
            f"Hidden by {message.hidden_by or 'a moderator'} at {message.hidden_at:%Y-%m-%d %H:%M} UTC: "
            f"{message.hidden_reason}"
        )
    if message.purged_at is not None:
        details.append(f"Content erased after the retention period, at {message.purged_at:%Y-%m-%d %H:%M} UTC.")
    party_view = _party_row(thread, message)
    return MessageRow(
        seq=message.seq,
        sent_at=message.created_at,
        sender=party_view.sender,
        state=party_view.state,
        text=message.body,
        edited_at=message.edited_at,
        attachments=_attachments(message),
        original_text=message.original_body,
        moderation=", ".join(message.moderation_findings or ()),
        state_detail=" ".join(details),
        report_count=message.report_count,
        versions=[
            {
                "written_at": version.written_at,
                "replaced_at": version.replaced_at,
                "text": version.body,
                "original_text": version.original_body,
            }
            for version in message.versions.all()
        ],
    )


def _requested_last_seq(request, thread: Thread) -> int:
    """The newest message of the page asked for (`?until=<seq>`), the thread's newest by default."""
    try:
        until = int(request.GET.get("until", thread.last_seq))
    except ValueError:
        until = thread.last_seq
    return max(min(until, thread.last_seq), min(MESSAGES_PER_PAGE, thread.last_seq))


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    """Every thread for staff; the organization's threads (either party) for its admin. Read-only."""

    org_admin_actions = frozenset({"view"})
    change_form_template = "admin/chat/thread/change_form.html"
    list_display = ["title", "kind", "party_a_name", "party_b_name", "message_count", "last_activity_at"]
    list_filter = ["kind"]
    search_fields = ["title", "party_a_name", "party_b_name"]
    show_full_result_count = False
    # The organizations are named by the names kept on the thread: row-level security hides the
    # other party's organization row from an organization admin.
    fieldsets = [
        (None, {"fields": ["title", ("kind", "subject_id"), ("party_a_name", "party_b_name")]}),
        ("Activity", {"fields": [("created_at", "last_activity_at"), "last_seq"]}),
        (
            "Staff only",
            {"fields": [("party_a_organization", "party_b_organization"), ("created_by", "customer")]},
        ),
    ]
    STAFF_ONLY_SECTIONS = frozenset({"Staff only"})

    @admin.display(description="messages", ordering="last_seq")
    def message_count(self, thread):
        return thread.last_seq

    def _chat_switched_on(self, request) -> bool:
        # An organization that switched chat off does not see it in the back-office either.
        return is_platform_staff(request) or feature_is_active(
            organization_id=admin_organization_id(request), name="chat"
        )

    def has_module_permission(self, request):
        return super().has_module_permission(request) and self._chat_switched_on(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._chat_switched_on(request)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if is_platform_staff(request):
            return fieldsets
        return [(name, options) for name, options in fieldsets if name not in self.STAFF_ONLY_SECTIONS]

    def get_search_results(self, request, queryset, search_term):
        """A thread's id or its subject's (an order, an RFQ offer, a dispute) finds the thread;
        other terms search the title and the parties' names."""
        try:
            named = UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(Q(pk=named) | Q(subject_id=named)), False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._conversation(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _conversation(self, request, thread: Thread) -> dict:
        """The page's participants and one window of messages, oldest first, with links to the
        windows before and after it."""
        for_staff = is_platform_staff(request)
        last_seq = _requested_last_seq(request, thread)
        first_seq = max(1, last_seq - MESSAGES_PER_PAGE + 1)
        messages = selectors.thread_messages_between(
            thread_id=thread.pk, first_seq=first_seq, last_seq=last_seq, for_staff=for_staff
        )
        make_row = _staff_row if for_staff else _party_row
        return {
            "for_staff": for_staff,
            "participants": [
                {"participant": participant, "party": thread.party_name(participant.organization_id)}
                for participant in thread.participants.order_by("joined_at", "id")
            ],
            "message_rows": [make_row(thread, message) for message in messages],
            "first_seq": first_seq if messages else 0,
            "last_seq": last_seq,
            "earlier_until": first_seq - 1 if first_seq > 1 else None,
            "later_until": min(last_seq + MESSAGES_PER_PAGE, thread.last_seq) if last_seq < thread.last_seq else None,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        thread = (getattr(response, "context_data", None) or {}).get("original")
        if thread is not None and is_platform_staff(request):
            self._audit_staff_read(request, thread, response.context_data)
        return response

    @staticmethod
    def _audit_staff_read(request, thread: Thread, context: dict) -> None:
        """One audit row per party: staff read its conversation (which messages, from where)."""
        actor = Actor.staff(request.user.id)
        shown = {"thread_id": str(thread.pk), "first_seq": context["first_seq"], "last_seq": context["last_seq"]}
        for organization_id in dict.fromkeys([thread.party_a_organization_id, thread.party_b_organization_id]):
            audit_record(
                action="chat.thread_viewed_by_staff",
                resource_type="chat_thread",
                resource_id=thread.pk,
                new_values=shown,
                organization_id=organization_id,
                actor=actor,
            )
