"""The escrow's lifecycle: {from: {to}}, and which operations each status allows.

    created -> funded -> partially_released -> released | refunded
                 \\________________\\__________-> disputed -> (back, released or refunded)
    released | refunded -> closed;  created -> closed (cancelled before funding)

A disputed escrow is frozen: no release and no refund until the dispute is resolved.
Any other move is 422 INVALID_STATE_TRANSITION and changes nothing.
"""

from __future__ import annotations

from apps.core.errors import InvalidStateTransition
from apps.core.lifecycle import Transitions
from apps.escrow.models import EscrowStatus as S

MOVES: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.FUNDED, S.CLOSED}),
    S.FUNDED: frozenset({S.PARTIALLY_RELEASED, S.RELEASED, S.REFUNDED, S.DISPUTED}),
    S.PARTIALLY_RELEASED: frozenset({S.RELEASED, S.REFUNDED, S.DISPUTED}),
    # A resolution returns it to where it was, or settles it.
    S.DISPUTED: frozenset({S.FUNDED, S.PARTIALLY_RELEASED, S.RELEASED, S.REFUNDED}),
    S.RELEASED: frozenset({S.CLOSED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

HOLDING = frozenset({S.FUNDED, S.PARTIALLY_RELEASED})

# operation -> the statuses it may start from
OPERATIONS: dict[str, frozenset[str]] = {
    "fund": frozenset({S.CREATED}),
    "release": HOLDING,
    "refund": HOLDING,
    "dispute": HOLDING,
    "resolve_dispute": frozenset({S.DISPUTED}),
    "cancel": frozenset({S.CREATED}),
    "close": frozenset({S.RELEASED, S.REFUNDED}),
}


ESCROW = Transitions(
    MOVES,
    noun="An escrow",
    history="escrow.EscrowStatusChange",
    # The escrow API has always named the refused move rather than listing the allowed ones.
    details=lambda current, target, allowed: {"status": current, "to": target},
)


def check_operation(status: str, operation: str) -> None:
    if status in OPERATIONS[operation]:
        return
    if status == S.DISPUTED:
        message = "The escrow is disputed: nothing moves until the dispute is resolved."
    else:
        message = f"An escrow that is {status} cannot {operation.replace('_', ' ')}."
    raise InvalidStateTransition(message, details={"status": status, "operation": operation})
