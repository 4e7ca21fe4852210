"""One lifecycle mechanism: a transition table, a status-history row, and `move()`.

Every aggregate with a lifecycle declares its table in its app's transitions.py:

    ESCROW = Transitions({S.CREATED: {S.FUNDED, S.CLOSED}, ...}, noun="An escrow",
                         history="escrow.EscrowStatusChange")

A table maps a status to the statuses it may go to: either a set of targets, or
{target: rule} where the rule says who may make the move (a set of "who" names that
`check(..., who=...)` tests, or any object the app reads, e.g. the permission a move
needs). `move()` checks the table, sets the status, writes the history row, the audit
row and the domain event in the caller's transaction: a failure anywhere after the
check leaves nothing behind. An illegal move is 422 INVALID_STATE_TRANSITION with the
moves allowed from the current status in `details`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import InvalidStateTransition

Details = Callable[[str, str, list[str]], dict]


def allowed_moves_details(current: str, target: str, allowed: list[str]) -> dict:
    """The usual 422 details: {"status": ["Allowed from <current>: <a>, <b>."]}."""
    return {"status": [f"Allowed from {current}: {', '.join(allowed) or 'none'}."]}


class Transitions:
    """A lifecycle table {from: {to: rule}} and the one place it is checked.

    `guard(current, target, subject)` runs first and may raise a domain error that says more
    than "not allowed" (an order in transit can no longer be cancelled, an RFQ is closed);
    `subject` is the row being moved, or None when only statuses are checked.
    `history` names the status-history model ("app_label.Model") that `move()` writes.
    """

    def __init__(
        self,
        table: Mapping[str, Mapping[str, Any] | Iterable[str]],
        *,
        noun: str,
        history: str = "",
        details: Details = allowed_moves_details,
        guard: Callable[[str, str, Any], None] | None = None,
    ):
        self.table: dict[str, dict[str, Any]] = {
            current: dict(moves) if isinstance(moves, Mapping) else dict.fromkeys(moves)
            for current, moves in table.items()
        }
        self.noun = noun
        self.history = history
        self.details = details
        self.guard = guard

    def allowed(self, current: str, *, who: str | None = None) -> list[str]:
        """The statuses `who` (anyone, when None) may move to from `current`, sorted."""
        moves = self.table.get(current, {})
        return sorted(target for target, rule in moves.items() if _may(rule, who))

    def terminal(self) -> frozenset[str]:
        """The statuses nothing leaves."""
        return frozenset(status for status, moves in self.table.items() if not moves)

    def check(self, current: str, target: str, *, who: str | None = None, subject=None) -> Any:
        """The rule of the move from `current` to `target`; 422 INVALID_STATE_TRANSITION if
        the table has no such move (or it is not `who`'s to make)."""
        if self.guard is not None:
            self.guard(current, target, subject)
        moves = self.table.get(current, {})
        if target not in moves or not _may(moves[target], who):
            raise InvalidStateTransition(
                f"{self.noun} cannot go from {current} to {target}.",
                details=self.details(current, target, self.allowed(current, who=who)),
            )
        return moves[target]

    def history_model(self) -> type[StatusChange]:
        return apps.get_model(self.history)


def _may(rule: Any, who: str | None) -> bool:
    if who is None or rule is None:
        return True
    return who in rule


class StatusChange(models.Model):
    """One row per status change of an aggregate: from, to, by whom (no user: the system),
    when, and why. Concrete histories name their aggregate's foreign key in `subject` and
    add the columns their row-level security reads (the parties, the organization)."""

    subject: str = ""  # the foreign key to the aggregate, e.g. "order"

    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{getattr(self, f'{self.subject}_id', '')}: {self.from_status or '-'} -> {self.to_status}"

    @classmethod
    def fields_of(cls, subject) -> dict:
        """The columns copied from the aggregate onto its history row (its parties)."""
        return {}


def history_record(
    subject, *, transitions: Transitions, from_status: str, to_status: str, actor: Actor, reason: str = "", **fields
) -> StatusChange:
    """Write one history row of `subject` (used by `move()`, and for the first status)."""
    model = transitions.history_model()
    return model.objects.create(
        **{model.subject: subject},
        **model.fields_of(subject),
        from_status=from_status,
        to_status=to_status,
        by_id=actor.user_id,
        reason=reason,
        **fields,
    )


def move(
    subject,
    to_status: str,
    *,
    transitions: Transitions,
    actor: Actor,
    reason: str = "",
    who: str | None = None,
    field: str = "status",
    save: Iterable[str] | None = None,
    history: Mapping[str, Any] | None = None,
    audit: Mapping[str, Any] | None = None,
    event: Callable[[], Any] | None = None,
) -> StatusChange:
    """Move `subject` to `to_status`: check the table, set the status, write the history row,
    then (when given) the audit row and the domain event, in one transaction.

    `save`: the fields to save with the status (None: the caller saves the row itself, with
    the other fields its use case changes). `history`: extra history columns. `audit`:
    audit_record arguments (action, organization_id, ...); no audit row without it, and the
    old and new values default to the move's statuses. `event`: builds the DomainEvent once
    the status is set; it goes to the outbox.
    """
    from apps.core.services import outbox_publish

    current = getattr(subject, field)
    # Checked before the transaction: a refused move leaves the caller's transaction usable.
    transitions.check(current, to_status, who=who, subject=subject)
    setattr(subject, field, to_status)
    # Part of the caller's use case (no savepoint): it all commits, or nothing does.
    with transaction.atomic(savepoint=False):
        if save is not None:
            subject.save(update_fields=[field, *save])
        row = history_record(
            subject,
            transitions=transitions,
            from_status=current,
            to_status=to_status,
            actor=actor,
            reason=reason,
            **(history or {}),
        )
        if audit is not None:
            audit_record(
                **{
                    "resource_id": subject.pk,
                    "old_values": {field: current},
                    "new_values": {field: to_status},
                    "actor_id": actor.user_id,
                    **audit,
                }
            )
        if event is not None:
            outbox_publish(event())
    return row
