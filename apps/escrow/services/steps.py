"""The steps every escrow use case shares: formatting amounts, audit rows, journal entries,
payment transactions, the status after money moved, and the checks of who and how much."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.context import current_organization_id
from apps.core.errors import DomainError, ErrorCode, PermissionDenied, ValidationFailed
from apps.core.money import require_minor_units, round_money
from apps.escrow.models import (
    Escrow,
    EscrowStatus,
    PaymentTransaction,
)
from apps.escrow.services import ledger
from apps.orders.selectors import order_in_scope, order_scope
from apps.tenancy.roles import Actor

S = EscrowStatus


class InsufficientFunds(DomainError):
    code = ErrorCode.INSUFFICIENT_FUNDS


def _parties_of(escrow: Escrow) -> list[str]:
    return [str(escrow.client_organization_id), str(escrow.supplier_organization_id)]


def _as_money(escrow: Escrow, amount: Decimal) -> str:
    """An amount as events, audit rows and messages show it: in the escrow currency's minor units."""
    return str(round_money(amount, escrow.currency))


def _event_fields(escrow: Escrow) -> dict:
    return {
        "organization_id": current_organization_id() or escrow.client_organization_id,
        "escrow_id": str(escrow.id),
        "order_id": str(escrow.order_id),
        "status": escrow.status,
        "currency": escrow.currency,
        "held_amount": _as_money(escrow, escrow.held_amount),
        "party_organization_ids": _parties_of(escrow),
    }


def escrow_audit(escrow: Escrow, action: str, *, actor: Actor, old: dict | None = None, new: dict | None = None):
    audit_record(
        action=action,
        resource_type="escrow",
        resource_id=escrow.id,
        old_values=old,
        new_values=new,
        organization_id=current_organization_id(),
        actor_id=actor.user_id,
    )


def payment_transaction_build(escrow: Escrow, *, kind: str, amount: Decimal, **fields) -> PaymentTransaction:
    """A payment transaction of the escrow (unsaved), with its parties and currency."""
    return PaymentTransaction(
        escrow=escrow,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        kind=kind,
        amount=amount,
        currency=escrow.currency,
        **fields,
    )


def escrow_ledger_post(escrow: Escrow, *, kind: str, lines: list, description: str, actor: Actor, payment_id=None):
    """Append the escrow's journal entry: its parties and the escrow on every posting."""
    return ledger.ledger_post(
        kind=kind,
        lines=lines,
        description=description,
        client_organization_id=escrow.client_organization_id,
        supplier_organization_id=escrow.supplier_organization_id,
        escrow_id=escrow.id,
        payment_transaction_id=payment_id,
        actor=actor,
    )


def _status_after_money_moved(escrow: Escrow, *, last_operation: str) -> str:
    if escrow.held_amount == 0:
        return S.RELEASED if last_operation == "release" else S.REFUNDED
    return S.PARTIALLY_RELEASED if escrow.released_amount > 0 else S.FUNDED


def _settle_if_empty(escrow: Escrow) -> None:
    if escrow.held_amount == 0 and escrow.settled_at is None:
        escrow.settled_at = timezone.now()
        if escrow.status == S.RELEASED:
            escrow.released_at = escrow.settled_at


def _parse_amount(value, *, currency: str, field: str = "amount") -> Decimal:
    """A positive amount in whole minor units of `currency`, or 400 naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Not a decimal amount.", details={field: ["Not a decimal amount."]}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed("The amount must be greater than zero.", details={field: ["Must be greater than 0."]})
    require_minor_units(amount, currency, field=field)
    return amount


def _require_order_reach(escrow: Escrow, actor: Actor, permission: str) -> None:
    """NOT_FOUND for a member whose role does not reach the escrow's order with `permission`
    (an `:own` order grant reaches its own orders' escrows only). Staff and jobs reach every escrow."""
    if actor.is_staff or actor.is_system:
        return
    order_in_scope(scope=order_scope(actor=actor, permission=permission), order_id=escrow.order_id)


def _require_side(escrow: Escrow, actor: Actor, side: str, what: str) -> None:
    """Platform staff and jobs act for either side; a member must belong to the named side."""
    if actor.is_staff or actor.is_system:
        return
    organization_id = escrow.client_organization_id if side == "client" else escrow.supplier_organization_id
    if actor.organization_id != organization_id:
        raise PermissionDenied(f"Only the escrow's {side} may {what}.")


def _check_funds(escrow: Escrow, amount: Decimal) -> None:
    if amount > escrow.held_amount:
        raise InsufficientFunds(
            f"Only {_as_money(escrow, escrow.held_amount)} {escrow.currency} is held in this escrow.",
            details={"amount": _as_money(escrow, amount), "held_amount": _as_money(escrow, escrow.held_amount)},
        )


def _auto_release_delay() -> timedelta:
    return timedelta(days=settings.ESCROW["AUTO_RELEASE_DAYS"])
