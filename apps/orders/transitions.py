"""Order lifecycles: {kind: {from: {to: Move}}}, checked in one place (`move_for`).

A move names which party may make it (the client or the supplier organization) and
the permission the acting member needs. Cancelling is allowed until the goods move:
from in_transit on it is ORDER_CANNOT_BE_CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition
from apps.orders.models import OrderKind, ReturnStatus
from apps.orders.models import OrderStatus as S

CLIENT, SUPPLIER = "client", "supplier"


@dataclass(frozen=True)
class Move:
    sides: frozenset[str]
    permission: str


def _move(*sides: str, permission: str) -> Move:
    return Move(frozenset(sides), permission)


SUBMIT = _move(CLIENT, permission="order:create")
SUPPLIER_UPDATE = _move(SUPPLIER, permission="order:update")
CLIENT_COMPLETES = _move(CLIENT, permission="order:complete")
CANCEL = _move(CLIENT, SUPPLIER, permission="order:cancel")

SHIPPING = {
    S.PENDING: {S.CONFIRMED: SUPPLIER_UPDATE, S.CANCELLED: CANCEL},
    S.CONFIRMED: {S.IN_TRANSIT: SUPPLIER_UPDATE, S.CANCELLED: CANCEL},
    S.IN_TRANSIT: {S.DELIVERED: SUPPLIER_UPDATE},
    S.DELIVERED: {S.COMPLETED: CLIENT_COMPLETES},
    S.COMPLETED: {},
    S.CANCELLED: {},
}

TABLES = {
    OrderKind.FREIGHT: {S.DRAFT: {S.PENDING: SUBMIT, S.CANCELLED: CANCEL}, **SHIPPING},
    OrderKind.PLATFORM: {S.DRAFT: {S.PENDING: SUBMIT, S.CANCELLED: CANCEL}, **SHIPPING},
    OrderKind.SELF_PURCHASE: {S.DRAFT: {S.PENDING: SUBMIT, S.CANCELLED: CANCEL}, **SHIPPING},
    # The forwarder (supplier side) quotes, buys and receives; the customer pays.
    OrderKind.ASSISTED_PURCHASE: {
        S.REQUESTED: {S.QUOTED: SUPPLIER_UPDATE, S.CANCELLED: CANCEL},
        S.QUOTED: {S.PAID: _move(CLIENT, permission="order:pay"), S.CANCELLED: CANCEL},
        S.PAID: {S.PURCHASED: _move(SUPPLIER, permission="purchase:update"), S.CANCELLED: CANCEL},
        S.PURCHASED: {S.RECEIVED_AT_WAREHOUSE: _move(SUPPLIER, permission="package:receive"), S.CANCELLED: CANCEL},
        S.RECEIVED_AT_WAREHOUSE: {S.PENDING: SUPPLIER_UPDATE, S.CANCELLED: CANCEL},
        **SHIPPING,
    },
}

# Past this point the goods are on their way: no cancelling.
NOT_CANCELLABLE = {S.IN_TRANSIT, S.DELIVERED, S.COMPLETED}


class OrderCannotBeCancelled(DomainError):
    status_code = 422
    code = ErrorCode.ORDER_CANNOT_BE_CANCELLED


def move_for(kind: str, current: str, target: str) -> Move:
    """The move from `current` to `target` for an order of `kind`; 422 if there is none."""
    if target == S.CANCELLED and current in NOT_CANCELLABLE:
        raise OrderCannotBeCancelled(f"An order that is {current.replace('_', ' ')} can no longer be cancelled.")
    moves = TABLES[kind].get(current, {})
    if target not in moves:
        allowed = ", ".join(sorted(moves)) or "none"
        raise InvalidStateTransition(
            f"An order cannot go from {current} to {target}.",
            code=ErrorCode.INVALID_STATE_TRANSITION,
            details={"status": [f"Allowed from {current}: {allowed}."]},
        )
    return moves[target]


# --- Receiving at a warehouse -----------------------------------------------------------------
# Receiving is the warehouse's act (package:receive at that warehouse), not a move a party
# picks, so it has its own table: {kind: {from: to}}. A self purchase that arrives is
# `confirmed`: the forwarder holds the goods and has taken the order on; shipping
# (in_transit) is a later, separate move. It may arrive before the customer submitted
# the order (draft): the parcel is the submission. An assisted purchase arrives once bought.
RECEIVING = {
    OrderKind.SELF_PURCHASE: {S.DRAFT: S.CONFIRMED, S.PENDING: S.CONFIRMED},
    OrderKind.ASSISTED_PURCHASE: {S.PURCHASED: S.RECEIVED_AT_WAREHOUSE},
}


def receiving_move(kind: str, current: str) -> str | None:
    """The status an order of `kind` in `current` takes when its parcel is received, or None."""
    return RECEIVING.get(kind, {}).get(current)


# --- Returns ----------------------------------------------------------------------------------
# Only delivered goods come back. The forwarder's side (supplier) decides, receives and refunds.
RETURNABLE_ORDER_STATUSES = {S.DELIVERED, S.COMPLETED}
RETURN_DECIDE = _move(SUPPLIER, permission="return:update")

RETURNS = {
    ReturnStatus.REQUESTED: {ReturnStatus.APPROVED: RETURN_DECIDE, ReturnStatus.REJECTED: RETURN_DECIDE},
    ReturnStatus.APPROVED: {ReturnStatus.RECEIVED: RETURN_DECIDE},
    ReturnStatus.RECEIVED: {ReturnStatus.REFUNDED: RETURN_DECIDE},
    ReturnStatus.REJECTED: {},
    ReturnStatus.REFUNDED: {},
}


def return_move_for(current: str, target: str) -> Move:
    """The move of a return from `current` to `target`; 422 INVALID_STATE_TRANSITION if none."""
    moves = RETURNS.get(current, {})
    if target not in moves:
        allowed = ", ".join(sorted(moves)) or "none"
        raise InvalidStateTransition(
            f"A return cannot go from {current} to {target}.",
            code=ErrorCode.INVALID_STATE_TRANSITION,
            details={"status": [f"Allowed from {current}: {allowed}."]},
        )
    return moves[target]
