"""The referral's lifecycle: PENDING until the referred organization completes its first order
(QUALIFIED), then REWARDED once the referrer's points are recorded; REFUSED when the referral
turns out to be a self-referral or a loop (found when the organization becomes known)."""

from apps.core.lifecycle import Transitions
from apps.points.models import ReferralStatus as S

REFERRAL = Transitions(
    {
        S.PENDING: {S.QUALIFIED, S.REFUSED},
        S.QUALIFIED: {S.REWARDED},
        S.REWARDED: set(),
        S.REFUSED: set(),
    },
    noun="A referral",
    history="points.ReferralStatusChange",
)
