"""Rate limits shared by every web process: DRF throttles on fixed-window counters in Redis.

A throttle names its rate by `scope`, a key of `settings.RATE_LIMITS` ("600/min",
"5/hour", "3/2s"; docs/rate-limits.md), and says whom a request counts against by
returning an identity from `get_identity` (None: this throttle does not apply). Over the
limit, DRF raises Throttled with the seconds left in the window: 429 RATE_LIMIT_EXCEEDED
in the envelope, with an integer Retry-After.

API-wide (REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]): ApiUserRateThrottle and
ApiIpRateThrottle. For one endpoint, subclass with the scope of its rate:

    from apps.core.throttling import IpRateThrottle, RequestFieldRateThrottle

    class LoginIpThrottle(IpRateThrottle):
        scope = "login_ip"

    class LoginAccountThrottle(RequestFieldRateThrottle):
        scope = "login_account"
        field = "email"

    class LoginView(APIView):
        permission_classes = [AllowAny]
        throttle_classes = [LoginIpThrottle, LoginAccountThrottle]

`throttle_classes` replaces the defaults, so list every throttle the view needs. A new
scope is one more line in RATE_LIMITS (config/settings/base.py).

Why not DRF's SimpleRateThrottle: it reads a list of request timestamps from the cache,
appends and writes it back. Two processes doing that at once lose each other's requests
(get/set is not atomic), and the list, and so every request's cache traffic, grows with
the limit. Here a request is one atomic INCR of one integer per window.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework.throttling import BaseThrottle

from apps.core.network import client_ip

logger = logging.getLogger(__name__)

UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}
RATE_PATTERN = re.compile(r"^\s*(?P<limit>\d+)\s*/\s*(?P<count>\d*)\s*(?P<unit>[a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int  # requests allowed per window
    window: int  # seconds


@functools.lru_cache(maxsize=128)
def parse_rate(text: str) -> Rate:
    """ "N/unit" or "N/Kunit" (a window of K units): "600/min", "5/hour", "3/2s"."""
    match = RATE_PATTERN.match(text.lower())
    if match is None or match["unit"] not in UNIT_SECONDS or match["count"] == "0":
        raise ImproperlyConfigured(
            f"Rate {text!r}: expected 'N/unit' or 'N/Kunit' with unit one of {', '.join(UNIT_SECONDS)}."
        )
    return Rate(limit=int(match["limit"]), window=int(match["count"] or 1) * UNIT_SECONDS[match["unit"]])


class FixedWindowRateThrottle(BaseThrottle):
    """Allows `limit` requests per identity in each window of the scope's rate.

    Windows are aligned to the epoch (a "/min" window is a clock minute), and the window
    number is part of the key: a new window starts a new counter, and the old key expires
    on its own. Up to twice the limit can pass across a window edge (the end of one and the
    start of the next); the price of one integer per identity instead of a log of requests.
    """

    scope: str = ""
    # Redis down: let the request through (with a warning) rather than refuse it. The
    # limiter guards against abuse; turning a Redis outage into a full API outage would do
    # the abuser's work. Set False on a throttle whose endpoint must rather fail (503).
    fail_open: bool = True

    def get_identity(self, request, view) -> str | None:
        """Who this request counts against, or None when the throttle does not apply."""
        raise NotImplementedError

    def get_rate(self) -> Rate:
        rates = getattr(settings, "RATE_LIMITS", {})  # read per request: tests override it
        if self.scope not in rates:
            raise ImproperlyConfigured(f"{type(self).__name__}: no RATE_LIMITS entry for scope {self.scope!r}.")
        return parse_rate(rates[self.scope])

    def allow_request(self, request, view) -> bool:
        self.seconds_to_window_end = None
        identity = self.get_identity(request, view)
        if identity is None:
            return True
        rate = self.get_rate()
        now = time.time()
        window_number = int(now // rate.window)
        key = f"throttle:{self.scope}:{rate.window}:{window_number}:{identity}"
        try:
            count = self._count_hit(key, rate.window)
        except (RedisConnectionError, RedisTimeoutError) as error:
            if not self.fail_open:
                raise
            logger.warning("throttle.backend_unavailable", extra={"scope": self.scope, "error": repr(error)})
            return True
        if count <= rate.limit:
            return True
        self.seconds_to_window_end = (window_number + 1) * rate.window - now
        return False

    def wait(self) -> float | None:
        return self.seconds_to_window_end

    @staticmethod
    def _count_hit(key: str, window: int) -> int:
        # The key outlives its window by a second, so it cannot expire between the creation
        # and the increment of a request still inside the window.
        return cache.incr_from_zero(key, timeout=window + 1)


class ApiUserRateThrottle(FixedWindowRateThrottle):
    """Every API request of an authenticated user, by user id."""

    scope = "api_user"

    def get_identity(self, request, view) -> str | None:
        user = request.user
        return str(user.pk) if user is not None and user.is_authenticated else None


class IpRateThrottle(FixedWindowRateThrottle):
    """Every request by client IP (apps.core.network.client_ip). Abstract: subclass with a `scope`.

    Behind a reverse proxy, name it in TRUSTED_PROXIES, or every caller shares the proxy's
    counter (docs/rate-limits.md "Behind a proxy"); X-Forwarded-For from anyone else is ignored.
    """

    def get_identity(self, request, view) -> str | None:
        return client_ip(request)


class ApiIpRateThrottle(IpRateThrottle):
    """Anonymous API requests by client IP.

    Authenticated requests count per user instead: many users share an office's address.
    DRF checks throttles after permissions, so this limits the endpoints that admit
    anonymous callers (sign-in, reset, schema); elsewhere they get 401 first.
    """

    scope = "api_ip"

    def get_identity(self, request, view) -> str | None:
        if request.user is not None and request.user.is_authenticated:
            return None
        return super().get_identity(request, view)


class RequestFieldRateThrottle(FixedWindowRateThrottle):
    """Requests by one field of the request body (e.g. the email being signed in), whoever sends them.

    The value is normalized (stripped, lower-cased), so spellings of one address share a
    counter, and keyed (HMAC-SHA256 with SECRET_KEY) before it reaches Redis, so no address
    is stored in clear. A body without the field is not counted: the view rejects it anyway.
    Abstract: subclass with a `scope` and a `field`.
    """

    field: str = ""

    def get_identity(self, request, view) -> str | None:
        data = request.data
        value = data.get(self.field) if hasattr(data, "get") else None
        if not isinstance(value, str) or not value.strip():
            return None
        normalized = value.strip().lower()
        return salted_hmac("apps.core.throttling", normalized, algorithm="sha256").hexdigest()


class _ServiceRateLimit(FixedWindowRateThrottle):
    """One identity's counter of one scope, counted outside a DRF request."""

    def __init__(self, *, scope: str, identity: str):
        self.scope = scope
        self.identity = identity

    def get_identity(self, request, view) -> str | None:
        return self.identity


def rate_limit_consume(*, scope: str, identity: str) -> float | None:
    """Count one use of `scope` (a RATE_LIMITS key) by `identity`, as the throttles do; the
    seconds left in the window when this use is over the limit, else None.

    For limits a service enforces itself, so that every way in (REST, WebSocket) shares one
    counter; the service turns an answer into apps.core.errors.RateLimited."""
    limit = _ServiceRateLimit(scope=scope, identity=identity)
    return None if limit.allow_request(None, None) else limit.wait()
