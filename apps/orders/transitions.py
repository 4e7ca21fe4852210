"""Order lifecycles: {kind: {from: {to: Move}}}, checked by `apps.core.lifecycle` (`ORDER[kind]`).

A move names which party may make it (the client or the supplier organization) and
the permission the acting member needs. Cancelling is allowed until the goods move:
from in_transit on it is ORDER_CANNOT_BE_CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.core.errors import DomainError, ErrorCode
from apps.core.lifecycle import Transitions
from apps.orders.models import OrderKind, PackageStatus, ReturnStatus
from apps.orders.models import OrderStatus as S

CLIENT, SUPPLIER = "client", "supplier"
# A field-service order moves with its service order (apps/service), never through this API:
# no organization acts as this side.
FIELD_SERVICE = "field service"


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
    # Made when an expert takes a priced service order: delivered when the work is completed
    # (the escrow's release clock starts), completed by the client (or the clock).
    OrderKind.SERVICE: {
        S.CONFIRMED: {S.DELIVERED: _move(FIELD_SERVICE, permission="order:update"), S.CANCELLED: CANCEL},
        S.DELIVERED: {S.COMPLETED: CLIENT_COMPLETES},
        S.COMPLETED: {},
        S.CANCELLED: {},
    },
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


def _cancellable_guard(current: str, target: str, order) -> None:
    if target == S.CANCELLED and current in NOT_CANCELLABLE:
        raise OrderCannotBeCancelled(f"An order that is {current.replace('_', ' ')} can no longer be cancelled.")


# ORDER[kind].check(current, target) is the Move (who may, with which permission); 422 if none.
ORDER = {
    kind: Transitions(table, noun="An order", history="orders.OrderStatusChange", guard=_cancellable_guard)
    for kind, table in TABLES.items()
}


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


# The same moves as tables, for `move()`: the warehouse's act, not a party's.
RECEIVING_TRANSITIONS = {
    kind: Transitions(
        {current: {target} for current, target in table.items()}, noun="An order", history="orders.OrderStatusChange"
    )
    for kind, table in RECEIVING.items()
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


RETURN = Transitions(RETURNS, noun="A return", history="orders.ReturnStatusChange")


# --- Packages ---------------------------------------------------------------------------------
# A parcel leaves the forwarder's warehouse, is out for delivery, is delivered: each move the
# forwarder's (supplier side) warehouse people make, with package:update.
PACKAGE_MOVE = _move(SUPPLIER, permission="package:update")

PACKAGES = {
    PackageStatus.AT_WAREHOUSE: {PackageStatus.IN_TRANSIT: PACKAGE_MOVE},
    PackageStatus.IN_TRANSIT: {PackageStatus.OUT_FOR_DELIVERY: PACKAGE_MOVE},
    PackageStatus.OUT_FOR_DELIVERY: {PackageStatus.DELIVERED: PACKAGE_MOVE},
    PackageStatus.DELIVERED: {},
}

PACKAGE = Transitions(PACKAGES, noun="A package", history="orders.PackageStatusChange")
