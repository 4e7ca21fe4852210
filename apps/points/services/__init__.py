"""Every write of points and referrals, one function per use case (split by group, one façade here)."""

from apps.points.services.ledger import (
    NotEnoughPoints,
    Recorded,
    point_transaction_record,
    points_adjust,
    points_award_for_event,
)
from apps.points.services.referrals import (
    ReferralRefused,
    referral_claim,
    referral_code_forget,
    referral_code_get_or_create,
    referral_link,
    referral_organization_attach,
    referral_qualify,
    referral_qualify_for_order,
    referral_qualify_for_service_order,
    referral_reward,
    referral_sign_up_check,
    referral_sign_up_record,
)
from apps.points.services.rules import point_rule_create, point_rule_update

__all__ = [
    "NotEnoughPoints",
    "Recorded",
    "ReferralRefused",
    "point_rule_create",
    "point_rule_update",
    "point_transaction_record",
    "points_adjust",
    "points_award_for_event",
    "referral_claim",
    "referral_code_forget",
    "referral_code_get_or_create",
    "referral_link",
    "referral_organization_attach",
    "referral_qualify",
    "referral_qualify_for_order",
    "referral_qualify_for_service_order",
    "referral_reward",
    "referral_sign_up_check",
    "referral_sign_up_record",
]
