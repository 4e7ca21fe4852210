"""Platform staff's manual adjustment: itself a balanced, audited journal entry."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Sum

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import ErrorCode, ValidationFailed
from apps.core.money import is_currency, round_money
from apps.core.services import outbox_publish
from apps.escrow import events
from apps.escrow.models import EntryKind, JournalEntry, Posting
from apps.escrow.services import ledger
from apps.escrow.services.steps import InsufficientFunds, _parse_amount
from apps.tenancy.selectors import organization_names


def _check_available(account: ledger.Account, amount: Decimal) -> None:
    """Refuse a debit larger than the available balance. Debits of an available balance are
    serialized on the account's advisory lock (releases and failed refunds only credit it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"ledger-account:{account.id}"])
    balance = -(Posting.objects.filter(account_id=account.id).aggregate(total=Sum("amount"))["total"] or Decimal(0))
    if amount > balance:
        message = f"Only {round_money(balance, account.currency)} {account.currency} is available."
        raise InsufficientFunds(
            message, details={"amount": [message], "available": str(round_money(balance, account.currency))}
        )


@transaction.atomic
def ledger_adjust(
    *, actor: Actor, organization_id: UUID, currency: str, amount, direction: str, reason: str
) -> JournalEntry:
    """Credit (direction "credit") or debit an organization's available balance against the
    platform's commission account, with a reason; audited. A debit never takes the balance
    below zero (422 INSUFFICIENT_FUNDS). Runs in the staff's all-tenants scope."""
    if not reason.strip():
        raise ValidationFailed(
            "A reason is required.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"reason": ["Required."]}
        )
    currency = (currency or "").upper()
    if not is_currency(currency):
        raise ValidationFailed("Not a currency in use.", details={"currency": ["Not an ISO 4217 currency in use."]})
    if direction not in ("credit", "debit"):
        raise ValidationFailed("Credit or debit.", details={"direction": ["Must be credit or debit."]})
    value: Decimal = _parse_amount(amount, currency=currency)
    if not organization_names(organization_ids=[organization_id]):
        raise ValidationFailed("No such organization.", details={"organization_id": ["Unknown."]})
    organization_account = ledger.account_available(organization_id, currency)
    platform_account = ledger.account_commission(currency)
    if direction == "debit":
        _check_available(organization_account, value)
    if direction == "credit":
        lines = [ledger.ledger_debit(platform_account, value), ledger.ledger_credit(organization_account, value)]
    else:
        lines = [ledger.ledger_debit(organization_account, value), ledger.ledger_credit(platform_account, value)]
    entry = ledger.ledger_post(
        kind=EntryKind.ADJUSTMENT,
        lines=lines,
        description=f"Manual adjustment: {reason}",
        client_organization_id=organization_id,
        supplier_organization_id=None,
        actor=actor,
    )
    audit_record(
        action="ledger.adjusted",
        resource_type="journal_entry",
        resource_id=entry.id,
        new_values={
            "organization_id": str(organization_id),
            "currency": currency,
            "amount": str(value),
            "direction": direction,
            "reason": reason,
        },
        organization_id=organization_id,
        actor_id=actor.user_id,
    )
    outbox_publish(
        events.LedgerAdjusted(
            organization_id=organization_id,
            entry_id=str(entry.id),
            adjusted_organization_id=str(organization_id),
            reason=reason,
            party_organization_ids=[str(organization_id)],
        )
    )
    return entry
