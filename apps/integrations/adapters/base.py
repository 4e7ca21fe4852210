"""What the synchronizer asks of a platform, whichever it is (the connector pattern: adapter,
mapper, binder, synchronizer; seed 004's `PlatformConnectorInterface`).

An adapter speaks one platform's API over real HTTP: its request signing, its pagination, its
rate limits and error codes. It reads raw platform orders (`iter_orders`, `fetch_order`), maps
one to a `NormalizedOrder` (`normalize`, the mapper: it raises `MalformedOrder` rather than guess),
pushes a fulfilment back (`update_order_status`) and checks the platform's webhooks (class
methods: the shop is known only once the webhook names it).

Errors say what the synchronizer should do next: ask again later (`PlatformUnavailable`,
`PlatformRateLimited`), refresh the access token and ask again once (`PlatformAuthExpired`), or
count a failure that asking again will not mend (`PlatformRejected`). Their messages never carry
a credential, a signed URL or a token.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlencode

import iso4217
from django.conf import settings

from apps.core import outbound
from apps.core.task_bases import TransientError

# --- The unified shape a platform order is mapped to ------------------------------------------


@dataclass(frozen=True)
class Customer:
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class NormalizedItem:
    external_id: str
    name: str
    quantity: int
    unit_price: Decimal
    currency: str
    sku: str = ""


@dataclass(frozen=True)
class NormalizedOrder:
    """A platform order in our terms. Money is Decimal in its currency, times are aware UTC;
    `status` is ours (apps.orders OrderStatus values) or "" when the platform's status says
    nothing about ours (Shopee's IN_CANCEL: the order stays where it is); `platform_status` is
    the platform's own, kept as it came."""

    external_id: str
    platform_status: str
    status: str
    created_at: datetime
    updated_at: datetime
    currency: str
    total_amount: Decimal
    items: tuple[NormalizedItem, ...]
    is_paid: bool
    customer: Customer = field(default_factory=Customer)
    shipping_address: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def content_hash(self) -> str:
        """SHA-256 of everything but the raw payload and the platform's update time: equal when
        the platform changed nothing we keep (a re-sync of an unchanged order then writes
        nothing, nor does an update that only moved the platform's clock)."""
        content = asdict(self)
        content.pop("raw")
        content.pop("updated_at")
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


class MalformedOrder(Exception):
    """The platform order cannot be imported as it is: quarantined with `reason`."""

    def __init__(self, reason: str, *, external_id: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.external_id = external_id


@dataclass(frozen=True)
class ShopInfo:
    """What validating credentials learned of the shop."""

    shop_id: str
    name: str = ""


@dataclass(frozen=True)
class WebhookNotice:
    """What a verified webhook says: its key (applied once), its topic, the order it names ("" when
    it names none: a topic we do not act on)."""

    dedupe_key: str
    topic: str
    external_order_id: str


@dataclass(frozen=True)
class RefreshedCredentials:
    credentials: dict
    access_token_expires_at: datetime | None


# --- Errors -------------------------------------------------------------------------------------


class PlatformError(Exception):
    code: ClassVar[str] = "PLATFORM_ERROR"


class PlatformUnavailable(PlatformError, TransientError):
    """Unreachable, timed out, 5xx or unreadable, after the retries of one run. Ask again later."""

    code = "PLATFORM_UNAVAILABLE"


class PlatformRateLimited(PlatformUnavailable):
    """429 (or the platform's own throttling code) after the retries of one run; `retry_after`:
    the seconds the platform asked us to wait, or None."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PlatformAuthExpired(PlatformError):
    """The access token expired or was revoked: refresh it (where the platform can) and ask again once."""

    code = "AUTH_EXPIRED"


class PlatformRejected(PlatformError):
    """The platform refused for good: bad credentials, a malformed request, an unknown order."""

    code = "REJECTED"

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


# --- HTTP with backoff -------------------------------------------------------------------------

_jitter = random.SystemRandom()


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with jitter: base * 2^attempt, at most `cap`, then between half of it and all of it."""
    delay = min(cap, base * (2**attempt))
    return delay / 2 + _jitter.uniform(0, delay / 2)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds; None when absent or not a number of seconds."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; PlatformUnavailable when it is not (a proxy's error page)."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise PlatformUnavailable(f"The platform answered {self.status} with a body that is not JSON.") from None


class PlatformHttp:
    """Requests to a platform through apps.core.outbound (no redirects, capped bodies, SSRF
    checks on the host), each retried on 429, 5xx and lost connections with exponential backoff
    and jitter, or the platform's Retry-After when it gives one. `retries` counts the requests
    asked again (the sync log shows it)."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep):
        self.sleep = sleep
        self.retries = 0
        options = settings.INTEGRATIONS
        self.attempts = max(1, options["REQUEST_ATTEMPTS"])
        self.base = options["BACKOFF_BASE_SECONDS"]
        self.cap = options["BACKOFF_MAX_SECONDS"]
        self.retry_after_max = options["RETRY_AFTER_MAX_SECONDS"]

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Callable[[], Mapping[str, Any]] | Mapping[str, Any] | None = None,
        headers: Callable[[], Mapping[str, str]] | Mapping[str, str] | None = None,
        body: bytes | None = None,
        throttled: Callable[[HttpResponse], bool] | None = None,
    ) -> HttpResponse:
        """Send until an answer that is neither a 429, a 5xx nor `throttled`. `params` and
        `headers` may be callables: called again for each attempt, so that a signature over a
        timestamp is fresh. The answer's status is the caller's to judge (4xx included)."""
        attempt = 0
        while True:
            query = params() if callable(params) else (params or {})
            request_headers = dict(headers() if callable(headers) else (headers or {}))
            target = f"{url}?{urlencode(query)}" if query else url
            try:
                answer = outbound.request(
                    method,
                    target,
                    body=body,
                    headers=request_headers,
                    max_response_bytes=settings.INTEGRATIONS["MAX_RESPONSE_BYTES"],
                )
            except outbound.OutboundFailed:
                response, wait, error = None, None, PlatformUnavailable("The platform could not be reached.")
            except outbound.OutboundRefused:
                raise PlatformRejected("The platform's address is not allowed.") from None
            else:
                if answer.truncated:
                    raise PlatformUnavailable("The platform's answer was larger than we accept.")
                response = HttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
                if response.status == 429 or (throttled is not None and throttled(response)):
                    wait = retry_after_seconds(response.headers.get("retry-after"))
                    error = PlatformRateLimited("The platform is rate limiting us.", retry_after=wait)
                elif response.status >= 500:
                    wait, error = None, PlatformUnavailable(f"The platform answered {response.status}.")
                else:
                    return response
            if wait is not None and wait > self.retry_after_max:
                raise error  # the synchronizer schedules the next run after it
            attempt += 1
            if attempt >= self.attempts:
                raise error
            self.retries += 1
            self.sleep(wait if wait is not None else backoff_seconds(attempt - 1, base=self.base, cap=self.cap))


# --- Normalization helpers the mappers share ---------------------------------------------------


def money(value: Any, *, what: str, external_id: str = "") -> Decimal:
    """A Decimal from a JSON number or a string ("409.94", 409.94, 40994 with no cents): exact, as
    written (a float goes through its shortest repr, never its binary value)."""
    if isinstance(value, bool) or value is None or value == "":
        raise MalformedOrder(f"{what} is missing.", external_id=external_id)
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MalformedOrder(f"{what} is not an amount: {str(value)[:40]!r}.", external_id=external_id) from None
    if not amount.is_finite() or amount < 0:
        raise MalformedOrder(f"{what} is not a positive amount: {str(value)[:40]!r}.", external_id=external_id)
    return amount


def currency_code(value: Any, *, external_id: str = "") -> str:
    code = str(value or "").strip().upper()
    try:
        iso4217.Currency(code)
    except ValueError:
        raise MalformedOrder(f"Unknown currency {code[:10]!r}.", external_id=external_id) from None
    return code


def quantity(value: Any, *, external_id: str = "") -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise MalformedOrder(
            f"Item quantity is not a whole number: {str(value)[:20]!r}.", external_id=external_id
        ) from None
    if number < 1:
        raise MalformedOrder(f"Item quantity {number} is below 1.", external_id=external_id)
    return number


def utc_from_unix(value: Any, *, what: str, milliseconds: bool = False, external_id: str = "") -> datetime:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise MalformedOrder(f"{what} is not a unix time: {str(value)[:30]!r}.", external_id=external_id) from None
    return datetime.fromtimestamp(number / 1000 if milliseconds else number, tz=UTC)


def utc_from_iso(value: Any, *, what: str, external_id: str = "") -> datetime:
    """An ISO 8601 time that carries its offset, in UTC; a time without offset is malformed
    (which zone it meant is a guess)."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedOrder(f"{what} is missing.", external_id=external_id)
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Lazada writes "2026-12-01 10:00:00 +0800".
        try:
            moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise MalformedOrder(f"{what} is not an ISO 8601 time: {value[:40]!r}.", external_id=external_id) from None
    if moment.tzinfo is None:
        raise MalformedOrder(f"{what} has no UTC offset: {value[:40]!r}.", external_id=external_id)
    return moment.astimezone(UTC)


def one_currency(items: list[NormalizedItem], *, external_id: str = "") -> str:
    """The order's currency from its items' (Lazada has none at the order level); items in two
    currencies are malformed: no exchange rate of ours decides what the buyer paid."""
    currencies = {item.currency for item in items}
    if len(currencies) != 1:
        raise MalformedOrder(
            f"The items are in {len(currencies)} currencies ({', '.join(sorted(currencies)) or 'none'}).",
            external_id=external_id,
        )
    return currencies.pop()


def text(value: Any, limit: int) -> str:
    return str(value if value is not None else "").strip()[:limit]


# --- The adapter -------------------------------------------------------------------------------


class PlatformAdapter(ABC):
    """One platform's API for one shop. `credentials` are the shop's (decrypted), `base_url`
    where the platform answers (settings INTEGRATIONS["PLATFORMS"]). Not shared between threads."""

    platform: ClassVar[str]
    # The fields a shop's credentials must have to connect it, and the optional ones.
    credential_fields: ClassVar[tuple[str, ...]]
    optional_credential_fields: ClassVar[tuple[str, ...]] = ()
    # Whether the platform's access tokens expire and can be refreshed (Shopify's offline tokens do not).
    refreshes_tokens: ClassVar[bool] = False

    def __init__(self, *, shop_id: str, credentials: Mapping[str, Any], options: Mapping[str, Any], http=None):
        self.shop_id = shop_id
        self.credentials = dict(credentials)
        self.options = options
        self.http = http or PlatformHttp()

    # Connecting and tokens.

    @abstractmethod
    def validate_credentials(self) -> ShopInfo:
        """Call the platform with the credentials (a cheap authenticated read); PlatformRejected
        when it refuses them."""

    def refresh_credentials(self) -> RefreshedCredentials:
        """New credentials with a fresh access token (the refresh token may change too)."""
        raise PlatformAuthExpired("The platform's access token expired and it cannot be refreshed.")

    # Reading orders.

    @abstractmethod
    def iter_orders(self, *, updated_from: datetime, updated_to: datetime) -> Iterator[list[dict]]:
        """The shop's orders updated in [updated_from, updated_to], page by page to the end, each
        a raw platform payload with its details (items, amounts, address). An order may come
        twice (pages that move under us, windows that overlap): the binder applies it once."""

    @abstractmethod
    def fetch_order(self, external_id: str) -> dict | None:
        """One order's raw payload, or None when the platform does not know it."""

    @abstractmethod
    def external_id_of(self, raw: Mapping[str, Any]) -> str:
        """The platform's id of a raw order, even a malformed one ("" when it has none)."""

    @abstractmethod
    def normalize(self, raw: Mapping[str, Any]) -> NormalizedOrder:
        """The mapper: MalformedOrder when the order cannot be imported as it is."""

    # Writing back.

    @abstractmethod
    def update_order_status(self, *, external_id: str, status: str, tracking_number: str, carrier: str) -> None:
        """Tell the platform our order moved; `status` is ours (in_transit: shipped, with the
        tracking number). PlatformRejected when the platform refuses."""

    @abstractmethod
    def register_webhooks(self, *, callback_url: str) -> None:
        """Subscribe the shop's order webhooks to `callback_url` (where the platform lets an API do it)."""

    # Webhooks: class methods, the shop is known only from the request.

    @classmethod
    @abstractmethod
    def webhook_shop_id(cls, *, headers: Mapping[str, str], body: bytes) -> str:
        """The shop the webhook claims to come from ("" when it names none). Not yet trusted."""

    @classmethod
    @abstractmethod
    def webhook_verify(
        cls, *, credentials: Mapping[str, Any], headers: Mapping[str, str], body: bytes, url: str
    ) -> bool:
        """Whether the signature over the raw body is the platform's, compared in constant time.
        `headers` have lower-case names; `url` is the callback URL the platform called."""

    @classmethod
    @abstractmethod
    def webhook_notice(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        """What a verified webhook says (its key, topic and order)."""


def body_digest(body: bytes) -> str:
    """The dedupe key of a webhook whose platform gives no event id: the same body is the same event."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
