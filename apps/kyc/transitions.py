"""The KYC lifecycles: {from: {to, ...}}, checked in one place (`check_transition`)."""

from __future__ import annotations

from apps.core.errors import ErrorCode, InvalidStateTransition
from apps.kyc.models import DocumentStatus as D
from apps.kyc.models import VerificationStatus as V

DOCUMENT = {
    D.CHECKING: {D.PENDING_REVIEW, D.REJECTED},  # the automated checks decide
    D.PENDING_REVIEW: {D.APPROVED, D.REJECTED, D.SUPERSEDED},  # staff decide, or a new version replaces it
    D.APPROVED: {D.EXPIRED, D.SUPERSEDED},
    D.REJECTED: {D.SUPERSEDED},
    D.EXPIRED: {D.SUPERSEDED},
    D.SUPERSEDED: set(),
}

VERIFICATION = {
    V.NOT_STARTED: {V.PENDING},  # the first document
    V.PENDING: {V.IN_REVIEW},  # staff take the first decision
    V.IN_REVIEW: {V.VERIFIED, V.REJECTED, V.PENDING},
    V.REJECTED: {V.PENDING},  # a resubmission
    V.VERIFIED: {V.PENDING, V.IN_REVIEW},  # a required document expired, or more documents for a higher level
}


def check_transition(table: dict, current: str, target: str, *, what: str) -> None:
    if target not in table.get(current, set()):
        raise InvalidStateTransition(
            f"A {what} cannot go from {current} to {target}.",
            code=ErrorCode.INVALID_STATE_TRANSITION,
            details={"status": [f"Allowed from {current}: {', '.join(sorted(table.get(current, ()))) or 'none'}."]},
        )
