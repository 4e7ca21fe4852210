"""Reads of chat: threads with the caller's unread count, a thread's history, who is in it."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from apps.chat.models import (
    Message,
    MessageAttachment,
    MessageReport,
    MessageVersion,
    ReportStatus,
    Thread,
    ThreadParticipant,
)
from apps.chat.presence import online_user_ids
from apps.core.actors import Actor
from apps.core.context import current_user_id
from apps.core.errors import NotFound
from apps.tenancy.roles import Grant, actor_grant


def own_user_id(actor: Actor) -> UUID | None:
    """With an `:own` chat grant (a customer, a buyer), the user's id: they see only the threads
    they take part in or whose subject is theirs; None with a full grant."""
    return actor.user_id if actor_grant(actor, "chat:read") is Grant.OWN else None


def _own_threads(queryset: QuerySet[Thread], user_id: UUID) -> QuerySet[Thread]:
    takes_part = ThreadParticipant.objects.filter(thread=OuterRef("pk"), user_id=user_id)
    return queryset.filter(Q(customer_id=user_id) | Exists(takes_part))


def thread_list(*, organization_id: UUID, user_id: UUID, own_user: UUID | None = None) -> QuerySet[Thread]:
    """The organization's threads, most recently active first, each with the user's
    `unread_count` and `last_read_seq` computed in the same query (one subquery on the
    participant's unique (thread, user) index per row of the page, no query per thread)."""
    read_up_to = ThreadParticipant.objects.filter(thread=OuterRef("pk"), user_id=user_id).values("last_read_seq")[:1]
    queryset = (
        Thread.objects.visible_to(organization_id)
        .annotate(my_last_read_seq=Coalesce(Subquery(read_up_to, output_field=IntegerField()), Value(0)))
        .annotate(unread_count=F("last_seq") - F("my_last_read_seq"))
        .order_by("-last_activity_at", "-id")
    )
    if own_user is not None:
        queryset = _own_threads(queryset, own_user)
    return queryset


def thread_for_actor(*, actor: Actor, thread_id: UUID, for_update: bool = False) -> Thread:
    """The thread, when the actor's organization is a party (and, with an `:own` grant, the
    actor takes part or it is about their subject); NotFound otherwise, the same answer as
    for a thread that does not exist."""
    queryset = Thread.objects.visible_to(actor.organization_id).filter(pk=thread_id)
    own_user = own_user_id(actor)
    if own_user is not None:
        queryset = _own_threads(queryset, own_user)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    thread = queryset.first()
    if thread is None:
        raise NotFound("Thread not found.")
    return thread


def thread_detail(*, actor: Actor, thread_id: UUID) -> Thread:
    """The thread with its participants (read receipts) and the caller's unread count."""
    thread = (
        thread_list(organization_id=actor.organization_id, user_id=actor.user_id, own_user=own_user_id(actor))
        .filter(pk=thread_id)
        .prefetch_related(Prefetch("participants", queryset=ThreadParticipant.objects.order_by("joined_at", "id")))
        .first()
    )
    if thread is None:
        raise NotFound("Thread not found.")
    return thread


def message_history(*, thread: Thread) -> QuerySet[Message]:
    """The thread's messages, newest first (by seq), with their attachments."""
    return (
        Message.objects.filter(thread=thread)
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("created_at", "id")))
        .order_by("-seq")
    )


def message_for_actor(*, actor: Actor, message_id: UUID, for_update: bool = False) -> Message:
    """A message of a thread the actor may see; NotFound otherwise."""
    queryset = Message.objects.visible_to(actor.organization_id).filter(pk=message_id)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    message = queryset.select_related("thread").first()
    if message is None:
        raise NotFound("Message not found.")
    thread_for_actor(actor=actor, thread_id=message.thread_id)
    return message


def message_with_attachments(*, message_id: UUID) -> Message:
    """The message as the API shows it (attachments prefetched), in the caller's scope."""
    return (
        Message.objects.filter(pk=message_id)
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("created_at", "id")))
        .get()
    )


def attachment_for_download(*, attachment_id: UUID) -> MessageAttachment:
    """An attachment of a sent message still shown (not deleted or hidden), in the scope the
    signed link names; NotFound otherwise."""
    attachment = MessageAttachment.objects.filter(
        pk=attachment_id, message__isnull=False, message__deleted_at__isnull=True, message__hidden_at__isnull=True
    ).first()
    if attachment is None:
        raise NotFound("Attachment not found.")
    return attachment


def message_in_thread(*, organization_id: UUID, thread_id: UUID, message_id: UUID) -> bool:
    return Message.objects.visible_to(organization_id).filter(thread_id=thread_id, pk=message_id).exists()


def thread_participant_ids(*, organization_id: UUID, thread_id: UUID) -> list[UUID]:
    return list(
        ThreadParticipant.objects.visible_to(organization_id)
        .filter(thread_id=thread_id)
        .order_by("joined_at", "id")
        .values_list("user_id", flat=True)
    )


def thread_offline_participant_ids(*, organization_id: UUID, thread_id: UUID) -> list[UUID]:
    """The organization's participants of the thread with no live socket in it now (for the
    notifications of messages they would otherwise miss)."""
    online = online_user_ids(thread_id)
    return [
        user_id
        for user_id in thread_participant_ids(organization_id=organization_id, thread_id=thread_id)
        if str(user_id) not in online
    ]


def _thread_uuid(resource_id: str) -> UUID | None:
    """The thread id of a group name in its canonical form only: `thread.<ID>` in capitals would
    be a group no push ever reaches (they are sent to `thread.<canonical id>`)."""
    try:
        thread_id = UUID(resource_id)
    except (ValueError, TypeError):
        return None
    return thread_id if str(thread_id) == resource_id else None


def thread_may_listen(organization_id: UUID, resource_id: str) -> bool:
    """The live feed's authorizer of `thread.<id>`: a party of the thread, with chat switched on,
    whose user may read chat; with an `:own` grant, only a thread the user takes part in or whose
    subject is theirs.
    Runs in the socket's scope (its user and organization)."""
    from apps.tenancy.selectors import active_memberships_of, feature_is_active

    thread_id = _thread_uuid(resource_id)
    user_id = current_user_id()
    if thread_id is None or user_id is None or not feature_is_active(organization_id=organization_id, name="chat"):
        return False
    membership = next((m for m in active_memberships_of(user_id=user_id) if m.organization_id == organization_id), None)
    if membership is None:
        return False
    actor = Actor.of(membership, user_id=user_id)
    if actor_grant(actor, "chat:read") is Grant.NONE:
        return False
    try:
        thread_for_actor(actor=actor, thread_id=thread_id)
    except NotFound:
        return False
    return True


def report_queue() -> QuerySet[MessageReport]:
    """Open reports, oldest first, with their message: the back-office queue (staff scope)."""
    return (
        MessageReport.objects.filter(status=ReportStatus.OPEN)
        .select_related("message", "thread")
        .order_by("created_at")
    )


# --- back-office ---
# Reads of the back-office pages (apps/chat/admin.py, apps/chat/admin_reports.py), run in the
# scope of the request: platform staff in the audited all-tenants scope, an organization admin
# in their organization's.

# Open reports first, then oldest first: what the queue works through next is on top.
REPORT_QUEUE_ORDER = ("queue_rank", "created_at", "id")


def report_queue_for_back_office() -> QuerySet[MessageReport]:
    """Every report, open ones first, then oldest first, with the message and thread the queue
    shows joined in the same query (`queue_rank` 0 for an open report, 1 for a decided one)."""
    open_first = Case(When(status=ReportStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        MessageReport.objects.annotate(queue_rank=open_first)
        .select_related("message", "thread", "reporter")
        .order_by(*REPORT_QUEUE_ORDER)
    )


def thread_messages_between(*, thread_id: UUID, first_seq: int, last_seq: int, for_staff: bool) -> list[Message]:
    """The thread's messages numbered first_seq..last_seq, oldest first (one walk of the
    (thread, seq) index), with their attachments; for staff also their earlier versions and
    who hid or deleted them (two queries, three for staff, whatever the window's size)."""
    queryset = (
        Message.objects.filter(thread_id=thread_id, seq__gte=first_seq, seq__lte=last_seq)
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("created_at", "id")))
        .order_by("seq")
    )
    if for_staff:
        queryset = queryset.select_related("hidden_by", "deleted_by").prefetch_related(
            Prefetch("versions", queryset=MessageVersion.objects.order_by("replaced_at", "id"))
        )
    return list(queryset)


# --- Disputes: messages about a subject as evidence and on a case's timeline -----------------

MESSAGE_EXCERPT_CHARACTERS = 500


def _about_subjects(subjects: list[tuple[str, UUID]]) -> Q:
    condition = Q(pk__in=[])
    for kind, subject_id in subjects:
        condition |= Q(thread__kind=kind, thread__subject_id=subject_id)
    return condition


def message_of_subject(
    *, organization_id: UUID | None, message_id: UUID, subjects: list[tuple[str, UUID]]
) -> dict | None:
    """What a message of a thread about one of `subjects` ((kind, id) pairs, e.g. the order and
    its dispute) said, as a plain summary; None when it is in no such thread, was deleted or
    hidden by moderation, or the organization does not see it. `organization_id` None:
    platform staff (their scope decides). One query."""
    messages = Message.objects.filter(_about_subjects(subjects), pk=message_id, deleted_at__isnull=True)
    messages = messages.filter(hidden_at__isnull=True)
    if organization_id is not None:
        messages = messages.visible_to(organization_id)
    message = messages.select_related("thread").first()
    if message is None:
        return None
    return {
        "thread_id": str(message.thread_id),
        "thread_title": message.thread.title,
        "seq": message.seq,
        "sender_organization_id": str(message.sender_organization_id),
        "sender_organization_name": message.thread.party_name(message.sender_organization_id),
        "sender_name": message.sender_name,
        "body_excerpt": message.body[:MESSAGE_EXCERPT_CHARACTERS],
        "truncated": len(message.body) > MESSAGE_EXCERPT_CHARACTERS,
        "sent_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
    }


def messages_of_subject(*, organization_id: UUID | None, kind: str, subject_id: UUID) -> list[dict]:
    """Every message of the threads about one subject, oldest first, as plain rows. A deleted
    or hidden message keeps its place but not its text (`body` None, `state` says why).
    `organization_id` None: platform staff (their scope decides). One query."""
    messages = Message.objects.filter(thread__kind=kind, thread__subject_id=subject_id)
    if organization_id is not None:
        messages = messages.visible_to(organization_id)
    rows = messages.order_by("created_at", "thread_id", "seq").values(
        "id",
        "thread_id",
        "seq",
        "sender_id",
        "sender_organization_id",
        "sender_name",
        "body",
        "created_at",
        "edited_at",
        "deleted_at",
        "hidden_at",
    )
    shown = []
    for row in rows:
        state = "deleted" if row["deleted_at"] else "hidden" if row["hidden_at"] else "shown"
        shown.append({**row, "state": state, "body": row["body"] if state == "shown" else None})
    return shown
