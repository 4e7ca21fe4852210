"""Use cases of an escrow: create, fund, release, refund, dispute, resolve, cancel, close.

Each money-moving use case locks the escrow first (locks.py), checks its amounts and
status under the lock, appends one balanced journal entry, updates the cached amounts,
writes the history row and publishes its event in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition, PermissionDenied, ValidationFailed
from apps.core.money import round_money
from apps.core.services import number_next, outbox_publish
from apps.escrow import events
from apps.escrow.commission import commission_due, commission_on, commission_terms
from apps.escrow.gateways import gateway_for
from apps.escrow.locks import lock_escrow
from apps.escrow.models import (
    EntryKind,
    Escrow,
    EscrowStatus,
    EscrowStatusChange,
    PaymentTransaction,
    TransactionKind,
    TransactionStatus,
)
from apps.escrow.services import ledger
from apps.escrow.transitions import check_move, check_operation
from apps.kyc.gate import require_verified
from apps.orders.models import OrderStatus, PaymentStatus
from apps.orders.selectors import order_get
from apps.orders.services import order_set_payment_status
from apps.tenancy.roles import Actor
from apps.tenancy.selectors import organization_plan
from apps.tenancy.services import audit_record

logger = logging.getLogger(__name__)

S = EscrowStatus


class InsufficientFunds(DomainError):
    code = ErrorCode.INSUFFICIENT_FUNDS


# --- shared steps ----------------------------------------------------------------------------


def parties_of(escrow: Escrow) -> list[str]:
    return [str(escrow.client_organization_id), str(escrow.supplier_organization_id)]


def _money(escrow: Escrow, amount: Decimal) -> str:
    """An amount as events, audit rows and messages show it: in the escrow currency's minor units."""
    return str(round_money(amount, escrow.currency))


def _event_fields(escrow: Escrow) -> dict:
    return {
        "organization_id": current_organization_id() or escrow.client_organization_id,
        "escrow_id": str(escrow.id),
        "order_id": str(escrow.order_id),
        "status": escrow.status,
        "currency": escrow.currency,
        "held_amount": _money(escrow, escrow.held_amount),
        "party_organization_ids": parties_of(escrow),
    }


def _audit(escrow: Escrow, action: str, *, actor_id: UUID | None, old: dict | None = None, new: dict | None = None):
    audit_record(
        action=action,
        resource_type="escrow",
        resource_id=escrow.id,
        old_values=old,
        new_values=new,
        organization_id=current_organization_id(),
        actor_id=actor_id,
    )


def _move(escrow: Escrow, to_status: str, *, actor_id: UUID | None, reason: str = "") -> None:
    """Change the status (checked against the table) and write the history row."""
    if escrow.status == to_status:
        return
    check_move(escrow.status, to_status)
    EscrowStatusChange.objects.create(
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        from_status=escrow.status,
        to_status=to_status,
        reason=reason,
        actor_id=actor_id,
    )
    escrow.status = to_status


def _status_after_money_moved(escrow: Escrow, *, last_operation: str) -> str:
    if escrow.held_amount == 0:
        return S.RELEASED if last_operation == "release" else S.REFUNDED
    return S.PARTIALLY_RELEASED if escrow.released_amount > 0 else S.FUNDED


def _settle_if_empty(escrow: Escrow) -> None:
    if escrow.held_amount == 0 and escrow.settled_at is None:
        escrow.settled_at = timezone.now()
        if escrow.status == S.RELEASED:
            escrow.released_at = escrow.settled_at


def parse_amount(value, *, currency: str, field: str = "amount") -> Decimal:
    """A positive amount in whole minor units of `currency`, or 400 naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Not a decimal amount.", details={field: ["Not a decimal amount."]}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed("The amount must be greater than zero.", details={field: ["Must be greater than 0."]})
    if round_money(amount, currency) != amount:
        raise ValidationFailed(
            f"{currency} amounts have at most {-round_money(amount, currency).as_tuple().exponent} decimal places.",
            details={field: [f"Too many decimal places for {currency}."]},
        )
    return amount


def _require_side(escrow: Escrow, actor: Actor | None, side: str, what: str) -> None:
    """Platform staff and jobs act with no actor; a member must belong to the named side."""
    if actor is None:
        return
    organization_id = escrow.client_organization_id if side == "client" else escrow.supplier_organization_id
    if actor.organization_id != organization_id:
        raise PermissionDenied(f"Only the escrow's {side} may {what}.")


def _check_funds(escrow: Escrow, amount: Decimal) -> None:
    if amount > escrow.held_amount:
        raise InsufficientFunds(
            f"Only {_money(escrow, escrow.held_amount)} {escrow.currency} is held in this escrow.",
            details={"amount": _money(escrow, amount), "held_amount": _money(escrow, escrow.held_amount)},
        )


# --- create and fund ---------------------------------------------------------------------------


@transaction.atomic
def escrow_create(*, actor: Actor, order_id: UUID, provider: str | None = None) -> Escrow:
    """Open the escrow of an order for its full total, with the commission stated up front.

    Only the order's client opens it; an order has one escrow."""
    order = order_get(organization_id=actor.organization_id, order_id=order_id)
    if order.client_organization_id != actor.organization_id:
        raise PermissionDenied("Only the order's client pays it into escrow.")
    if order.status == OrderStatus.CANCELLED:
        raise InvalidStateTransition("A cancelled order is not paid.", details={"order_status": order.status})
    provider = provider or settings.ESCROW["DEFAULT_PROVIDER"]
    gateway_for(provider)  # an unknown provider is NOT_FOUND before anything is written
    amount = parse_amount(order.total_amount, currency=order.currency, field="order_id")
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
    EscrowStatusChange.objects.create(
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        to_status=S.CREATED,
        actor_id=actor.user_id,
    )
    _audit(
        escrow,
        "escrow.created",
        actor_id=actor.user_id,
        new={"amount": _money(escrow, amount), "currency": escrow.currency},
    )
    outbox_publish(
        events.EscrowCreated(
            **_event_fields(escrow),
            amount=_money(escrow, escrow.amount),
            commission_amount=_money(escrow, escrow.commission_amount),
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
    _require_side(escrow, actor, "client", "fund it")
    check_operation(escrow.status, "fund")
    require_verified(organization_id=escrow.client_organization_id, action="escrow.fund")
    in_flight = escrow.transactions.filter(kind=TransactionKind.FUND, status=TransactionStatus.PENDING).first()
    if in_flight is not None:
        return in_flight
    funding = PaymentTransaction.objects.create(
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        kind=TransactionKind.FUND,
        amount=escrow.amount,
        currency=escrow.currency,
        provider=escrow.provider,
        payment_method=payment_method,
        created_by_id=actor.user_id,
    )
    order_set_payment_status(order_id=escrow.order_id, payment_status=PaymentStatus.PENDING)
    _audit(escrow, "escrow.funding_requested", actor_id=actor.user_id, new={"transaction_id": str(funding.id)})
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
    money_from_provider = ledger.debit(ledger.clearing(escrow.provider, escrow.currency), payment.amount)
    if escrow.status != S.CREATED:
        ledger.ledger_post(
            kind=EntryKind.FUNDING,
            lines=[
                money_from_provider,
                ledger.credit(ledger.available(escrow.client_organization_id, escrow.currency), payment.amount),
            ],
            description=f"Funding of {escrow.number} arrived after it was {escrow.status}: credited to available",
            client_organization_id=escrow.client_organization_id,
            supplier_organization_id=escrow.supplier_organization_id,
            escrow_id=escrow.id,
            payment_transaction_id=payment.id,
        )
        logger.warning("escrow.late_funding_credited", extra={"escrow_id": str(escrow.id), "status": escrow.status})
        outbox_publish(
            events.EscrowFundingFailed(
                **_event_fields(escrow),
                transaction_id=str(payment.id),
                failure_reason=f"escrow_{escrow.status}: credited to the client's available balance",
            )
        )
        return
    ledger.ledger_post(
        kind=EntryKind.FUNDING,
        lines=[
            money_from_provider,
            ledger.credit(ledger.held(escrow.client_organization_id, escrow.currency), payment.amount),
        ],
        description=f"Funding of {escrow.number}",
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        escrow_id=escrow.id,
        payment_transaction_id=payment.id,
    )
    escrow.held_amount = payment.amount
    escrow.funded_at = timezone.now()
    if escrow.delivered_at and escrow.auto_release_at is None:
        escrow.auto_release_at = escrow.delivered_at + _auto_release_delay()
    _move(escrow, S.FUNDED, actor_id=None, reason=f"Confirmed by {escrow.provider} ({payment.external_id})")
    escrow.save(update_fields=["held_amount", "funded_at", "auto_release_at", "status", "updated_at"])
    order_set_payment_status(order_id=escrow.order_id, payment_status=PaymentStatus.PAID)
    _audit(
        escrow,
        "escrow.funded",
        actor_id=None,
        new={"transaction_id": str(payment.id), "amount": _money(escrow, payment.amount)},
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


def _release(escrow: Escrow, amount: Decimal, *, actor_id: UUID | None, automatic: bool, reason: str) -> Decimal:
    """Move `amount` from held to the supplier's available balance, less the commission due,
    which goes to the platform. Returns the commission taken. The escrow is locked."""
    require_verified(organization_id=escrow.supplier_organization_id, action="escrow.release")
    commission = commission_due(escrow.released_amount + amount, escrow=escrow) - commission_due(
        escrow.released_amount, escrow=escrow
    )
    to_supplier = amount - commission
    lines = [ledger.debit(ledger.held(escrow.client_organization_id, escrow.currency), amount)]
    if to_supplier:
        lines.append(ledger.credit(ledger.available(escrow.supplier_organization_id, escrow.currency), to_supplier))
    if commission:
        lines.append(ledger.credit(ledger.commission(escrow.currency), commission))
    entry = ledger.ledger_post(
        kind=EntryKind.RELEASE,
        lines=lines,
        description=(reason or ("Automatic release" if automatic else "Release"))[:200] + f" of {escrow.number}",
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        escrow_id=escrow.id,
        created_by_id=actor_id,
    )
    now = timezone.now()
    PaymentTransaction.objects.bulk_create(
        PaymentTransaction(
            escrow=escrow,
            client_organization_id=escrow.client_organization_id,
            supplier_organization_id=escrow.supplier_organization_id,
            kind=kind,
            amount=value,
            currency=escrow.currency,
            status=TransactionStatus.COMPLETED,
            external_id="",
            completed_at=now,
            created_by_id=actor_id,
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
def escrow_release(
    *, actor: Actor | None, escrow_id: UUID, amount=None, reason: str = "", automatic: bool = False
) -> Escrow:
    """Release `amount` (all that is held when None) to the supplier: by the client's
    confirmation, or (actor None) by the auto-release job. Never more than is held
    (422 INSUFFICIENT_FUNDS); frozen while disputed. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    _require_side(escrow, actor, "client", "release it")
    check_operation(escrow.status, "release")
    amount = escrow.held_amount if amount is None else parse_amount(amount, currency=escrow.currency)
    _check_funds(escrow, amount)
    actor_id = actor.user_id if actor else None
    commission = _release(escrow, amount, actor_id=actor_id, automatic=automatic, reason=reason)
    _move(escrow, _status_after_money_moved(escrow, last_operation="release"), actor_id=actor_id, reason=reason)
    _settle_if_empty(escrow)
    escrow.save()
    _audit(
        escrow,
        "escrow.released",
        actor_id=actor_id,
        new={"amount": _money(escrow, amount), "commission": _money(escrow, commission)},
    )
    outbox_publish(
        events.EscrowReleased(
            **_event_fields(escrow),
            amount=_money(escrow, amount),
            commission=_money(escrow, commission),
            automatic=automatic,
        )
    )
    return escrow


# --- refund -------------------------------------------------------------------------------------


def _refund(escrow: Escrow, amount: Decimal, *, actor_id: UUID | None, reason: str) -> PaymentTransaction:
    """Take `amount` out of held towards the provider, which returns it to the client's card.
    The escrow is locked."""
    refund = PaymentTransaction.objects.create(
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        kind=TransactionKind.REFUND,
        amount=amount,
        currency=escrow.currency,
        provider=escrow.provider,
        created_by_id=actor_id,
    )
    ledger.ledger_post(
        kind=EntryKind.REFUND,
        lines=[
            ledger.debit(ledger.held(escrow.client_organization_id, escrow.currency), amount),
            ledger.credit(ledger.clearing(escrow.provider, escrow.currency), amount),
        ],
        description=(f"{reason[:200]}: " if reason else "") + f"refund of {escrow.number}",
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        escrow_id=escrow.id,
        payment_transaction_id=refund.id,
        created_by_id=actor_id,
    )
    escrow.held_amount -= amount
    escrow.refunded_amount += amount
    _submit_on_commit(refund)
    return refund


@transaction.atomic
def escrow_refund(*, actor: Actor | None, escrow_id: UUID, amount=None, reason: str = "") -> PaymentTransaction:
    """Return `amount` (all that is held when None) to the client: by the supplier, or
    (actor None) by platform staff. Never more than is held (422 INSUFFICIENT_FUNDS);
    frozen while disputed. The provider confirms by webhook. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    _require_side(escrow, actor, "supplier", "refund it (a client that wants its money back opens a dispute)")
    check_operation(escrow.status, "refund")
    amount = escrow.held_amount if amount is None else parse_amount(amount, currency=escrow.currency)
    _check_funds(escrow, amount)
    actor_id = actor.user_id if actor else None
    refund = _refund(escrow, amount, actor_id=actor_id, reason=reason)
    _move(escrow, _status_after_money_moved(escrow, last_operation="refund"), actor_id=actor_id, reason=reason)
    _settle_if_empty(escrow)
    escrow.save()
    _set_refund_payment_status(escrow)
    _audit(
        escrow,
        "escrow.refunded",
        actor_id=actor_id,
        new={"amount": _money(escrow, amount), "transaction_id": str(refund.id)},
    )
    outbox_publish(
        events.EscrowRefunded(**_event_fields(escrow), amount=_money(escrow, amount), transaction_id=str(refund.id))
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
    ledger.ledger_post(
        kind=EntryKind.REFUND_FAILED,
        lines=[
            ledger.debit(ledger.clearing(escrow.provider, escrow.currency), payment.amount),
            ledger.credit(ledger.available(escrow.client_organization_id, escrow.currency), payment.amount),
        ],
        description=f"Refund of {escrow.number} failed ({reason[:100]}): credited to available",
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        escrow_id=escrow.id,
        payment_transaction_id=payment.id,
    )
    outbox_publish(
        events.EscrowRefundFailed(
            **_event_fields(escrow),
            amount=_money(escrow, payment.amount),
            transaction_id=str(payment.id),
            failure_reason=reason,
        )
    )


# --- dispute ------------------------------------------------------------------------------------


@transaction.atomic
def escrow_dispute(*, actor: Actor, escrow_id: UUID, reason: str) -> Escrow:
    """Freeze the escrow: nothing is released or refunded until the dispute is resolved.
    Either party may open it. Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    if actor.organization_id not in (escrow.client_organization_id, escrow.supplier_organization_id):
        raise PermissionDenied("Only a party of the escrow may dispute it.")
    if not reason.strip():
        raise ValidationFailed("Say why.", code=ErrorCode.VALIDATION_FIELD_REQUIRED, details={"reason": ["Required."]})
    check_operation(escrow.status, "dispute")
    escrow.status_before_dispute = escrow.status
    escrow.disputed_at = timezone.now()
    _move(escrow, S.DISPUTED, actor_id=actor.user_id, reason=reason)
    escrow.save(update_fields=["status", "status_before_dispute", "disputed_at", "updated_at"])
    _audit(escrow, "escrow.disputed", actor_id=actor.user_id, new={"reason": reason})
    outbox_publish(events.EscrowDisputed(**_event_fields(escrow), reason=reason))
    return escrow


@transaction.atomic
def escrow_resolve_dispute(
    *, escrow_id: UUID, release_amount=Decimal(0), refund_amount=Decimal(0), note: str, resolved_by_id: UUID | None
) -> Escrow:
    """End a dispute (the disputes context, or platform staff, decide): release part or all
    to the supplier, refund part or all to the client, and unfreeze what is left.
    Together never more than is held (422 INSUFFICIENT_FUNDS). Locks the escrow."""
    escrow = lock_escrow(escrow_id)
    check_operation(escrow.status, "resolve_dispute")
    release = (
        Decimal(0)
        if not release_amount
        else parse_amount(release_amount, currency=escrow.currency, field="release_amount")
    )
    refund = (
        Decimal(0)
        if not refund_amount
        else parse_amount(refund_amount, currency=escrow.currency, field="refund_amount")
    )
    _check_funds(escrow, release + refund)
    if release:
        _release(escrow, release, actor_id=resolved_by_id, automatic=False, reason=f"Dispute resolution: {note}")
    if refund:
        _refund(escrow, refund, actor_id=resolved_by_id, reason=f"Dispute resolution: {note}")
    after = _status_after_money_moved(escrow, last_operation="release" if release else "refund")
    _move(escrow, after, actor_id=resolved_by_id, reason=f"Dispute resolved: {note}")
    escrow.status_before_dispute = ""
    if escrow.held_amount and escrow.delivered_at:
        # What the resolution left held gets the whole window again: the clock does not run
        # while the escrow is frozen, and a release straight after the resolution would
        # overrule it.
        escrow.auto_release_at = timezone.now() + _auto_release_delay()
    _settle_if_empty(escrow)
    escrow.save()
    if refund:
        _set_refund_payment_status(escrow)
    _audit(
        escrow,
        "escrow.dispute_resolved",
        actor_id=resolved_by_id,
        new={"released": _money(escrow, release), "refunded": _money(escrow, refund), "note": note},
    )
    outbox_publish(
        events.EscrowDisputeResolved(
            **_event_fields(escrow), released=_money(escrow, release), refunded=_money(escrow, refund), note=note
        )
    )
    return escrow


# --- delivery, cancellation, closing, and the beat jobs ---------------------------------------


def _auto_release_delay() -> timedelta:
    return timedelta(days=settings.ESCROW["AUTO_RELEASE_DAYS"])


@transaction.atomic
def escrow_record_delivery(*, order_id: UUID, delivered_at: datetime) -> Escrow | None:
    """Proof of delivery of the order: the escrow releases itself AUTO_RELEASE_DAYS later
    unless the client releases or disputes first. Idempotent: the first proof counts."""
    escrow = Escrow.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
    if escrow is None or escrow.delivered_at is not None:
        return escrow
    escrow.delivered_at = delivered_at
    if escrow.status in (S.FUNDED, S.PARTIALLY_RELEASED, S.DISPUTED):  # disputed: counts once resolved
        escrow.auto_release_at = delivered_at + _auto_release_delay()
    escrow.save(update_fields=["delivered_at", "auto_release_at", "updated_at"])
    return escrow


@transaction.atomic
def escrow_cancel(*, order_id: UUID, reason: str, actor_id: UUID | None = None) -> Escrow | None:
    """Close the unfunded escrow of a cancelled order. A funded one stays: its money is
    refunded by the supplier or through a dispute, never silently."""
    escrow = Escrow.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
    if escrow is None or escrow.status != S.CREATED:
        return escrow
    escrow.closed_at = timezone.now()
    _move(escrow, S.CLOSED, actor_id=actor_id, reason=reason)
    escrow.save(update_fields=["status", "closed_at", "updated_at"])
    outbox_publish(events.EscrowClosed(**_event_fields(escrow), reason=reason))
    return escrow


@transaction.atomic
def escrow_close(*, escrow_id: UUID, reason: str, actor_id: UUID | None = None) -> Escrow:
    """Close a settled escrow (nothing held any more): the end of its life."""
    escrow = lock_escrow(escrow_id)
    check_operation(escrow.status, "close")
    escrow.closed_at = timezone.now()
    _move(escrow, S.CLOSED, actor_id=actor_id, reason=reason)
    escrow.save(update_fields=["status", "closed_at", "updated_at"])
    outbox_publish(events.EscrowClosed(**_event_fields(escrow), reason=reason))
    return escrow
