"""Order lifecycles: {kind: {from: {to: Move}}}, checked in one place (`move_for`).

A move names which party may make it (the client or the supplier organization) and
the permission the acting member needs. Cancelling is allowed until the goods move:
from in_transit on it is ORDER_CANNOT_BE_CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.errors import DomainError, ErrorCode, InvalidStateTransition
from apps.orders.models import OrderKind
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
