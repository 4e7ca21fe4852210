"""Lifecycles of RFQs, offers and bookings: {from: {to: who}}, checked in one place each.

"who" names the actor a move belongs to: the RFQ's owner (`owner`), the carrier that
made an offer (`carrier`), platform staff (`staff`) or the beat jobs (`system`).
An RFQ that has left `open` (or never reached it) takes no offers and no award:
acting on it is 422 RFQ_ALREADY_CLOSED; any other illegal move is 422
INVALID_STATE_TRANSITION.
"""

from __future__ import annotations

from apps.core.errors import DomainError, ErrorCode
from apps.core.lifecycle import Transitions
from apps.marketplace.models import BookingStatus as B
from apps.marketplace.models import OfferStatus as O
from apps.marketplace.models import RfqStatus as R

OWNER, CARRIER, STAFF, SYSTEM = "owner", "carrier", "staff", "system"

RFQ_MOVES: dict[str, dict[str, frozenset[str]]] = {
    R.DRAFT: {R.OPEN: frozenset({OWNER}), R.CANCELLED: frozenset({OWNER})},
    R.OPEN: {
        R.AWARDED: frozenset({OWNER}),
        R.CANCELLED: frozenset({OWNER}),
        R.CLOSED: frozenset({STAFF}),
        R.EXPIRED: frozenset({SYSTEM}),
    },
    R.AWARDED: {},
    R.CANCELLED: {},
    R.CLOSED: {},
    R.EXPIRED: {},
}

OFFER_MOVES: dict[str, dict[str, frozenset[str]]] = {
    O.SUBMITTED: {
        O.WITHDRAWN: frozenset({CARRIER}),
        O.ACCEPTED: frozenset({OWNER}),
        # The owner rejects one offer, or all the others when awarding; the RFQ closing
        # for any other reason (cancelled, closed by staff, expired) rejects them too.
        O.REJECTED: frozenset({OWNER, STAFF, SYSTEM}),
        O.EXPIRED: frozenset({SYSTEM}),
    },
    O.WITHDRAWN: {},
    O.ACCEPTED: {},
    O.REJECTED: {},
    O.EXPIRED: {},
}

# A booking waits for its carrier: confirmed or declined by it, expired by the beat job, or
# cancelled with its order (a party cancelled the order before the carrier answered).
BOOKING_MOVES: dict[str, dict[str, frozenset[str]]] = {
    B.PENDING: {
        B.CONFIRMED: frozenset({CARRIER}),
        B.DECLINED: frozenset({CARRIER}),
        B.EXPIRED: frozenset({SYSTEM}),
        B.CANCELLED: frozenset({SYSTEM}),
    },
    B.CONFIRMED: {},
    B.DECLINED: {},
    B.EXPIRED: {},
    B.CANCELLED: {},
}

TERMINAL_RFQ_STATUSES = frozenset(status for status, moves in RFQ_MOVES.items() if not moves)


class RfqAlreadyClosed(DomainError):
    status_code = 422
    code = ErrorCode.RFQ_ALREADY_CLOSED


def require_open(status: str, *, number: str) -> None:
    """422 RFQ_ALREADY_CLOSED unless the RFQ takes offers and an award (status open)."""
    if status != R.OPEN:
        raise RfqAlreadyClosed(
            f"RFQ {number} is {status}: it takes no offers and no award.", details={"status": [status]}
        )


def _rfq_closed_guard(current: str, target: str, rfq) -> None:
    if current in TERMINAL_RFQ_STATUSES:
        require_open(current, number=rfq.number if rfq is not None else "")


RFQ = Transitions(RFQ_MOVES, noun="An RFQ", history="marketplace.RfqStatusChange", guard=_rfq_closed_guard)
OFFER = Transitions(OFFER_MOVES, noun="An offer", history="marketplace.OfferStatusChange")
BOOKING = Transitions(BOOKING_MOVES, noun="A booking", history="marketplace.BookingStatusChange")
