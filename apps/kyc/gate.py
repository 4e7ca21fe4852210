"""The KYC gate other contexts call before money and trade: `require_verified`.

Which actions are gated is configuration (settings.KYC_GATED_ACTIONS). Call sites:
- now: switching the `escrow` feature on (apps.tenancy.services.feature_set_enabled,
  action "feature.escrow.enable"), registered as the feature's precondition in apps.kyc.apps;
- the marketplace issue: submitting an offer ("offer.submit"), accepting one
  ("offer.accept"), booking an instant quote ("booking.create", the shipper) and confirming
  the booking ("booking.confirm", the carrier), publishing a listing ("listing.publish"), with the acting
  organization;
- the escrow issue: funding ("escrow.fund", the payer) and releasing ("escrow.release",
  the payee) an escrow.
"""

from __future__ import annotations

from functools import partial
from uuid import UUID

from django.conf import settings

from apps.core.context import current_organization_id, system_scope
from apps.core.errors import DomainError, ErrorCode
from apps.kyc.models import OrganizationVerification, VerificationStatus
from apps.tenancy.features import FeaturePrecondition


class KycNotVerified(DomainError):
    status_code = 422
    code = ErrorCode.KYC_NOT_VERIFIED


def is_verified(*, organization_id: UUID) -> bool:
    """Whether the organization passed KYC, whichever tenant asks: releasing an escrow checks
    the supplier, and the client releases. Read-only and a yes or no, so a counterparty's
    verification row is read without an audit row; the current tenant's own is read as usual."""
    verified = OrganizationVerification.objects.filter(
        organization_id=organization_id, status=VerificationStatus.VERIFIED
    )
    if organization_id == current_organization_id():
        return verified.exists()
    with system_scope(reason="KYC status of a counterparty", audit=False):
        return verified.exists()


def is_allowed(*, organization_id: UUID, action: str) -> bool:
    """Whether the organization may take `action`: it is not gated, or the organization is verified."""
    return action not in settings.KYC_GATED_ACTIONS or is_verified(organization_id=organization_id)


def require_verified(*, organization_id: UUID, action: str) -> None:
    """Raise 422 KYC_NOT_VERIFIED when `action` is gated and the organization is not verified."""
    if not is_allowed(organization_id=organization_id, action=action):
        raise KycNotVerified(
            "The organization must pass KYC verification first (see GET /api/v1/kyc/verification-status).",
            details={"action": action},
        )


def feature_gate(name: str):
    """The KYC gate as a precondition of switching the feature `name` on (action
    `feature.<name>.enable`, gated when settings.KYC_GATED_ACTIONS lists it: escrow's by default)."""
    action = f"feature.{name}.enable"
    return FeaturePrecondition(
        allows=partial(is_allowed, action=action),
        require=partial(require_verified, action=action),
    )
