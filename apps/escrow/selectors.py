"""Reads of escrow and the ledger. Row-level security decides which rows a tenant sees (the
escrows and entries of which it is a party, its own accounts); the filters repeat it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet, Sum

from apps.core.errors import NotFound
from apps.core.money import round_money
from apps.escrow.models import (
    DEBIT_NORMAL,
    AccountKind,
    Escrow,
    EscrowStatusChange,
    ExchangeRate,
    PaymentTransaction,
    Posting,
)
from apps.orders.selectors import OrderScope


def escrow_list(*, organization_id: UUID, scope: OrderScope | None = None) -> QuerySet[Escrow]:
    """Escrows of which the organization is a party; with `scope`, only those of the orders
    the member reaches (an `:own` order grant reaches its own orders' escrows only)."""
    queryset = Escrow.objects.visible_to(organization_id)
    if scope is not None:
        queryset = queryset.filter(scope.rows_of("order"))
    return queryset.order_by("-created_at", "-id")


def escrow_get(*, organization_id: UUID, escrow_id: UUID, scope: OrderScope | None = None) -> Escrow:
    """One escrow of which the organization is a party (within `scope`), with its history and transactions."""
    escrow = (
        escrow_list(organization_id=organization_id, scope=scope)
        .filter(pk=escrow_id)
        .prefetch_related(
            Prefetch("history", queryset=EscrowStatusChange.objects.order_by("at", "id")),
            Prefetch("transactions", queryset=PaymentTransaction.objects.order_by("created_at", "id")),
        )
        .first()
    )
    if escrow is None:
        raise NotFound("Escrow not found.")
    return escrow


def escrow_of_order(*, organization_id: UUID, order_id: UUID) -> Escrow | None:
    """The order's escrow, as a party of it sees it; None when the order was paid outside escrow."""
    return Escrow.objects.visible_to(organization_id).filter(order_id=order_id).first()


def escrow_may_be_disputed(escrow: Escrow) -> bool:
    """Whether the escrow holds money a dispute can freeze (funded or partly released)."""
    from apps.escrow.transitions import OPERATIONS

    return escrow.status in OPERATIONS["dispute"]


def _shown(kind: str, amount: Decimal) -> Decimal:
    """A sum of postings as the account's owner reads it: credit-normal accounts positive."""
    return amount if kind in DEBIT_NORMAL else -amount


@dataclass(frozen=True)
class Balance:
    currency: str
    available: Decimal
    held: Decimal


def balances(*, organization_id: UUID, scope: OrderScope | None = None) -> list[Balance]:
    """The organization's available and held money per currency, summed from its postings;
    with `scope`, from the lines of the orders the member reaches only (`ledger_statement`)."""
    rows = (
        Posting.objects.filter(
            organization_id=organization_id, account_kind__in=[AccountKind.AVAILABLE, AccountKind.HELD]
        )
        .filter(_reached_lines(scope))
        .values("currency", "account_kind")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    by_currency: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        by_currency.setdefault(row["currency"], {})[row["account_kind"]] = _shown(row["account_kind"], row["total"])
    return [
        Balance(
            currency=currency,
            available=kinds.get(AccountKind.AVAILABLE, Decimal(0)),
            held=kinds.get(AccountKind.HELD, Decimal(0)),
        )
        for currency, kinds in sorted(by_currency.items())
    ]


def account_totals(*, organization_id: UUID | None) -> QuerySet:
    """Debits, credits and their sum per account of one organization (None: the platform's
    own accounts), summed from the postings in one query."""
    owner = Q(organization_id=organization_id) if organization_id else Q(organization_id__isnull=True)
    return (
        Posting.objects.filter(owner)
        .values("account_kind", "currency", "account__provider")
        .annotate(
            debits=Sum("amount", filter=Q(amount__gt=0), default=Decimal(0)),
            credits=Sum("amount", filter=Q(amount__lt=0), default=Decimal(0)),
            total=Sum("amount"),
        )
        .order_by("currency", "account_kind", "account__provider")
    )


def _reached_lines(scope: OrderScope | None) -> Q:
    # A line belongs to an order through its escrow. A member whose reach is limited to their
    # own orders sees only those lines: never the organization's other money (other members'
    # escrows, staff adjustments), which no order of theirs explains.
    return Q() if scope is None else scope.rows_of("escrow__order")


def ledger_statement(
    *, organization_id: UUID, currency: str | None = None, kind: str | None = None, scope: OrderScope | None = None
) -> QuerySet[Posting]:
    """The lines of the organization's own accounts, newest first, with their entries; with
    `scope`, only the lines of the orders the member reaches."""
    queryset = (
        Posting.objects.filter(organization_id=organization_id)
        .filter(_reached_lines(scope))
        .select_related("entry", "escrow")
    )
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if kind:
        queryset = queryset.filter(account_kind=kind)
    return queryset.order_by("-created_at", "-id")


def shown_amount(posting: Posting) -> Decimal:
    return _shown(posting.account_kind, posting.amount)


@dataclass(frozen=True)
class Equivalent:
    currency: str
    amount: Decimal
    rate: Decimal
    as_of: datetime


def display_rates(*, currencies: list[str], display_currency: str) -> dict[str, tuple[Decimal, datetime | None]]:
    """For each currency, (rate, as of) to `display_currency` from the stored table, in one
    query; currencies without a known rate are left out."""
    display_currency = display_currency.upper()
    rates = {
        rate.base: (rate.rate, rate.as_of)
        for rate in ExchangeRate.objects.filter(
            base__in=[c for c in currencies if c != display_currency], quote=display_currency
        )
    }
    if display_currency in currencies:
        rates[display_currency] = (Decimal(1), None)
    return rates


def equivalent(
    amount: Decimal, *, display_currency: str, rate: tuple[Decimal, datetime | None] | None
) -> Equivalent | None:
    """`amount` shown in `display_currency` at `rate`, for display only: never used to move
    money. Rounded half to even to the display currency's minor units; None without a rate."""
    if rate is None:
        return None
    value, as_of = rate
    return Equivalent(display_currency.upper(), round_money(amount * value, display_currency.upper()), value, as_of)


def balances_shown(
    *, organization_id: UUID, display_currency: str | None = None, scope: OrderScope | None = None
) -> list[dict]:
    """The organization's balances as the API shows them: in minor units of their currency,
    and, with `display_currency`, each also in that currency (display only; None without a rate)."""
    shown = []
    rows = balances(organization_id=organization_id, scope=scope)
    rates = (
        display_rates(currencies=[b.currency for b in rows], display_currency=display_currency)
        if display_currency
        else {}
    )
    for balance in rows:
        row = {
            "currency": balance.currency,
            "available": str(round_money(balance.available, balance.currency)),
            "held": str(round_money(balance.held, balance.currency)),
        }
        if display_currency:
            rate = rates.get(balance.currency)
            row["display_equivalent"] = {
                name: _as_dict(equivalent(amount, display_currency=display_currency, rate=rate))
                for name, amount in (("available", balance.available), ("held", balance.held))
            }
        shown.append(row)
    return shown


def _as_dict(value: Equivalent | None) -> dict | None:
    return None if value is None else asdict(value)


def exchange_rate_list() -> QuerySet[ExchangeRate]:
    return ExchangeRate.objects.order_by("base", "quote", "id")


# --- proofs (ledger_check) ----------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerProblem:
    what: str
    detail: str


def ledger_problems() -> list[LedgerProblem]:
    """Everything that contradicts double entry, in the current scope (all tenants for the
    check command): unbalanced entries, a ledger not summing to zero per currency, and
    escrows whose cached amounts differ from their postings. Empty when all is well."""
    problems: list[LedgerProblem] = []
    unbalanced = (
        Posting.objects.values("entry_id", "currency").annotate(total=Sum("amount")).exclude(total=0).order_by()
    )
    problems += [
        LedgerProblem("entry_unbalanced", f"{row['entry_id']} {row['currency']} {row['total']}") for row in unbalanced
    ]
    per_currency = Posting.objects.values("currency").annotate(total=Sum("amount")).exclude(total=0).order_by()
    problems += [LedgerProblem("ledger_unbalanced", f"{row['currency']} {row['total']}") for row in per_currency]
    held = dict(
        Posting.objects.filter(account_kind=AccountKind.HELD)
        .values("escrow_id")
        .annotate(total=Sum("amount"))
        .values_list("escrow_id", "total")
    )
    released = dict(
        Posting.objects.filter(account_kind=AccountKind.COMMISSION, entry__kind="release")
        .values("escrow_id")
        .annotate(total=Sum("amount"))
        .values_list("escrow_id", "total")
    )
    for escrow in Escrow.objects.only(
        "id", "number", "amount", "held_amount", "released_amount", "refunded_amount", "commission_taken"
    ).iterator():
        posted_held = -held.get(escrow.id, Decimal(0))
        if posted_held != escrow.held_amount:
            problems.append(
                LedgerProblem(
                    "escrow_held_mismatch", f"{escrow.number}: cached {escrow.held_amount}, postings {posted_held}"
                )
            )
        posted_commission = -released.get(escrow.id, Decimal(0))
        if posted_commission != escrow.commission_taken:
            problems.append(
                LedgerProblem(
                    "escrow_commission_mismatch",
                    f"{escrow.number}: cached {escrow.commission_taken}, postings {posted_commission}",
                )
            )
        accounted = escrow.held_amount + escrow.released_amount + escrow.refunded_amount
        if accounted not in (0, escrow.amount):  # unfunded, or every unit held, released or refunded
            problems.append(LedgerProblem("escrow_unaccounted", f"{escrow.number}: {accounted} of {escrow.amount}"))
    return problems


# --- Disputes: the money moves of a case, for its timeline ----------------------------------


def escrow_dispute_moves(*, organization_id: UUID | None, escrow_id: UUID, since: datetime) -> list[dict]:
    """The escrow's moves during the first dispute opened at or after `since`, oldest first,
    as plain rows (`move`: frozen, released, refunded, refund_failed, unfrozen; who moved it,
    `by_id` and `by_is_staff`): the freeze,
    what the resolution released (commission included, and shown) or refunded, a refund the
    provider later failed, and the unfreeze. Nothing when the escrow was not frozen since.
    `organization_id` None: platform staff (their scope decides). Two queries."""
    from django.db.models import Min

    from apps.escrow.models import EntryKind, EscrowStatus, JournalEntry

    history = EscrowStatusChange.objects.filter(escrow_id=escrow_id, at__gte=since)
    entries = JournalEntry.objects.filter(
        escrow_id=escrow_id,
        created_at__gte=since,
        kind__in=[EntryKind.RELEASE, EntryKind.REFUND, EntryKind.REFUND_FAILED],
    )
    if organization_id is not None:
        history, entries = history.visible_to(organization_id), entries.visible_to(organization_id)
    changes = list(
        history.order_by("at", "id").values("from_status", "to_status", "by_id", "by__is_staff", "at", "reason")
    )
    frozen = next((change for change in changes if change["to_status"] == EscrowStatus.DISPUTED), None)
    if frozen is None:
        return []
    unfrozen = next((c for c in changes if c["from_status"] == EscrowStatus.DISPUTED and c["at"] >= frozen["at"]), None)
    moves = [
        {
            "move": "frozen",
            "at": frozen["at"],
            "by_id": frozen["by_id"],
            "by_is_staff": bool(frozen["by__is_staff"]),
            "reason": frozen["reason"],
        }
    ]
    refunds_of_the_case: set[UUID] = set()
    for entry in (
        entries.filter(created_at__gte=frozen["at"])
        .annotate(
            out_of_held=Sum("postings__amount", filter=Q(postings__account_kind=AccountKind.HELD)),
            commission=Sum("postings__amount", filter=Q(postings__account_kind=AccountKind.COMMISSION)),
            to_available=Sum("postings__amount", filter=Q(postings__account_kind=AccountKind.AVAILABLE)),
            currency=Min("postings__currency"),
        )
        .order_by("created_at", "id")
        .values(
            "kind",
            "created_at",
            "created_by_id",
            "created_by__is_staff",
            "description",
            "payment_transaction_id",
            "payment_transaction__status",
            "out_of_held",
            "commission",
            "to_available",
            "currency",
        )
    ):
        within_case = unfrozen is None or entry["created_at"] <= unfrozen["at"]
        if entry["kind"] == EntryKind.REFUND_FAILED:
            # The provider's answer comes after the case; it still belongs to the case's refund.
            if entry["payment_transaction_id"] not in refunds_of_the_case:
                continue
        elif not within_case:
            continue
        if entry["kind"] == EntryKind.REFUND:
            refunds_of_the_case.add(entry["payment_transaction_id"])
        moved = entry["to_available"] if entry["kind"] == EntryKind.REFUND_FAILED else entry["out_of_held"]
        amount = abs(moved or Decimal(0))
        commission = abs(entry["commission"] or Decimal(0))
        moves.append(
            {
                "move": {EntryKind.RELEASE: "released", EntryKind.REFUND: "refunded"}.get(
                    entry["kind"], "refund_failed"
                ),
                "at": entry["created_at"],
                "by_id": entry["created_by_id"],
                "by_is_staff": bool(entry["created_by__is_staff"]),
                "reason": entry["description"],
                "amount": amount,
                "commission": commission if entry["kind"] == EntryKind.RELEASE else None,
                "currency": entry["currency"],
                "payment_status": entry["payment_transaction__status"],
            }
        )
    if unfrozen is not None:
        moves.append(
            {
                "move": "unfrozen",
                "at": unfrozen["at"],
                "by_id": unfrozen["by_id"],
                "by_is_staff": bool(unfrozen["by__is_staff"]),
                "reason": unfrozen["reason"],
                "to_status": unfrozen["to_status"],
            }
        )
    return moves


@dataclass(frozen=True)
class EscrowBalances:
    """What an escrow holds and has moved, for a page that shows it beside something else (a
    dispute's mediation page)."""

    escrow_id: UUID
    number: str
    status: str
    status_display: str
    currency: str
    amount: Decimal
    held: Decimal
    released: Decimal  # commission included
    refunded: Decimal
    commission_taken: Decimal


def escrow_balances(*, escrow_id: UUID) -> EscrowBalances | None:
    """The escrow's balances as the caller's scope sees them (row-level security: a party, or
    staff in the back-office's all-tenants scope); None when it sees no such escrow."""
    escrow = (
        Escrow.objects.filter(pk=escrow_id)
        .only(
            "id",
            "number",
            "status",
            "currency",
            "amount",
            "held_amount",
            "released_amount",
            "refunded_amount",
            "commission_taken",
        )
        .first()
    )
    if escrow is None:
        return None
    return EscrowBalances(
        escrow_id=escrow.id,
        number=escrow.number,
        status=escrow.status,
        status_display=escrow.get_status_display(),
        currency=escrow.currency,
        amount=escrow.amount,
        held=escrow.held_amount,
        released=escrow.released_amount,
        refunded=escrow.refunded_amount,
        commission_taken=escrow.commission_taken,
    )
