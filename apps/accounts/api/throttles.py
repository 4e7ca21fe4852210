"""Rate limits of the sign-in and password-reset endpoints (rates in settings.RATE_LIMITS)."""

from apps.core.throttling import IpRateThrottle, RequestFieldRateThrottle


class LoginIpThrottle(IpRateThrottle):
    scope = "login_ip"


class LoginAccountThrottle(RequestFieldRateThrottle):
    scope = "login_account"
    field = "email"


class ResetIpThrottle(IpRateThrottle):
    scope = "reset_ip"


class ResetAccountThrottle(RequestFieldRateThrottle):
    scope = "reset_account"
    field = "email"


LOGIN_THROTTLES = [LoginIpThrottle, LoginAccountThrottle]
RESET_THROTTLES = [ResetIpThrottle, ResetAccountThrottle]
