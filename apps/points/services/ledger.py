"""The points ledger: the one writer of point accounts and transactions.

Every line goes through `point_transaction_record`, which locks the person's account row
(SELECT ... FOR UPDATE, made on first use), so lines of one person are written one at a time:
the running balance is the previous line's plus the amount, the account's balance is the sum of
the lines, and the lines are numbered 1, 2, 3, ... with no gap, under any concurrency. The
idempotency check (`source_key`, unique per person) runs under the same lock, so a redelivered
event finds the line its first delivery wrote instead of racing it to the unique index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID, uuid4

from django.db import transaction

from apps.accounts.selectors import user_contacts
from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import DomainError, ErrorCode, PermissionDenied, ValidationFailed
from apps.core.services import outbox_publish
from apps.points import events, selectors
from apps.points.models import PointAccount, PointTransaction, TransactionType
from apps.tenancy.selectors import feature_is_active

logger = logging.getLogger(__name__)

FEATURE = "points"
MAX_AMOUNT = 1_000_000


class NotEnoughPoints(DomainError):
    status_code = 422
    code = ErrorCode.INSUFFICIENT_FUNDS


@dataclass(frozen=True)
class Recorded:
    transaction: PointTransaction
    created: bool  # False: the source had been recorded before (a redelivery, a retry)


def _locked_account(user_id: UUID) -> PointAccount:
    """The person's account, locked until the caller's transaction ends; made on first use (an
    insert that ignores a concurrent one, then the lock)."""
    account = PointAccount.objects.select_for_update().filter(user_id=user_id).first()
    if account is None:
        PointAccount.objects.bulk_create([PointAccount(user_id=user_id)], ignore_conflicts=True)
        account = PointAccount.objects.select_for_update().get(user_id=user_id)
    return account


@transaction.atomic
def point_transaction_record(
    *,
    user_id: UUID,
    transaction_type: str,
    amount: int,
    category: str,
    description: str,
    source_key: str,
    rule_id: UUID | None = None,
    rule_key: str = "",
    source_event_id: UUID | None = None,
    allows_negative: bool = False,
    actor_id: UUID | None = None,
    metadata: dict | None = None,
    organization_id: UUID | None = None,
) -> Recorded:
    """Append one line to the person's ledger, once per `source_key`: REWARD and CREDIT add
    `amount`, PENALTY subtracts it. A penalty that would take the balance below zero is refused
    (422 INSUFFICIENT_FUNDS) unless `allows_negative`. Locks the person's account row.

    Runs in the caller's scope: the person's own (their rows), or the audited all-tenants scope
    of awarding and of staff. The point_transaction.recorded event is owned by
    `organization_id` (the organization whose event earned it; none for staff).
    """
    if transaction_type not in TransactionType.values:
        raise ValidationFailed("Unknown transaction type.", details={"type": [f"One of {TransactionType.values}."]})
    if not 1 <= amount <= MAX_AMOUNT:
        raise ValidationFailed("Invalid amount.", details={"amount": [f"A whole number from 1 to {MAX_AMOUNT}."]})
    account = _locked_account(user_id)
    existing = PointTransaction.objects.filter(user_id=user_id, source_key=source_key).first()
    if existing is not None:
        return Recorded(existing, created=False)
    signed = -amount if transaction_type == TransactionType.PENALTY else amount
    balance = account.balance + signed
    if signed < 0 and balance < 0 and not allows_negative:
        raise NotEnoughPoints(
            f"The penalty of {amount} points would take the balance ({account.balance}) below zero.",
            details={"balance": account.balance, "amount": amount},
        )
    line = PointTransaction.objects.create(
        user_id=user_id,
        sequence=account.transaction_count + 1,
        type=transaction_type,
        category=category,
        amount=signed,
        balance=balance,
        description=description[:200],
        rule_id=rule_id,
        source_key=source_key,
        source_event_id=source_event_id,
        actor_id=actor_id,
        metadata=metadata or {},
    )
    account.balance, account.transaction_count = balance, line.sequence
    account.save(update_fields=["balance", "transaction_count", "updated_at"])
    outbox_publish(
        events.PointTransactionRecorded(
            organization_id=organization_id,
            transaction_id=str(line.id),
            user_id=str(user_id),
            type=line.type,
            category=line.category,
            amount=line.amount,
            balance=line.balance,
            description=line.description,
            rule_key=rule_key,
        )
    )
    return Recorded(line, created=True)


def points_award_for_event(*, event) -> list[Recorded]:
    """Record what the active rules of the event's type award for it: nothing unless the event's
    organization has the `points` feature on. Once per (event, rule): the line's source key is
    `event:<event id>:<rule key>`, so a redelivered event records nothing new. A penalty refused
    for lack of points is logged and skipped (the other rules still apply).

    Runs in the audited all-tenants scope the subscriber opens (the people awarded are not the
    event's organization's rows). Accounts are locked in the order of their ids, so two events
    awarding the same two people never wait on each other in a circle.
    """
    rules = selectors.rules_for_event(event_type=event.event_type)
    if not rules or not feature_is_active(organization_id=event.organization_id, name=FEATURE):
        return []
    awards = []
    for rule in rules:
        if not rule.matches(event.payload or {}):
            continue
        user_id = rule.recipient_of(event)
        if user_id is None:
            logger.info("points.no_recipient", extra={"rule": rule.key, "event_id": str(event.id)})
            continue
        awards.append((user_id, rule))
    people = user_contacts(user_ids={user_id for user_id, _ in awards})
    recorded = []
    for user_id, rule in sorted(awards, key=lambda award: (str(award[0]), award[1].key)):
        if user_id not in people or not people[user_id].is_active:
            logger.info("points.recipient_unknown", extra={"rule": rule.key, "event_id": str(event.id)})
            continue
        try:
            recorded.append(
                point_transaction_record(
                    user_id=user_id,
                    transaction_type=rule.transaction_type,
                    amount=rule.amount,
                    category=rule.category,
                    description=rule.description,
                    source_key=f"event:{event.id}:{rule.key}",
                    rule_id=rule.id,
                    rule_key=rule.key,
                    source_event_id=event.id,
                    allows_negative=rule.allows_negative,
                    metadata={
                        "event_type": event.event_type,
                        "aggregate_type": event.aggregate_type,
                        "aggregate_id": event.aggregate_id,
                    },
                    organization_id=event.organization_id,
                )
            )
        except NotEnoughPoints:
            logger.info("points.penalty_refused", extra={"rule": rule.key, "event_id": str(event.id)})
    return recorded


ADJUSTMENT_TYPES = (TransactionType.CREDIT, TransactionType.PENALTY)


@transaction.atomic
def points_adjust(
    *,
    actor: Actor,
    user_id: UUID,
    transaction_type: str,
    amount: int,
    description: str,
    category: str = "",
    allows_negative: bool = False,
    key: str = "",
) -> Recorded:
    """Platform staff credit or penalize a person by hand (the back-office), with the reason in
    `description`; audited. `key` makes a retried adjustment record once (default: a new one).
    Runs in the staff's audited all-tenants scope."""
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff credit or penalize points.")
    if transaction_type not in ADJUSTMENT_TYPES:
        raise ValidationFailed("Staff credit or penalize.", details={"type": ["CREDIT or PENALTY."]})
    if not description.strip():
        raise ValidationFailed("Say why.", details={"description": ["Required."]})
    people = user_contacts(user_ids=[user_id])
    if user_id not in people:
        raise ValidationFailed("No such person.", details={"user": ["Unknown."]})
    recorded = point_transaction_record(
        user_id=user_id,
        transaction_type=transaction_type,
        amount=amount,
        category=category,
        description=description.strip(),
        source_key=f"manual:{key or uuid4()}",
        allows_negative=allows_negative,
        actor_id=actor.user_id,
        metadata={"adjusted_by": str(actor.user_id)},
    )
    if recorded.created:
        line = recorded.transaction
        audit_record(
            action="points.adjusted",
            resource_type="point_transaction",
            resource_id=line.id,
            new_values={
                "user_id": str(user_id),
                "type": line.type,
                "amount": line.amount,
                "balance": line.balance,
                "description": line.description,
            },
            actor=actor,
        )
    return recorded
