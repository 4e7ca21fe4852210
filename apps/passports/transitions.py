"""Lifecycles of device passports: {from: {to: rule}} (apps.core.lifecycle).

The passport's table is one table for every lifecycle event: the rule of a move is the set of
event kinds that make it, so an event is legal exactly when the table has a move of its kind from
the device's status. `serviced` and `transferred` leave the status where it is (moves to itself).

    manufactured -> qc_passed | qc_failed                  (QC inspection)
    qc_failed    -> qc_passed | qc_failed                  (inspected again after rework)
    qc_passed    -> shipped | received | installed         (out of the factory)
    shipped      -> received | installed                   (arrives; or is installed on arrival)
    received     -> shipped | installed                    (from stock)
    installed    -> installed (serviced) | shipped | received (moved; taken back to stock)
    every status but decommissioned -> itself (transferred), decommissioned
    decommissioned: nothing (terminal)

Which role records which kind is `PERMISSION_OF_KIND`: QC by QC inspectors (passport:inspect),
installation and service by engineers (passport:service), the rest by operators (passport:manage).
"""

from __future__ import annotations

from apps.core.lifecycle import Transitions
from apps.passports.models import EventKind as K
from apps.passports.models import PassportStatus as S
from apps.passports.models import ServiceRequestStatus, TakeoverStatus

NOT_TERMINAL = [status for status in S.values if status != S.DECOMMISSIONED]

MOVES: dict[str, dict[str, set[str]]] = {
    S.MANUFACTURED: {S.QC_PASSED: {K.QC_PASSED}, S.QC_FAILED: {K.QC_FAILED}},
    S.QC_FAILED: {S.QC_PASSED: {K.QC_PASSED}, S.QC_FAILED: {K.QC_FAILED}},
    S.QC_PASSED: {S.SHIPPED: {K.SHIPPED}, S.RECEIVED: {K.RECEIVED}, S.INSTALLED: {K.INSTALLED}},
    S.SHIPPED: {S.RECEIVED: {K.RECEIVED}, S.INSTALLED: {K.INSTALLED}},
    S.RECEIVED: {S.SHIPPED: {K.SHIPPED}, S.INSTALLED: {K.INSTALLED}},
    S.INSTALLED: {S.INSTALLED: {K.SERVICED}, S.SHIPPED: {K.SHIPPED}, S.RECEIVED: {K.RECEIVED}},
    S.DECOMMISSIONED: {},
}
for _status in NOT_TERMINAL:
    MOVES[_status].setdefault(_status, set()).add(K.TRANSFERRED)
    MOVES[_status][S.DECOMMISSIONED] = {K.DECOMMISSIONED}


def _steps_allowed(current: str, target: str, allowed: list[str]) -> dict:
    """The 422 details: the steps the device may take from its status (moves are checked per
    kind of step, so the targets allowed to the refused kind alone would read "none")."""
    steps = sorted({kind for kinds in MOVES.get(current, {}).values() for kind in kinds} - SYSTEM_KINDS)
    return {"status": [f"Steps allowed from {current}: {', '.join(steps) or 'none'}."]}


PASSPORT = Transitions(MOVES, noun="A device passport", history="passports.PassportEvent", details=_steps_allowed)

# The status each kind leads to (None: the status stays).
STATUS_AFTER = {
    K.MANUFACTURED: S.MANUFACTURED,
    K.QC_PASSED: S.QC_PASSED,
    K.QC_FAILED: S.QC_FAILED,
    K.SHIPPED: S.SHIPPED,
    K.RECEIVED: S.RECEIVED,
    K.INSTALLED: S.INSTALLED,
    K.SERVICED: None,
    K.TRANSFERRED: None,
    K.DECOMMISSIONED: S.DECOMMISSIONED,
}
# The event a direct status change (PATCH /passports/{id}/status) records.
KIND_OF_STATUS = {status: kind for kind, status in STATUS_AFTER.items() if status is not None}

PERMISSION_OF_KIND = {
    K.MANUFACTURED: "passport:manage",
    K.QC_PASSED: "passport:inspect",
    K.QC_FAILED: "passport:inspect",
    K.SHIPPED: "passport:manage",
    K.RECEIVED: "passport:manage",
    K.INSTALLED: "passport:service",
    K.SERVICED: "passport:service",
    K.TRANSFERRED: "passport:manage",
    K.DECOMMISSIONED: "passport:manage",
}
# Recorded by the services themselves, never through the events endpoint: the first event comes
# with the passport, a transfer with an approved takeover.
SYSTEM_KINDS = frozenset({K.MANUFACTURED, K.TRANSFERRED})
# Not on the public page: a failed QC is the maker's business until the device passes.
PRIVATE_KINDS = frozenset({K.QC_FAILED})


def status_after(kind: str, current: str) -> str:
    after = STATUS_AFTER[kind]
    return current if after is None else after


T = TakeoverStatus
OWNER, CLAIMANT, STAFF = "owner", "claimant", "staff"
TAKEOVER = Transitions(
    {
        T.PENDING: {T.APPROVED: {OWNER, STAFF}, T.REJECTED: {OWNER, STAFF}, T.CANCELLED: {CLAIMANT}},
        T.APPROVED: {},
        T.REJECTED: {},
        T.CANCELLED: {},
    },
    noun="A takeover request",
    history="passports.TakeoverStatusChange",
)

R = ServiceRequestStatus
SERVICE_REQUEST = Transitions(
    {R.OPEN: {R.ACKNOWLEDGED, R.CLOSED}, R.ACKNOWLEDGED: {R.CLOSED}, R.CLOSED: {}},
    noun="A service request",
    history="passports.ServiceRequestStatusChange",
)
