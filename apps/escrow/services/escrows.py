"""Use cases of an escrow's money: create, fund (and the provider's answer), release, refund
(and the provider's answer).

Each money-moving use case locks the escrow first (locks.py), checks its amounts and
status under the lock, appends one balanced journal entry, updates the cached amounts,
writes the history row and publishes its event in the same transaction.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition, PermissionDenied
from apps.core.lifecycle import history_record, move
from apps.core.services import number_next, outbox_publish
from apps.escrow import events
from apps.escrow.commission import commission_due, commission_on, commission_terms
from apps.escrow.gateways import UnknownProvider, gateway_for
from apps.escrow.locks import lock_escrow
from apps.escrow.models import (
    EntryKind,
    Escrow,
    EscrowStatus,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from apps.escrow.services import ledger
from apps.escrow.services.steps import (
    _as_money,
    _auto_release_delay,
    _check_funds,
    _event_fields,
    _parse_amount,
    _require_order_reach,
    _require_side,
    _settle_if_empty,
    _status_after_money_moved,
    escrow_audit,
    escrow_ledger_post,
    payment_transaction_build,
)
from apps.escrow.transitions import ESCROW, check_operation
from apps.kyc.gate import require_verified
from apps.orders.selectors import order_get, order_scope
from apps.orders.services import OrderStatus, PaymentStatus, order_set_payment_status
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_plan

logger = logging.getLogger(__name__)

S = EscrowStatus


# --- create and fund ---------------------------------------------------------------------------


@transaction.atomic
def escrow_create(*, actor: Actor, order_id: UUID, provider: str | None = None) -> Escrow:
    """Open the escrow of an order for its full total, with the commission stated up front.

    Only the order's client opens it; an order has one escrow."""
    reach = order_scope(actor=actor, permission="escrow:fund")
    order = order_get(organization_id=actor.organization_id, order_id=order_id, customer_id=reach.customer_id)
    if order.client_organization_id != actor.organization_id:
        raise PermissionDenied("Only the order's client pays it into escrow.")
    if order.status == OrderStatus.CANCELLED:
        raise InvalidStateTransition("A cancelled order is not paid.", details={"order_status": order.status})
    if provider:
        gateway_for(provider)  # one the client named and we do not know: NOT_FOUND, nothing written
    else:
        provider = settings.ESCROW["DEFAULT_PROVIDER"]
        try:
            gateway_for(provider)
        except UnknownProvider:  # our configuration, not the client's request
            raise DomainError(
                "Payments are not available: no payment provider is configured.",
                code=ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE,
                status_code=503,
            ) from None
    amount = _parse_amount(order.total_amount, currency=order.currency, field="order_id")
    terms = commission_terms(
        plan=organization_plan(organization_id=order.supplier_organization_id), currency=order.currency
    )
    if Escrow.objects.filter(order_id=order.id).exists():
        raise DomainError("The order already has an escrow.", details={"order_id": [str(order.id)]})
    escrow = Escrow(
        number=number_next(organization_id=order.client_organization_id, name="escrow", prefix="ESC"),
        order=order,
        order_number=order.number,
        client_organization_id=order.client_organization_id,
        supplier_organization_id=order.supplier_organization_id,
        client_organization_name=order.client_organization_name,
        supplier_organization_name=order.supplier_organization_name,
        provider=provider,
        amount=amount,
        currency=order.currency,
        commission_rate=terms.rate,
        commission_minimum=terms.minimum,
        commission_amount=commission_on(amount, terms=terms, currency=order.currency),
        created_by_id=actor.user_id,
    )
    try:
        with transaction.atomic():
            escrow.save(force_insert=True)
    except IntegrityError:  # a concurrent create for the same order won the race
        raise DomainError("The order already has an escrow.", details={"order_id": [str(order.id)]}) from None
    history_record(escrow, transitions=ESCROW, from_status="", to_status=S.CREATED, actor=actor)
    escrow_audit(
        escrow,
        "escrow.created",
        actor=actor,
        new={"amount": _as_money(escrow, amount), "currency": escrow.currency},
    )
    outbox_publish(
        events.EscrowCreated(
            **_event_fields(escrow),
            amount=_as_money(escrow, escrow.amount),
            commission_amount=_as_money(escrow, escrow.commission_amount),
        )
    )
    return escrow


@transaction.atomic
def escrow_fund(*, actor: Actor, escrow_id: UUID, payment_method: str = "") -> PaymentTransaction:
    """Ask the payment provider to take the client's money. Funding is final only when the
    provider confirms it by webhook (`escrow_confirm_funding`); until then the escrow stays
    `created` and a second request joins the funding in flight.

    Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    _require_order_reach(escrow, actor, "escrow:fund")
    _require_side(escrow, actor, "client", "fund it")
    check_operation(escrow.status, "fund")
    require_verified(organization_id=escrow.client_organization_id, action="escrow.fund")
    in_flight = escrow.transactions.filter(kind=TransactionKind.FUND, status=TransactionStatus.PENDING).first()
    if in_flight is not None:
        return in_flight
    funding = payment_transaction_build(
        escrow,
        kind=TransactionKind.FUND,
        amount=escrow.amount,
        provider=escrow.provider,
        payment_method=payment_method,
        created_by_id=actor.user_id,
    )
    funding.save(force_insert=True)
    order_set_payment_status(order_id=escrow.order_id, payment_status=PaymentStatus.PENDING)
    escrow_audit(escrow, "escrow.funding_requested", actor=actor, new={"transaction_id": str(funding.id)})
    outbox_publish(events.EscrowFundingRequested(**_event_fields(escrow), transaction_id=str(funding.id)))
    _submit_on_commit(funding)
    return funding


def _submit_on_commit(payment: PaymentTransaction) -> None:
    payment_id, organization_id = str(payment.id), str(payment.client_organization_id)

    def enqueue():
        from apps.escrow.tasks import payment_transaction_submit

        try:
            payment_transaction_submit.delay(transaction_id=payment_id, organization_id=organization_id)
        except Exception:  # the beat sweep submits it later: the transaction is safe in PostgreSQL
            logger.warning("escrow.submit_enqueue_failed", extra={"transaction_id": payment_id})

    transaction.on_commit(enqueue)


def escrow_confirm_funding(*, payment: PaymentTransaction, external_id: str) -> None:
    """The provider took the money: book it as held in the escrow (applied once).

    If the escrow was cancelled while the charge was in flight, the money is credited to
    the client's available balance instead of being lost. Locks the escrow, then the
    transaction."""
    escrow = lock_escrow(payment.escrow_id)
    payment = PaymentTransaction.objects.select_for_update().get(pk=payment.pk)
    if payment.status == TransactionStatus.COMPLETED:
        return
    payment.status = TransactionStatus.COMPLETED
    payment.external_id = payment.external_id or external_id
    payment.completed_at = timezone.now()
    payment.failure_reason = ""
    payment.save(update_fields=["status", "external_id", "completed_at", "failure_reason", "updated_at"])
    late = escrow.status != S.CREATED
    # Late (cancelled meanwhile, or funded by another charge): the money is the client's, not the escrow's.
    credited = (ledger.account_available if late else ledger.account_held)(
        escrow.client_organization_id, escrow.currency
    )
    escrow_ledger_post(
        escrow,
        kind=EntryKind.FUNDING,
        lines=[
            ledger.ledger_debit(ledger.account_clearing(escrow.provider, escrow.currency), payment.amount),
            ledger.ledger_credit(credited, payment.amount),
        ],
        description=(
            f"Funding of {escrow.number} arrived after it was {escrow.status}: credited to available"
            if late
            else f"Funding of {escrow.number}"
        ),
        actor=Actor.system(),
        payment_id=payment.id,
    )
    if late:
        logger.warning("escrow.late_funding_credited", extra={"escrow_id": str(escrow.id), "status": escrow.status})
        outbox_publish(
            events.EscrowFundingFailed(
                **_event_fields(escrow),
                transaction_id=str(payment.id),
                failure_reason=f"escrow_{escrow.status}: credited to the client's available balance",
            )
        )
        return
    escrow.held_amount = payment.amount
    escrow.funded_at = timezone.now()
    if escrow.delivered_at and escrow.auto_release_at is None:
        escrow.auto_release_at = escrow.delivered_at + _auto_release_delay()
    reason = f"Confirmed by {escrow.provider} ({payment.external_id})"
    move(escrow, S.FUNDED, transitions=ESCROW, actor=Actor.system(), reason=reason)
    escrow.save(update_fields=["held_amount", "funded_at", "auto_release_at", "status", "updated_at"])
    order_set_payment_status(order_id=escrow.order_id, payment_status=PaymentStatus.PAID)
    escrow_audit(
        escrow,
        "escrow.funded",
        actor=Actor.system(),
        new={"transaction_id": str(payment.id), "amount": _as_money(escrow, payment.amount)},
    )
    outbox_publish(events.EscrowFunded(**_event_fields(escrow), transaction_id=str(payment.id)))


def escrow_funding_failed(*, payment: PaymentTransaction, reason: str, external_id: str = "") -> None:
    """The provider did not take the money: the funding failed, the escrow may be funded again."""
    escrow = lock_escrow(payment.escrow_id)
    payment = PaymentTransaction.objects.select_for_update().get(pk=payment.pk)
    if payment.status != TransactionStatus.PENDING:
        return
    payment.status = TransactionStatus.FAILED
    payment.failure_reason = reason[:255]
    payment.external_id = payment.external_id or external_id
    payment.save(update_fields=["status", "failure_reason", "external_id", "updated_at"])
    order_set_payment_status(order_id=escrow.order_id, payment_status=PaymentStatus.UNPAID)
    outbox_publish(
        events.EscrowFundingFailed(**_event_fields(escrow), transaction_id=str(payment.id), failure_reason=reason)
    )


# --- release ------------------------------------------------------------------------------------


def _release_to_supplier(escrow: Escrow, amount: Decimal, *, actor: Actor, automatic: bool, reason: str) -> Decimal:
    """Move `amount` from held to the supplier's available balance, less the commission due,
    which goes to the platform. Returns the commission taken. The escrow is locked."""
    require_verified(organization_id=escrow.supplier_organization_id, action="escrow.release")
    commission = commission_due(escrow.released_amount + amount, escrow=escrow) - commission_due(
        escrow.released_amount, escrow=escrow
    )
    to_supplier = amount - commission
    lines = [ledger.ledger_debit(ledger.account_held(escrow.client_organization_id, escrow.currency), amount)]
    if to_supplier:
        lines.append(
            ledger.ledger_credit(
                ledger.account_available(escrow.supplier_organization_id, escrow.currency), to_supplier
            )
        )
    if commission:
        lines.append(ledger.ledger_credit(ledger.account_commission(escrow.currency), commission))
    entry = escrow_ledger_post(
        escrow,
        kind=EntryKind.RELEASE,
        lines=lines,
        description=(reason or ("Automatic release" if automatic else "Release"))[:200] + f" of {escrow.number}",
        actor=actor,
    )
    now = timezone.now()
    PaymentTransaction.objects.bulk_create(
        payment_transaction_build(
            escrow,
            kind=kind,
            amount=value,
            status=TransactionStatus.COMPLETED,
            completed_at=now,
            created_by_id=actor.user_id,
        )
        for kind, value in ((TransactionKind.RELEASE, to_supplier), (TransactionKind.COMMISSION, commission))
        if value
    )
    escrow.held_amount -= amount
    escrow.released_amount += amount
    escrow.commission_taken += commission
    logger.info("escrow.released", extra={"escrow_id": str(escrow.id), "entry_id": str(entry.id)})
    return commission


@transaction.atomic
def escrow_release(*, actor: Actor, escrow_id: UUID, amount=None, reason: str = "", automatic: bool = False) -> Escrow:
    """Release `amount` (all that is held when None) to the supplier: by the client's
    confirmation, or (a system actor) by the auto-release job. Never more than is held
    (422 INSUFFICIENT_FUNDS); frozen while disputed. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    _require_order_reach(escrow, actor, "escrow:release")
    _require_side(escrow, actor, "client", "release it")
    check_operation(escrow.status, "release")
    amount = escrow.held_amount if amount is None else _parse_amount(amount, currency=escrow.currency)
    _check_funds(escrow, amount)
    commission = _release_to_supplier(escrow, amount, actor=actor, automatic=automatic, reason=reason)
    after = _status_after_money_moved(escrow, last_operation="release")
    if after != escrow.status:  # a part released (or refunded) after another: no move
        move(escrow, after, transitions=ESCROW, actor=actor, reason=reason)
    _settle_if_empty(escrow)
    escrow.save()
    escrow_audit(
        escrow,
        "escrow.released",
        actor=actor,
        new={"amount": _as_money(escrow, amount), "commission": _as_money(escrow, commission)},
    )
    outbox_publish(
        events.EscrowReleased(
            **_event_fields(escrow),
            amount=_as_money(escrow, amount),
            commission=_as_money(escrow, commission),
            automatic=automatic,
        )
    )
    return escrow


# --- refund -------------------------------------------------------------------------------------


def _refund_to_client(escrow: Escrow, amount: Decimal, *, actor: Actor, reason: str) -> PaymentTransaction:
    """Take `amount` out of held towards the provider, which returns it to the client's card.
    The escrow is locked."""
    refund = payment_transaction_build(
        escrow, kind=TransactionKind.REFUND, amount=amount, provider=escrow.provider, created_by_id=actor.user_id
    )
    refund.save(force_insert=True)
    escrow_ledger_post(
        escrow,
        kind=EntryKind.REFUND,
        lines=[
            ledger.ledger_debit(ledger.account_held(escrow.client_organization_id, escrow.currency), amount),
            ledger.ledger_credit(ledger.account_clearing(escrow.provider, escrow.currency), amount),
        ],
        description=(f"{reason[:200]}: " if reason else "") + f"refund of {escrow.number}",
        actor=actor,
        payment_id=refund.id,
    )
    escrow.held_amount -= amount
    escrow.refunded_amount += amount
    _submit_on_commit(refund)
    return refund


@transaction.atomic
def escrow_refund(*, actor: Actor, escrow_id: UUID, amount=None, reason: str = "") -> PaymentTransaction:
    """Return `amount` (all that is held when None) to the client: by the supplier, or
    (a staff actor) by platform staff. Never more than is held (422 INSUFFICIENT_FUNDS);
    frozen while disputed. The provider confirms by webhook. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    _require_order_reach(escrow, actor, "escrow:refund")
    _require_side(escrow, actor, "supplier", "refund it (a client that wants its money back opens a dispute)")
    check_operation(escrow.status, "refund")
    amount = escrow.held_amount if amount is None else _parse_amount(amount, currency=escrow.currency)
    _check_funds(escrow, amount)
    refund = _refund_to_client(escrow, amount, actor=actor, reason=reason)
    after = _status_after_money_moved(escrow, last_operation="refund")
    if after != escrow.status:  # a part released (or refunded) after another: no move
        move(escrow, after, transitions=ESCROW, actor=actor, reason=reason)
    _settle_if_empty(escrow)
    escrow.save()
    _set_refund_payment_status(escrow)
    escrow_audit(
        escrow,
        "escrow.refunded",
        actor=actor,
        new={"amount": _as_money(escrow, amount), "transaction_id": str(refund.id)},
    )
    outbox_publish(
        events.EscrowRefunded(**_event_fields(escrow), amount=_as_money(escrow, amount), transaction_id=str(refund.id))
    )
    return refund


def _set_refund_payment_status(escrow: Escrow) -> None:
    fully = escrow.refunded_amount == escrow.amount
    status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
    order_set_payment_status(order_id=escrow.order_id, payment_status=status)


def escrow_refund_confirmed(*, payment: PaymentTransaction, external_id: str) -> None:
    """The provider returned the money to the client (applied once)."""
    payment = PaymentTransaction.objects.select_for_update().get(pk=payment.pk)
    if payment.status != TransactionStatus.PENDING:
        return
    payment.status = TransactionStatus.COMPLETED
    payment.external_id = payment.external_id or external_id
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "external_id", "completed_at", "updated_at"])
    escrow = payment.escrow
    outbox_publish(
        events.EscrowRefundCompleted(
            **_event_fields(escrow), amount=_as_money(escrow, payment.amount), transaction_id=str(payment.id)
        )
    )


def escrow_refund_failed(*, payment: PaymentTransaction, reason: str, external_id: str = "") -> None:
    """The provider could not return the money: it is credited to the client's available
    balance on the platform, never lost (applied once). Locks the escrow, then the transaction."""
    escrow = lock_escrow(payment.escrow_id)
    payment = PaymentTransaction.objects.select_for_update().get(pk=payment.pk)
    if payment.status != TransactionStatus.PENDING:
        return
    payment.status = TransactionStatus.FAILED
    payment.failure_reason = reason[:255]
    payment.external_id = payment.external_id or external_id
    payment.save(update_fields=["status", "failure_reason", "external_id", "updated_at"])
    escrow_ledger_post(
        escrow,
        kind=EntryKind.REFUND_FAILED,
        lines=[
            ledger.ledger_debit(ledger.account_clearing(escrow.provider, escrow.currency), payment.amount),
            ledger.ledger_credit(
                ledger.account_available(escrow.client_organization_id, escrow.currency), payment.amount
            ),
        ],
        description=f"Refund of {escrow.number} failed ({reason[:100]}): credited to available",
        actor=Actor.system(),
        payment_id=payment.id,
    )
    outbox_publish(
        events.EscrowRefundFailed(
            **_event_fields(escrow),
            amount=_as_money(escrow, payment.amount),
            transaction_id=str(payment.id),
            failure_reason=reason,
        )
    )
