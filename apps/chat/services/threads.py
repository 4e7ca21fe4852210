"""Opening threads, who takes part in them, and how far each participant has read."""

from __future__ import annotations

import logging
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.chat import live
from apps.chat.events import MessageRead
from apps.chat.models import Message, Thread, ThreadKind, ThreadParticipant
from apps.chat.selectors import thread_for_actor
from apps.chat.subjects import subject_parties
from apps.core.actors import Actor
from apps.core.errors import NotFound
from apps.core.services import outbox_publish
from apps.tenancy.roles import Grant, actor_grant
from apps.tenancy.selectors import organization_names

logger = logging.getLogger(__name__)


def display_name_of(user_id: UUID | None) -> str:
    """How a participant is shown to the other side: their name, else their e-mail's local part."""
    if user_id is None:
        return ""
    row = get_user_model().objects.filter(pk=user_id).values("first_name", "last_name", "email").first()
    if row is None:
        return ""
    return f"{row['first_name']} {row['last_name']}".strip() or row["email"].split("@")[0]


def party_columns(thread: Thread) -> dict:
    """The party columns every row under a thread copies from it (its row-level security)."""
    return {
        "party_a_organization_id": thread.party_a_organization_id,
        "party_b_organization_id": thread.party_b_organization_id,
    }


@transaction.atomic
def thread_open(
    *, actor: Actor, kind: str, subject_id: UUID | None = None, counterparty_id: UUID | None = None
) -> tuple[Thread, bool]:
    """The thread about the subject between the actor's organization and the other party,
    opened now if there is none yet; (thread, created). The actor becomes a participant.

    Raises NotFound when the subject is not the actor's to talk about (another tenant's order,
    a carrier that has not offered), ValidationFailed for a kind no context serves yet."""
    parties = subject_parties(kind=kind, actor=actor, subject_id=subject_id, counterparty_id=counterparty_id)
    existing = _thread_between(
        kind=kind, subject_id=subject_id, party_a_id=parties.party_a_id, party_b_id=parties.party_b_id
    )
    created = False
    if existing is None:
        names = {parties.party_a_id: parties.party_a_name, parties.party_b_id: parties.party_b_name}
        if not all(names.values()):
            names.update({key: value for key, value in organization_names(organization_ids=names).items() if value})
        title = parties.title or f"{names[parties.party_a_id]} and {names[parties.party_b_id]}"
        now = timezone.now()
        try:
            # A savepoint: a concurrent opening of the same thread wins the unique constraint,
            # and this call then returns that thread instead of failing.
            with transaction.atomic():
                existing = Thread.objects.create(
                    kind=kind,
                    subject_id=subject_id if kind != ThreadKind.DIRECT else None,
                    title=title[:300],
                    party_a_organization_id=parties.party_a_id,
                    party_b_organization_id=parties.party_b_id,
                    party_a_name=names[parties.party_a_id][:200],
                    party_b_name=names[parties.party_b_id][:200],
                    customer_id=parties.customer_id,
                    created_by_id=actor.user_id,
                    last_activity_at=now,
                )
            created = True
            logger.info("chat.thread_opened", extra={"thread_id": str(existing.id), "kind": kind})
        except IntegrityError:
            existing = _thread_between(
                kind=kind, subject_id=subject_id, party_a_id=parties.party_a_id, party_b_id=parties.party_b_id
            )
            if existing is None:
                raise
    participant_join(thread=existing, actor=actor)
    return existing, created


def _thread_between(*, kind: str, subject_id: UUID | None, party_a_id: UUID, party_b_id: UUID) -> Thread | None:
    threads = Thread.objects.filter(kind=kind, party_a_organization_id=party_a_id, party_b_organization_id=party_b_id)
    if kind == ThreadKind.DIRECT:
        return threads.first()
    return threads.filter(subject_id=subject_id).first()


def participant_join(*, thread: Thread, actor: Actor, read_up_to: int | None = None) -> ThreadParticipant | None:
    """Make the acting user a participant of the thread (idempotent); with `read_up_to`, move
    their read marker there too (never back). Staff and the system take no part."""
    if actor.user_id is None or actor.organization_id is None or actor.is_staff:
        return None
    participant, created = ThreadParticipant.objects.get_or_create(
        thread=thread,
        user_id=actor.user_id,
        defaults={
            **party_columns(thread),
            "organization_id": actor.organization_id,
            "display_name": display_name_of(actor.user_id)[:200],
            "last_read_seq": read_up_to or 0,
            "last_read_at": timezone.now() if read_up_to else None,
        },
    )
    if not created and read_up_to is not None and read_up_to > participant.last_read_seq:
        participant.last_read_seq = read_up_to
        participant.last_read_at = timezone.now()
        participant.save(update_fields=["last_read_seq", "last_read_at"])
    return participant


@transaction.atomic
def participant_add(*, actor: Actor, thread_id: UUID, user_id: UUID) -> ThreadParticipant:
    """Add a colleague (an active member of the actor's organization whose role reads chat) to
    the thread, speaking for the actor's side; idempotent. NotFound for anyone else, the same
    answer whether the user does not exist or belongs to another organization."""
    from apps.tenancy.selectors import member_list

    thread = thread_for_actor(actor=actor, thread_id=thread_id)
    membership = member_list(organization_id=actor.organization_id).filter(user_id=user_id, is_active=True).first()
    colleague = Actor.of(membership, user_id=user_id) if membership is not None else None
    if colleague is None or actor_grant(colleague, "chat:read") is Grant.NONE:
        raise NotFound("No member of your organization with access to chat has that id.")
    participant, created = ThreadParticipant.objects.get_or_create(
        thread=thread,
        user_id=user_id,
        defaults={
            **party_columns(thread),
            "organization_id": actor.organization_id,
            "display_name": display_name_of(user_id)[:200],
            "added_by_id": actor.user_id,
        },
    )
    if created:
        logger.info("chat.participant_added", extra={"thread_id": str(thread.id), "user_id": str(user_id)})
    return participant


@transaction.atomic
def thread_read(*, actor: Actor, thread_id: UUID, message_id: UUID | None = None) -> ThreadParticipant | None:
    """Mark the thread read up to the message, or up to its newest without one (a read
    receipt); a marker never moves back. None for staff, who take no part.

    When it moves, the thread's sockets get `message.read` and the outbox `chat.message_read`."""
    thread = thread_for_actor(actor=actor, thread_id=thread_id)
    messages = Message.objects.filter(thread=thread).only("id", "seq")
    message = messages.filter(pk=message_id).first() if message_id else messages.order_by("-seq").first()
    if message is None:
        if message_id is None:  # nothing to read yet
            return participant_join(thread=thread, actor=actor)
        raise NotFound("Message not found.")
    participant = ThreadParticipant.objects.select_for_update().filter(thread=thread, user_id=actor.user_id).first()
    before = participant.last_read_seq if participant is not None else 0
    participant = participant_join(thread=thread, actor=actor, read_up_to=message.seq)
    if participant is None or participant.last_read_seq <= before:
        return participant
    outbox_publish(
        MessageRead(
            organization_id=actor.organization_id,
            thread_id=str(thread.id),
            thread_kind=thread.kind,
            subject_id=str(thread.subject_id or ""),
            party_organization_ids=[str(thread.party_a_organization_id), str(thread.party_b_organization_id)],
            message_id=str(message.id),
            seq=message.seq,
            reader_id=str(actor.user_id),
            reader_organization_id=str(actor.organization_id),
        )
    )
    live.thread_push_on_commit(
        thread.id,
        {
            "type": "message.read",
            "thread_id": str(thread.id),
            "user_id": str(actor.user_id),
            "message_id": str(message.id),
            "seq": message.seq,
            "read_at": participant.last_read_at.isoformat(),
        },
    )
    return participant
