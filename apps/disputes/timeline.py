"""A dispute's timeline: one list, oldest first, of everything that happened to the case.

Merged from the case's own rows (its history, evidence and resolutions, and its response
deadline fields) and from what other contexts hold about it, read through their selectors: the
messages of the case's chat thread (chat) and the escrow's money moves during the case (escrow).

Each entry is `{"at", "type", "actor_side", "summary", "data"}`: `actor_side` is client,
supplier, staff, system, or None when the rows do not say who; `summary` a sentence a person
reads; `data` the entry's facts (JSON-ready: strings for amounts and times).

A constant number of queries whatever the number of entries: one per source (history,
evidence, resolutions, messages; the escrow's history and journal), none per entry.

The response deadline is stored only while it runs (`response_due_at` is cleared once the
answer comes): a deadline already answered shows who was asked and when, not until when.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import F
from django.utils import timezone

from apps.core.actors import Actor
from apps.disputes.models import (
    Dispute,
    DisputeEvidence,
    DisputeResolution,
    DisputeStatus,
    DisputeStatusChange,
    EvidenceKind,
    LinkedRecord,
    ReasonCategory,
    ResolutionKind,
    ResolutionOutcome,
    Side,
)
from apps.disputes.selectors import dispute_for_actor

STAFF, SYSTEM = "staff", "system"
WAITING = (DisputeStatus.CREATED, DisputeStatus.AWAITING_RESPONSE)
EXCERPT_CHARACTERS = 280


class EntryType:
    DISPUTE_OPENED = "dispute_opened"
    STATUS_CHANGED = "status_changed"
    RESPONSE_DUE_SET = "response_due_set"
    RESPONSE_REMINDED = "response_reminded"
    RESPONSE_OVERDUE = "response_overdue"
    EVIDENCE_ADDED = "evidence_added"
    MESSAGE_POSTED = "message_posted"
    RESOLUTION_PROPOSED = "resolution_proposed"
    RESOLUTION_DECIDED = "resolution_decided"
    RESOLUTION_ANSWERED = "resolution_answered"
    ESCROW_FROZEN = "escrow_frozen"
    ESCROW_RELEASED = "escrow_released"
    ESCROW_REFUNDED = "escrow_refunded"
    ESCROW_REFUND_FAILED = "escrow_refund_failed"
    ESCROW_UNFROZEN = "escrow_unfrozen"

    ALL = (
        DISPUTE_OPENED,
        STATUS_CHANGED,
        RESPONSE_DUE_SET,
        RESPONSE_REMINDED,
        RESPONSE_OVERDUE,
        EVIDENCE_ADDED,
        MESSAGE_POSTED,
        RESOLUTION_PROPOSED,
        RESOLUTION_DECIDED,
        RESOLUTION_ANSWERED,
        ESCROW_FROZEN,
        ESCROW_RELEASED,
        ESCROW_REFUNDED,
        ESCROW_REFUND_FAILED,
        ESCROW_UNFROZEN,
    )


ACTOR_SIDES = (Side.CLIENT.value, Side.SUPPLIER.value, STAFF, SYSTEM)


def dispute_timeline_for_actor(*, actor: Actor, dispute_id: UUID) -> list[dict]:
    """The timeline of a case the actor may read (NotFound otherwise, as for the case itself).
    Its chat messages only for a member whose role reads chat (and for staff)."""
    from apps.tenancy.roles import Grant, actor_grant

    dispute = dispute_for_actor(actor=actor, dispute_id=dispute_id)
    return dispute_timeline(
        dispute=dispute,
        organization_id=None if actor.is_staff else actor.organization_id,
        with_messages=actor.is_staff or actor_grant(actor, "chat:read") is not Grant.NONE,
    )


def dispute_timeline(*, dispute: Dispute, organization_id: UUID | None, with_messages: bool = True) -> list[dict]:
    """Everything that happened to the case, oldest first, as the organization sees it
    (`organization_id` None: platform staff in the all-tenants scope)."""
    from apps.chat.selectors import messages_of_subject
    from apps.escrow.selectors import escrow_dispute_moves

    history = list(
        DisputeStatusChange.objects.filter(dispute_id=dispute.id)
        .annotate(by_is_staff=F("by__is_staff"))
        .order_by("at", "id")
    )
    evidence = list(DisputeEvidence.objects.filter(dispute_id=dispute.id).order_by("created_at", "id"))
    resolutions = list(
        DisputeResolution.objects.filter(dispute_id=dispute.id)
        .annotate(decided_by_is_staff=F("decided_by__is_staff"))
        .order_by("created_at", "id")
    )
    messages = (
        messages_of_subject(organization_id=organization_id, kind="dispute", subject_id=dispute.id)
        if with_messages
        else []
    )
    money = (
        escrow_dispute_moves(organization_id=organization_id, escrow_id=dispute.escrow_id, since=dispute.created_at)
        if dispute.escrow_id
        else []
    )
    people = _Sides(dispute)
    people.learn(history=history, evidence=evidence, resolutions=resolutions, messages=messages, money=money)
    entries = [
        *_history_entries(dispute, history, people),
        *_deadline_entries(dispute, history, people),
        *_evidence_entries(evidence, people),
        *_message_entries(messages, people),
        *_resolution_entries(resolutions, people),
        *_money_entries(dispute, money, people),
    ]
    # Stable: entries of one moment keep the order of the sources above, except that a deadline
    # that passed comes before the move to mediation it caused (both are stamped with the move).
    entries.sort(key=lambda entry: (entry["at"], entry["type"] != EntryType.RESPONSE_OVERDUE))
    for entry in entries:
        entry["at"] = entry["at"].isoformat()
    return entries


class _Sides:
    """Which side a user acted for, learnt from the case's own rows (no query): the opener, who
    added each piece of evidence, who sent each message; staff from the user row."""

    def __init__(self, dispute: Dispute):
        self.dispute = dispute
        self.of_user: dict = {}
        if dispute.opened_by_id:
            self.of_user[dispute.opened_by_id] = dispute.opened_by_side

    def learn(self, *, history, evidence, resolutions, messages, money) -> None:
        for change in history:
            if change.by_id and change.by_is_staff:
                self.of_user[change.by_id] = STAFF
        for move in money:
            if move["by_id"] and move["by_is_staff"]:
                self.of_user[move["by_id"]] = STAFF
        for resolution in resolutions:
            if resolution.decided_by_id and resolution.decided_by_is_staff:
                self.of_user[resolution.decided_by_id] = STAFF
        for item in evidence:
            if item.added_by_id:
                self.of_user.setdefault(item.added_by_id, item.added_by_side)
        for message in messages:
            if message["sender_id"]:
                self.of_user.setdefault(message["sender_id"], self.of_organization(message["sender_organization_id"]))

    def of_organization(self, organization_id) -> str:
        return self.dispute.side_of(organization_id) or STAFF

    def of(self, user_id) -> str | None:
        return SYSTEM if user_id is None else self.of_user.get(user_id)

    def name(self, side: str | None) -> str:
        if side == Side.CLIENT:
            return f"{self.dispute.client_organization_name} (client)"
        if side == Side.SUPPLIER:
            return f"{self.dispute.supplier_organization_name} (supplier)"
        return {STAFF: "Platform staff", SYSTEM: "The platform"}.get(side, "Someone")


def _entry(at: datetime, type_: str, actor_side: str | None, summary: str, **data) -> dict:
    return {"at": at, "type": type_, "actor_side": actor_side, "summary": summary, "data": _json_ready(data)}


def _json_ready(value):
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARACTERS else text[: EXCERPT_CHARACTERS - 1].rstrip() + "…"


def _status_label(status: str) -> str:
    return DisputeStatus(status).label.lower() if status in DisputeStatus.values else status


def _other(side: str) -> str:
    return Side.SUPPLIER if side == Side.CLIENT else Side.CLIENT


# --- history ------------------------------------------------------------------------------------


def _history_entries(dispute: Dispute, history, people: _Sides) -> list[dict]:
    entries = []
    for change in history:
        facts = {"from_status": change.from_status, "to_status": change.to_status, "reason": change.reason}
        if not change.from_status:
            side = dispute.opened_by_side
            reason = ReasonCategory(dispute.reason_category).label.lower()
            entries.append(
                _entry(
                    change.at,
                    EntryType.DISPUTE_OPENED,
                    side,
                    f"{people.name(side)} opened dispute {dispute.number} about order {dispute.order_number}: "
                    f"{reason}.",
                    **facts,
                    reason_category=dispute.reason_category,
                    amount_claimed=dispute.amount_claimed,
                    currency=dispute.currency,
                    outcome_requested=dispute.outcome_requested,
                )
            )
            continue
        side = people.of(change.by_id)
        if side is None and change.to_status == DisputeStatus.WITHDRAWN:
            side = dispute.opened_by_side  # only the opener withdraws
        because = f": {change.reason}" if change.reason else "."
        entries.append(
            _entry(
                change.at,
                EntryType.STATUS_CHANGED,
                side,
                f"{people.name(side)} moved the case from {_status_label(change.from_status)} to "
                f"{_status_label(change.to_status)}{because}",
                **facts,
            )
        )
    return entries


# --- deadlines ----------------------------------------------------------------------------------


def _deadline_entries(dispute: Dispute, history, people: _Sides) -> list[dict]:
    """When an answer was asked for (and, while it runs, by when), the reminder, and a deadline
    that passed: the deadline job's move to mediation, or the running deadline already past."""
    waiting_rows = [change for change in history if change.to_status in WAITING]
    current = (
        waiting_rows[-1] if waiting_rows and dispute.status in WAITING and history[-1] is waiting_rows[-1] else None
    )

    def awaited_side(change) -> str | None:
        if change is current:
            return dispute.response_side or None
        if change.to_status == DisputeStatus.CREATED:
            return _other(dispute.opened_by_side)
        return None  # a later request for information, answered: the side is not kept

    entries = []
    for change in waiting_rows:
        side = awaited_side(change)
        due_at = dispute.response_due_at if change is current else None
        until = f" by {due_at:%Y-%m-%d %H:%M} UTC" if due_at else ""
        asked = people.name(side) if side else "A party"
        entries.append(
            _entry(
                change.at,
                EntryType.RESPONSE_DUE_SET,
                STAFF if change.to_status == DisputeStatus.AWAITING_RESPONSE else SYSTEM,
                f"{asked} is to answer{until}.",
                side=side,
                due_at=due_at,
            )
        )
    if dispute.response_reminded_at is not None:
        period = next((c for c in reversed(waiting_rows) if c.at <= dispute.response_reminded_at), None)
        side = awaited_side(period) if period is not None else None
        entries.append(
            _entry(
                dispute.response_reminded_at,
                EntryType.RESPONSE_REMINDED,
                SYSTEM,
                f"{people.name(side) if side else 'The awaited side'} was reminded that an answer is due.",
                side=side,
            )
        )
    previous = None
    for change in history:
        escalated = (
            change.by_id is None
            and change.to_status == DisputeStatus.IN_MEDIATION
            and change.from_status in WAITING
            and previous is not None
        )
        if escalated:
            side = awaited_side(previous)
            entries.append(
                _entry(
                    change.at,
                    EntryType.RESPONSE_OVERDUE,
                    SYSTEM,
                    f"No answer from {people.name(side) if side else 'the awaited side'} in time: "
                    "the case went to mediation.",
                    side=side,
                    escalated=True,
                    reason=change.reason,
                )
            )
        if change.to_status in WAITING:
            previous = change
    if current is not None and dispute.response_due_at and dispute.response_due_at <= timezone.now():
        side = dispute.response_side or None
        entries.append(
            _entry(
                dispute.response_due_at,
                EntryType.RESPONSE_OVERDUE,
                SYSTEM,
                f"The deadline for {people.name(side) if side else 'the awaited side'} to answer has passed.",
                side=side,
                escalated=False,
                due_at=dispute.response_due_at,
            )
        )
    return entries


# --- evidence -----------------------------------------------------------------------------------


def _linked_record(item: DisputeEvidence) -> str:
    summary = item.linked_summary or {}
    if item.linked_type == LinkedRecord.TRACKING_EVENT:
        where = summary.get("address") or summary.get("occurred_at", "")
        return f"tracking event {summary.get('event_label', '').lower()} ({where})"
    if item.linked_type == LinkedRecord.DOCUMENT:
        signed = ", signed" if summary.get("signed") else ""
        return f"{summary.get('document_label', 'document')} {summary.get('number', '')}{signed}".strip()
    if item.linked_type == LinkedRecord.CHAT_MESSAGE:
        return f"chat message of {summary.get('sender_organization_name') or 'a party'}"
    if item.linked_type == LinkedRecord.RETURN_PHOTO:
        return f"photo of a return ({summary.get('filename', '')})"
    return "record"


def _evidence_entries(evidence, people: _Sides) -> list[dict]:
    entries = []
    for item in evidence:
        who = people.name(item.added_by_side)
        if item.kind == EvidenceKind.LINK:
            summary = f"{who} linked a {_linked_record(item)}."
        elif item.kind == EvidenceKind.FILE:
            summary = f"{who} added a file: {item.filename}."
        else:
            summary = f"{who} added a statement: “{_excerpt(item.statement)}”"
        entries.append(
            _entry(
                item.created_at,
                EntryType.EVIDENCE_ADDED,
                item.added_by_side or None,
                summary,
                evidence_id=item.id,
                kind=item.kind,
                statement=_excerpt(item.statement),
                filename=item.filename,
                content_type=item.content_type,
                linked_type=item.linked_type,
                linked_id=item.linked_id,
                linked_summary=item.linked_summary,
            )
        )
    return entries


# --- chat ---------------------------------------------------------------------------------------


def _message_entries(messages: list[dict], people: _Sides) -> list[dict]:
    entries = []
    for message in messages:
        side = people.of_organization(message["sender_organization_id"])
        who = message["sender_name"] or people.name(side)
        if message["state"] == "deleted":
            summary = f"A message of {people.name(side)} was deleted."
        elif message["state"] == "hidden":
            summary = f"A message of {people.name(side)} was hidden by moderation."
        else:
            summary = f"{who} wrote: “{_excerpt(message['body'])}”"
        entries.append(
            _entry(
                message["created_at"],
                EntryType.MESSAGE_POSTED,
                side,
                summary,
                message_id=message["id"],
                thread_id=message["thread_id"],
                seq=message["seq"],
                sender_name=message["sender_name"],
                state=message["state"],
                body=message["body"],
                edited_at=message["edited_at"],
            )
        )
    return entries


# --- resolutions --------------------------------------------------------------------------------


def _resolution_entries(resolutions, people: _Sides) -> list[dict]:
    entries = []
    for resolution in resolutions:
        side = people.of(resolution.decided_by_id)
        outcome = ResolutionOutcome(resolution.outcome).label.lower()
        money = f"release {resolution.release_amount} and refund {resolution.refund_amount} {resolution.currency}"
        decided = resolution.kind == ResolutionKind.DECISION
        verb = "decided" if decided else "proposed"
        entries.append(
            _entry(
                resolution.created_at,
                EntryType.RESOLUTION_DECIDED if decided else EntryType.RESOLUTION_PROPOSED,
                side,
                f"{people.name(side)} {verb}: {outcome} ({money}). {resolution.reason}".strip(),
                resolution_id=resolution.id,
                kind=resolution.kind,
                outcome=resolution.outcome,
                release_amount=resolution.release_amount,
                refund_amount=resolution.refund_amount,
                currency=resolution.currency,
                reason=resolution.reason,
                escrow_moved=resolution.escrow_moved,
                proposal_id=resolution.proposal_id,
                superseded_at=resolution.superseded_at,
            )
        )
        for answering_side, answer, answered_at in (
            (Side.CLIENT, resolution.client_answer, resolution.client_answered_at),
            (Side.SUPPLIER, resolution.supplier_answer, resolution.supplier_answered_at),
        ):
            if not answer or answered_at is None:
                continue
            entries.append(
                _entry(
                    answered_at,
                    EntryType.RESOLUTION_ANSWERED,
                    answering_side,
                    f"{people.name(answering_side)} {answer} the {resolution.get_kind_display().lower()}.",
                    resolution_id=resolution.id,
                    kind=resolution.kind,
                    answer=answer,
                )
            )
    return entries


# --- money --------------------------------------------------------------------------------------


def _money_entries(dispute: Dispute, moves: list[dict], people: _Sides) -> list[dict]:
    entries = []
    for move in moves:
        side = people.of(move["by_id"])
        kind = move["move"]
        if kind == "frozen":
            type_, summary = EntryType.ESCROW_FROZEN, "The escrow was frozen: nothing moves until the case ends."
        elif kind == "unfrozen":
            type_ = EntryType.ESCROW_UNFROZEN
            summary = f"The escrow was unfrozen ({move['to_status'].replace('_', ' ')})."
        elif kind == "released":
            type_ = EntryType.ESCROW_RELEASED
            commission = f", {move['commission']} of it the platform's commission" if move["commission"] else ""
            summary = (
                f"{move['amount']} {move['currency']} released to {dispute.supplier_organization_name}{commission}."
            )
        elif kind == "refunded":
            type_ = EntryType.ESCROW_REFUNDED
            summary = (
                f"{move['amount']} {move['currency']} refunded to {dispute.client_organization_name} "
                f"(payment {move['payment_status'] or 'recorded'})."
            )
        else:
            type_ = EntryType.ESCROW_REFUND_FAILED
            summary = (
                f"The refund of {move['amount']} {move['currency']} failed at the provider: "
                f"credited to {dispute.client_organization_name}'s available balance."
            )
        facts = {key: value for key, value in move.items() if key not in ("at", "by_id", "by_is_staff", "move")}
        entries.append(_entry(move["at"], type_, side, summary, move=kind, **facts))
    return entries
