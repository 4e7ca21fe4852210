"""Rate limits of the sign-in and password-reset endpoints (rates in settings.RATE_LIMITS).

Each sign-in step is counted by what its own body carries: the address for
/auth/login, the signed challenge (and the account it was issued for) for
/auth/verify-2fa. A throttle keyed on a field the body does not have counts nothing.
"""

from apps.accounts.services import two_factor_challenge_claims
from apps.core.throttling import FixedWindowRateThrottle, IpRateThrottle, RequestFieldRateThrottle


class LoginIpThrottle(IpRateThrottle):
    scope = "login_ip"


class LoginAccountThrottle(RequestFieldRateThrottle):
    scope = "login_account"
    field = "email"


class _TwoFactorChallengeClaimThrottle(FixedWindowRateThrottle):
    """Counts /auth/verify-2fa by a claim of its signed challenge; a body without a genuine
    challenge is not counted (the view refuses it without trying any code)."""

    def get_identity(self, request, view) -> str | None:
        data = request.data
        claims = two_factor_challenge_claims(data.get("challenge") if hasattr(data, "get") else None)
        return self.identity_from(*claims) if claims else None

    def identity_from(self, user_id: str, nonce: str) -> str:
        raise NotImplementedError


class TwoFactorChallengeThrottle(_TwoFactorChallengeClaimThrottle):
    scope = "two_factor_challenge"

    def identity_from(self, user_id: str, nonce: str) -> str:
        return f"challenge:{nonce}"


class TwoFactorUserThrottle(_TwoFactorChallengeClaimThrottle):
    """Across every challenge of one account: signing in again gives a new challenge, not more tries."""

    scope = "two_factor_user"

    def identity_from(self, user_id: str, nonce: str) -> str:
        return f"user:{user_id}"


class ResetIpThrottle(IpRateThrottle):
    scope = "reset_ip"


class ResetAccountThrottle(RequestFieldRateThrottle):
    scope = "reset_account"
    field = "email"


LOGIN_THROTTLES = [LoginIpThrottle, LoginAccountThrottle]
# Not LOGIN_THROTTLES: its per-account throttle reads `email`, which a 2FA body has not.
TWO_FACTOR_THROTTLES = [LoginIpThrottle, TwoFactorChallengeThrottle, TwoFactorUserThrottle]
RESET_THROTTLES = [ResetIpThrottle, ResetAccountThrottle]
