"""The escrow services below the API: the ledger's guarantees (balanced, append-only, in the
application and in PostgreSQL), a charge that arrives after its escrow was cancelled, the
transition table, and the cumulative commission."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import InvalidStateTransition
from apps.core.models import OutboxEvent
from apps.escrow import selectors, services
from apps.escrow.commission import commission_due, commission_on, commission_terms
from apps.escrow.models import (
    AccountKind,
    EntryKind,
    Escrow,
    EscrowStatus,
    JournalEntry,
    LedgerAccount,
    PaymentTransaction,
    Posting,
)
from apps.escrow.services import ledger
from apps.escrow.transitions import ESCROW, MOVES, OPERATIONS, check_operation
from tests.escrow.parties import charge_event, deliver_webhook

S = EscrowStatus


def stored_escrow(escrow_id) -> Escrow:
    with system_scope(reason="test", audit=False):
        return Escrow.objects.get(pk=escrow_id)


# --- the ledger refuses what does not balance ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "amounts",
    [
        ("100.00", "-90.00"),  # does not sum to zero
        ("100.00",),  # one line
        ("100.005", "-100.005"),  # less than a cent
        ("100.00", "0", "-100.00"),  # a zero line
    ],
)
def test_ledger_post_refuses_an_entry_that_does_not_balance(client_party, supplier_party, amounts):
    accounts = [
        ledger.account_held(client_party.org.id, "EUR"),
        ledger.account_available(supplier_party.org.id, "EUR"),
        ledger.account_commission("EUR"),
    ]
    lines = [ledger.Line(account, Decimal(amount)) for account, amount in zip(accounts, amounts, strict=False)]

    with tenant_scope(client_party.org.id), pytest.raises(ledger.UnbalancedEntry) as refused:
        ledger.ledger_post(
            kind=EntryKind.ADJUSTMENT,
            lines=lines,
            description="Wrong on purpose",
            client_organization_id=client_party.org.id,
            supplier_organization_id=supplier_party.org.id,
            actor=Actor.system(),
        )

    assert (refused.value.status_code, refused.value.code) == (400, "VALIDATION_CONSTRAINT_VIOLATION")
    with system_scope(reason="test", audit=False):
        assert not JournalEntry.objects.filter(description="Wrong on purpose").exists()


def unbalanced_entry_written_directly(escrow: Escrow, amounts: list[str]) -> None:
    """Postings of `amounts` on the escrow's existing accounts, past the service (as a bug would)."""
    accounts = [
        LedgerAccount.id_for(organization_id=escrow.client_organization_id, kind=AccountKind.HELD, currency="EUR"),
        LedgerAccount.id_for(organization_id=None, kind=AccountKind.CLEARING, currency="EUR", provider="sandbox"),
    ]
    entry = JournalEntry.objects.create(
        kind=EntryKind.ADJUSTMENT,
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        description="Written past the service",
    )
    for account_id, amount in zip(accounts, amounts, strict=False):
        Posting.objects.create(
            entry=entry,
            account_id=account_id,
            organization_id=escrow.client_organization_id if account_id == accounts[0] else None,
            account_kind=AccountKind.HELD if account_id == accounts[0] else AccountKind.CLEARING,
            escrow=escrow,
            client_organization_id=escrow.client_organization_id,
            supplier_organization_id=escrow.supplier_organization_id,
            amount=Decimal(amount),
            currency="EUR",
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amounts", "complaint"),
    [(["-100.00", "90.00"], "does not balance in EUR"), (["-100.00"], "needs two or more")],
)
def test_postgresql_refuses_an_unbalanced_entry_written_past_the_service(funded_escrow, amounts, complaint):
    with system_scope(reason="test", audit=False):
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            unbalanced_entry_written_directly(funded_escrow, amounts)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do

        assert complaint in str(refused.value)
        assert not JournalEntry.objects.filter(description="Written past the service").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("table", [JournalEntry._meta.db_table, Posting._meta.db_table])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET created_at = created_at", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_or_delete_ledger_rows(client_party, funded_escrow, table, statement):
    with tenant_scope(client_party.org.id):  # a party: the rows are visible to it
        with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table=table) + " WHERE escrow_id = %s", [funded_escrow.id])

        assert "append-only" in str(refused.value)
        assert Posting.objects.filter(escrow_id=funded_escrow.id).count() == 2


# --- a charge that arrives after the escrow was cancelled ----------------------------------------


@pytest.mark.django_db
def test_a_late_charge_for_a_cancelled_escrow_is_credited_to_the_clients_available_balance(client_party, escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        funding = services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id)
        services.escrow_cancel(actor=Actor.system(), order_id=escrow.order_id, reason="The order was cancelled")

    deliver_webhook(charge_event(funding, "charge.succeeded"))

    cancelled = stored_escrow(escrow.id)
    assert (cancelled.status, cancelled.held_amount) == (S.CLOSED, 0)
    with tenant_scope(client_party.org.id):
        [balance] = selectors.balances(organization_id=client_party.org.id)
        assert (balance.currency, balance.available, balance.held) == ("EUR", Decimal("1000.00"), 0)
        assert PaymentTransaction.objects.get(pk=funding.pk).status == "completed"
        told = OutboxEvent.objects.filter(event_type="escrow.funding_failed", aggregate_id=str(escrow.id)).get()
    assert "credited to the client's available balance" in told.payload["failure_reason"]


@pytest.mark.django_db
def test_a_charge_confirmed_twice_is_booked_once(client_party, escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        funding = services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id)

    deliver_webhook(charge_event(funding, "charge.succeeded"))
    deliver_webhook(charge_event(funding, "charge.succeeded"))  # another event id: a second notice

    funded = stored_escrow(escrow.id)
    assert (funded.status, funded.held_amount) == (S.FUNDED, Decimal("1000.00"))
    with system_scope(reason="test", audit=False):
        assert JournalEntry.objects.filter(escrow_id=escrow.id, kind=EntryKind.FUNDING).count() == 1


# --- the transition table -------------------------------------------------------------------------


ILLEGAL_MOVES = [(before, after) for before in S.values for after in S.values if after not in MOVES[before]]
# sorted: every xdist worker must collect the same ids in the same order
LEGAL_MOVES = [(before, after) for before in S.values for after in sorted(MOVES[before])]


@pytest.mark.parametrize(("before", "after"), ILLEGAL_MOVES)
def test_the_transition_table_refuses_an_illegal_move(before, after):
    with pytest.raises(InvalidStateTransition) as refused:
        ESCROW.check(before, after)

    assert refused.value.details == {"status": before, "to": after}
    assert refused.value.status_code == 422


@pytest.mark.parametrize(("before", "after"), LEGAL_MOVES)
def test_the_transition_table_allows_a_legal_move(before, after):
    ESCROW.check(before, after)  # does not raise


def test_nothing_leaves_closed_and_nothing_returns_to_created():
    assert MOVES[S.CLOSED] == frozenset()
    assert all(S.CREATED not in targets for targets in MOVES.values())


@pytest.mark.parametrize(
    ("status", "operation"),
    [(status, operation) for operation, allowed in OPERATIONS.items() for status in S.values if status not in allowed],
)
def test_an_operation_is_refused_outside_the_statuses_it_starts_from(status, operation):
    with pytest.raises(InvalidStateTransition) as refused:
        check_operation(status, operation)

    assert refused.value.details == {"status": status, "operation": operation}


def test_a_disputed_escrow_says_nothing_moves_until_resolved():
    with pytest.raises(InvalidStateTransition, match="disputed"):
        check_operation(S.DISPUTED, "release")


@pytest.mark.django_db
def test_a_closed_escrow_cannot_be_released(client_party, escrow):
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        services.escrow_cancel(actor=Actor.system(), order_id=escrow.order_id, reason="The order was cancelled")
        with pytest.raises(InvalidStateTransition):
            services.escrow_release(actor=client_party.actor(), escrow_id=escrow.id)

    assert stored_escrow(escrow.id).status == S.CLOSED


# --- the commission -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_releases_in_odd_parts_take_exactly_the_commission_shown(client_party, funded_escrow):
    taken = []
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        for amount in ("333.33", "0.01", "333.33", "333.33"):
            before = stored_escrow(funded_escrow.id).commission_taken
            after = services.escrow_release(actor=client_party.actor(), escrow_id=funded_escrow.id, amount=amount)
            taken.append((Decimal(amount), after.commission_taken - before))

    assert sum(commission for _, commission in taken) == funded_escrow.commission_amount == Decimal("30.00")
    assert all(0 <= commission <= amount for amount, commission in taken)
    assert stored_escrow(funded_escrow.id).status == S.RELEASED


def an_escrow(amount: Decimal, currency: str, plan: str) -> SimpleNamespace:
    """What commission_due reads of an escrow, set as escrow_create sets it."""
    terms = commission_terms(plan=plan, currency=currency)
    return SimpleNamespace(
        amount=amount,
        currency=currency,
        commission_rate=terms.rate,
        commission_minimum=terms.minimum,
        commission_amount=commission_on(amount, terms=terms, currency=currency),
    )


MINOR_UNITS = {"EUR": 2, "JPY": 0, "KWD": 3, "PLN": 2}  # PLN: no minimum fee


@st.composite
def escrows_released_in_parts(draw):
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    quantum = Decimal(1).scaleb(-MINOR_UNITS[currency])
    units = draw(st.integers(min_value=1, max_value=10**9))
    cuts = draw(st.lists(st.integers(min_value=1, max_value=units), max_size=8, unique=True))
    escrow = an_escrow(units * quantum, currency, draw(st.sampled_from(["free", "standard", "enterprise"])))
    totals = [cut * quantum for cut in sorted(cuts)]
    if not totals or totals[-1] != escrow.amount:
        totals.append(escrow.amount)  # the last release takes the rest
    return escrow, totals


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(case=escrows_released_in_parts())
def test_the_commission_due_adds_up_to_the_commission_shown_and_never_exceeds_what_is_released(case):
    escrow, released_totals = case

    dues = [commission_due(total, escrow=escrow) for total in released_totals]
    steps = [after - before for before, after in zip([Decimal(0), *dues], dues, strict=False)]

    assert dues[-1] == escrow.commission_amount  # everything released: exactly what was shown
    assert all(step >= 0 for step in steps)  # a later release never gives commission back
    assert all(0 <= due <= total for due, total in zip(dues, released_totals, strict=True))
    assert all(due <= escrow.commission_amount for due in dues)
    released = [after - before for before, after in zip([Decimal(0), *released_totals], released_totals, strict=False)]
    assert all(step <= part for step, part in zip(steps, released, strict=True))  # each part pays at most itself
