"""Writing the ledger: balanced journal entries, and the accounts they post to."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.errors import ErrorCode, ValidationFailed
from apps.core.money import round_money
from apps.escrow.models import AccountKind, JournalEntry, LedgerAccount, Posting


@dataclass(frozen=True)
class Account:
    """Names a ledger account; its id follows from the name (LedgerAccount.id_for)."""

    kind: str
    currency: str
    organization_id: UUID | None = None
    provider: str = ""

    @property
    def id(self) -> UUID:
        return LedgerAccount.id_for(
            organization_id=self.organization_id, kind=self.kind, currency=self.currency, provider=self.provider
        )


def account_available(organization_id: UUID, currency: str) -> Account:
    return Account(AccountKind.AVAILABLE, currency, organization_id)


def account_held(organization_id: UUID, currency: str) -> Account:
    return Account(AccountKind.HELD, currency, organization_id)


def account_commission(currency: str) -> Account:
    return Account(AccountKind.COMMISSION, currency)


def account_clearing(provider: str, currency: str) -> Account:
    return Account(AccountKind.CLEARING, currency, provider=provider)


@dataclass(frozen=True)
class Line:
    """A debit (positive amount) or a credit (negative) to one account."""

    account: Account
    amount: Decimal


def ledger_debit(account: Account, amount: Decimal) -> Line:
    return Line(account, amount)


def ledger_credit(account: Account, amount: Decimal) -> Line:
    return Line(account, -amount)


class UnbalancedEntry(ValidationFailed):
    code = ErrorCode.VALIDATION_CONSTRAINT_VIOLATION


def _check(lines: list[Line]) -> None:
    if len(lines) < 2:
        raise UnbalancedEntry("A journal entry needs two or more postings.", details={"postings": ["At least two."]})
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        currency = line.account.currency
        if line.amount == 0 or round_money(line.amount, currency) != line.amount:
            raise UnbalancedEntry(
                f"A posting must be non-zero and in whole minor units of {currency}.",
                details={"amount": [str(line.amount)]},
            )
        totals[currency] += line.amount
    unbalanced = {currency: str(total) for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise UnbalancedEntry("The postings of a journal entry must sum to zero per currency.", details=unbalanced)


def _open_accounts(accounts: set[Account]) -> None:
    """Create the accounts that do not exist yet. Row-level security lets a tenant open
    another organization's account (Owned(open_insert=True)) but not read it, hence the
    derived ids and ON CONFLICT DO NOTHING rather than a get-or-create."""
    now = timezone.now()
    rows = sorted(accounts, key=lambda account: str(account.id))
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params = []
    for account in rows:
        params += [account.id, account.organization_id, account.kind, account.currency, account.provider, now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LedgerAccount._meta.db_table} (id, organization_id, kind, currency, provider, created_at)"
            f" VALUES {values} ON CONFLICT DO NOTHING",
            params,
        )


# No savepoint: an entry is always part of a use case's transaction, and a failure in it
# must undo the whole use case anyway.
@transaction.atomic(savepoint=False)
def ledger_post(
    *,
    kind: str,
    lines: list[Line],
    description: str,
    client_organization_id: UUID | None,
    supplier_organization_id: UUID | None,
    actor: Actor,
    escrow_id: UUID | None = None,
    payment_transaction_id: UUID | None = None,
) -> JournalEntry:
    """Append one balanced journal entry. Refuses (400) an entry that does not balance;
    PostgreSQL refuses it again at commit (a deferred constraint trigger)."""
    _check(lines)
    _open_accounts({line.account for line in lines})
    entry = JournalEntry.objects.create(
        kind=kind,
        escrow_id=escrow_id,
        payment_transaction_id=payment_transaction_id,
        client_organization_id=client_organization_id,
        supplier_organization_id=supplier_organization_id,
        description=description[:500],
        created_by_id=actor.user_id,
    )
    Posting.objects.bulk_create(
        Posting(
            entry=entry,
            account_id=line.account.id,
            organization_id=line.account.organization_id,
            account_kind=line.account.kind,
            escrow_id=escrow_id,
            client_organization_id=client_organization_id,
            supplier_organization_id=supplier_organization_id,
            amount=line.amount,
            currency=line.account.currency,
        )
        for line in lines
    )
    return entry
