"""A dispute's lifecycle (seed 000): {from: {to: who may make the move}}.

    created -> under_review -> awaiting_response -> in_mediation -> resolved -> closed
    (every open status) -> withdrawn, by the side that opened the case, before a resolution

- created: the counterparty has its response window. Its answer (or staff) puts the case
  under review; staff or the deadline job (the system) send it to mediation.
- awaiting_response: the mediator asked one side for information, with a deadline; the answer
  (or staff) puts it back under review, the deadline job sends it to mediation.
- resolved: only a resolution gets there (its own service, which moves the money): staff's
  decision, or both parties accepting the mediator's proposal (agreement). It closes after the
  appeal window (the system), when both parties accept the decision (agreement), or by staff
  after they reviewed an appeal.
Any other move is 422 INVALID_STATE_TRANSITION and changes nothing.
"""

from __future__ import annotations

from apps.core.lifecycle import Transitions
from apps.disputes.models import DisputeStatus as S

# Who moves: the side that opened the case, the side whose answer is awaited (the counterparty
# at first, later whichever side the mediator asked), platform staff, the deadline job, and
# both parties together (each accepted the resolution before them).
OPENER, ANSWER, STAFF, SYSTEM, AGREEMENT = "opener", "answer", "staff", "system", "agreement"

MOVES = {
    S.CREATED: {
        S.UNDER_REVIEW: {ANSWER, STAFF},
        S.IN_MEDIATION: {STAFF, SYSTEM},
        S.WITHDRAWN: {OPENER},
    },
    S.UNDER_REVIEW: {
        S.AWAITING_RESPONSE: {STAFF},
        S.IN_MEDIATION: {STAFF},
        S.RESOLVED: {STAFF, AGREEMENT},
        S.WITHDRAWN: {OPENER},
    },
    S.AWAITING_RESPONSE: {
        S.UNDER_REVIEW: {ANSWER, STAFF},
        S.IN_MEDIATION: {STAFF, SYSTEM},
        S.RESOLVED: {AGREEMENT},
        S.WITHDRAWN: {OPENER},
    },
    S.IN_MEDIATION: {
        S.AWAITING_RESPONSE: {STAFF},
        S.RESOLVED: {STAFF, AGREEMENT},
        S.WITHDRAWN: {OPENER},
    },
    S.RESOLVED: {S.CLOSED: {STAFF, SYSTEM, AGREEMENT}},
    S.CLOSED: {},
    S.WITHDRAWN: {},
}

DISPUTE = Transitions(MOVES, noun="A dispute", history="disputes.DisputeStatusChange")
