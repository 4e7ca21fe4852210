"""The KYC lifecycles: {from: {to, ...}}, checked by `apps.core.lifecycle`."""

from __future__ import annotations

from apps.core.lifecycle import Transitions
from apps.kyc.models import DocumentStatus as D
from apps.kyc.models import VerificationStatus as V

DOCUMENT = Transitions(
    {
        D.CHECKING: {D.PENDING_REVIEW, D.REJECTED},  # the automated checks decide
        D.PENDING_REVIEW: {D.APPROVED, D.REJECTED, D.SUPERSEDED},  # staff decide, or a new version replaces it
        D.APPROVED: {D.EXPIRED, D.SUPERSEDED},
        D.REJECTED: {D.SUPERSEDED},
        D.EXPIRED: {D.SUPERSEDED},
        D.SUPERSEDED: set(),
    },
    noun="A document",
    history="kyc.KycDocumentStatusChange",
)

VERIFICATION = Transitions(
    {
        V.NOT_STARTED: {V.PENDING},  # the first document
        V.PENDING: {V.IN_REVIEW},  # staff take the first decision
        V.IN_REVIEW: {V.VERIFIED, V.REJECTED, V.PENDING},
        V.REJECTED: {V.PENDING},  # a resubmission
        V.VERIFIED: {V.PENDING, V.IN_REVIEW},  # a required document expired, or more documents for a higher level
    },
    noun="A verification",
    history="kyc.VerificationStatusChange",
)
