"""The two lifecycles of field service: {from: {to: who may make the move}}.

Work status (an expert's availability):
- the expert moves between IDLE, AVAILABLE, RUSHING and OFF_DUTY (RUSHING needs an active paid
  membership: a guard, apps/service/services/experts.py);
- BOOKED and IN_SERVICE follow the expert's service orders (the system: assigned or accepted ->
  BOOKED, started -> IN_SERVICE, completed, declined or cancelled -> back to AVAILABLE or BOOKED);
- the membership job (the system) takes an expired member out of RUSHING.

Service order:
    PENDING -> ASSIGNED -> IN_PROGRESS -> COMPLETED
    PENDING | ASSIGNED -> CANCELLED (the customer);  ASSIGNED -> PENDING (the expert declines)
- assigned by the customer (dispatch) or by the expert who accepts a live offer;
- started and completed by the assigned expert;
- work in progress is not cancelled here: the customer opens a dispute instead.
Any other move is 422 INVALID_STATE_TRANSITION and changes nothing.
"""

from __future__ import annotations

from apps.core.lifecycle import Transitions
from apps.service.models import ServiceOrderStatus as S
from apps.service.models import WorkStatus as W

EXPERT, CUSTOMER, SYSTEM = "expert", "customer", "system"

WORK_MOVES = {
    W.IDLE: {W.AVAILABLE: {EXPERT}, W.RUSHING: {EXPERT}, W.OFF_DUTY: {EXPERT}, W.BOOKED: {SYSTEM}},
    W.AVAILABLE: {W.IDLE: {EXPERT}, W.RUSHING: {EXPERT}, W.OFF_DUTY: {EXPERT}, W.BOOKED: {SYSTEM}},
    W.RUSHING: {W.AVAILABLE: {EXPERT, SYSTEM}, W.IDLE: {EXPERT}, W.OFF_DUTY: {EXPERT}, W.BOOKED: {SYSTEM}},
    W.OFF_DUTY: {W.IDLE: {EXPERT}, W.AVAILABLE: {EXPERT}, W.RUSHING: {EXPERT}, W.BOOKED: {SYSTEM}},
    W.BOOKED: {W.IN_SERVICE: {SYSTEM}, W.AVAILABLE: {SYSTEM}},
    W.IN_SERVICE: {W.AVAILABLE: {SYSTEM}, W.BOOKED: {SYSTEM}},
}

WORK_STATUS = Transitions(WORK_MOVES, noun="An expert's work status", history="service.ExpertWorkStatusChange")

# The statuses an expert chooses; the others follow their work.
CHOSEN_WORK_STATUSES = (W.IDLE, W.AVAILABLE, W.RUSHING, W.OFF_DUTY)
# The statuses in which an expert can take on new work.
FREE_WORK_STATUSES = (W.AVAILABLE, W.RUSHING)

SERVICE_ORDER_MOVES = {
    S.PENDING: {S.ASSIGNED: {CUSTOMER, EXPERT}, S.CANCELLED: {CUSTOMER}},
    S.ASSIGNED: {S.IN_PROGRESS: {EXPERT}, S.PENDING: {EXPERT}, S.CANCELLED: {CUSTOMER}},
    S.IN_PROGRESS: {S.COMPLETED: {EXPERT}},
    S.COMPLETED: {},
    S.CANCELLED: {},
}

SERVICE_ORDER = Transitions(SERVICE_ORDER_MOVES, noun="A service order", history="service.ServiceOrderStatusChange")

# Orders an expert is holding (BOOKED or IN_SERVICE while any is open).
OPEN_FOR_EXPERT = (S.ASSIGNED, S.IN_PROGRESS)
