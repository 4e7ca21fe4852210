"""Lazada Open Platform: the adapter of one seller (shop_id is Lazada's seller id).

What Lazada asks of a client, and where this module answers it:
- every call is signed (`request_signature`): app_key, timestamp in ms, sign_method=sha256,
  access_token, and `sign`, the UPPERCASE hex HMAC-SHA256 (app secret) of the API path followed
  by every other parameter sorted by name as name+value. Each retry is signed afresh.
- answers come in an envelope {"code": "0", "data", "request_id"}, errors mostly with HTTP 200:
  IllegalAccessToken means the token expired (refresh it), ApiCallLimit is a 429 in disguise.
- `GET /orders/get` pages by offset, at most 100 a page and an offset of at most 5,000: past it
  the window moves up to the last update read (offset 0 again), as Lazada's guide says to.
- an order has no currency: its items do, from `GET /orders/items/get` (50 orders a call), one
  row per unit bought; rows with the same SKU and price are one line with a quantity here.
- amounts are strings or numbers, strings sometimes with a thousands separator ("1,409.94").
- pushes (Lazada Push Mechanism) carry Authorization = hex HMAC-SHA256(app secret, app key + raw
  body), and no event id: the body's digest is the dedupe key.
- push URLs are set in Lazada's app console, not by an API: `register_webhooks` does nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.utils import timezone

from apps.integrations.adapters.base import (
    Customer,
    HttpResponse,
    MalformedOrder,
    NormalizedItem,
    NormalizedOrder,
    PlatformAdapter,
    PlatformAuthExpired,
    PlatformRejected,
    PlatformUnavailable,
    RefreshedCredentials,
    ShopInfo,
    WebhookNotice,
    body_digest,
    currency_code,
    money,
    one_currency,
    text,
    utc_from_iso,
)

PAGE_SIZE = 100
OFFSET_MAX = 5000
ITEM_BATCH = 50
SHIPPED = "in_transit"

# Lazada's status of an order's items → ours; "" says nothing about ours (the raw is kept).
STATUS_MAP = {
    "unpaid": "pending",
    "pending": "confirmed",
    "packed": "confirmed",
    "topack": "confirmed",
    "toship": "confirmed",
    "ready_to_ship": "confirmed",
    "shipped": "in_transit",
    "delivered": "delivered",
    "canceled": "cancelled",
}
# Ours, in the order an order moves: an order whose items differ is where its slowest item is.
PROGRESS = ("pending", "confirmed", "in_transit", "delivered")
CANCELLED = "cancelled"
# Item statuses from which the seller may still declare the items ready to ship.
SHIPPABLE = frozenset({"pending", "packed", "topack", "toship"})
ALREADY_SHIPPING = frozenset({"ready_to_ship", "shipped", "delivered"})

EXPIRED_TOKEN_CODES = frozenset({"IllegalAccessToken"})
THROTTLED_CODES = frozenset({"ApiCallLimit"})
ORDER_NOT_FOUND_CODE = "16"  # E016: Invalid Order ID
THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


class LazadaRejected(PlatformRejected):
    """A refusal with Lazada's own error code (e.g. "16": no such order)."""

    def __init__(self, message: str, *, status_code: int | None = None, lazada_code: str = ""):
        super().__init__(message, status_code=status_code)
        self.lazada_code = lazada_code


def request_signature(app_secret: str, api_path: str, params: Mapping[str, Any]) -> str:
    """Lazada's documented recipe: UPPERCASE hex HMAC-SHA256 of the API path + each parameter
    but `sign`, sorted by name, as name+value."""
    text_to_sign = api_path + "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hmac.new(app_secret.encode(), text_to_sign.encode(), hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """Lazada Push Mechanism's Authorization header: hex HMAC-SHA256 of app key + raw body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def lazada_amount(value: Any, *, what: str, external_id: str = "") -> Decimal:
    """A Decimal from Lazada's number or string, "1,409.94" included (a comma between groups of
    three digits is a thousands separator; any other comma is malformed, not guessed)."""
    if isinstance(value, str) and THOUSANDS.fullmatch(value.strip()):
        value = value.strip().replace(",", "")
    return money(value, what=what, external_id=external_id)


def _full_name(first: Any, last: Any) -> str:
    return text(f"{text(first, 100)} {text(last, 100)}", 200)


def _iso_seconds(moment: datetime, *, round_up: bool = False) -> str:
    """ISO 8601 with its offset, to the second (Lazada's filters are to the second)."""
    moment = moment.astimezone(UTC)
    whole = moment.replace(microsecond=0)
    if round_up and whole < moment:
        whole += timedelta(seconds=1)
    return whole.isoformat()


def _is_throttled(response: HttpResponse) -> bool:
    # A throttled answer is small: look for the code before parsing a page of orders.
    if not any(code.encode() in response.body[:2048] for code in THROTTLED_CODES):
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    return isinstance(body, dict) and str(body.get("code", "")) in THROTTLED_CODES


class LazadaAdapter(PlatformAdapter):
    platform: ClassVar[str] = "lazada"
    credential_fields: ClassVar[tuple[str, ...]] = ("app_key", "app_secret", "access_token", "refresh_token")
    refreshes_tokens: ClassVar[bool] = True

    # --- Calls --------------------------------------------------------------------------------

    def _signed(self, api_path: str, params: Mapping[str, str], *, with_token: bool) -> Callable[[], dict]:
        """The query of one attempt: the system parameters with a fresh timestamp, signed over
        them and `params` (which a POST sends in its body)."""

        def build() -> dict:
            system = {
                "app_key": self.credentials["app_key"],
                "timestamp": str(int(time.time() * 1000)),
                "sign_method": "sha256",
            }
            if with_token:
                system["access_token"] = self.credentials["access_token"]
            system["sign"] = request_signature(self.credentials["app_secret"], api_path, {**system, **params})
            return system

        return build

    def _scrubbed(self, message: str) -> str:
        """The platform's message without any credential it may have echoed back."""
        for value in self.credentials.values():
            if isinstance(value, str) and len(value) >= 4:
                message = message.replace(value, "[redacted]")
        return message[:200]

    def _call(
        self,
        api_path: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        base_url: str | None = None,
        with_token: bool = True,
    ) -> dict:
        """One API call; the whole answer once its code is "0". PlatformAuthExpired for an expired
        token, PlatformRejected for any other refusal (its code and message, never a credential)."""
        params = {name: str(value) for name, value in (params or {}).items()}
        url = (base_url or self.options["BASE_URL"]).rstrip("/") + api_path
        if method == "POST":
            body = urlencode(params).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            query = self._signed(api_path, params, with_token=with_token)
        else:
            body, headers = None, None

            def query() -> dict:
                return {**params, **self._signed(api_path, params, with_token=with_token)()}

        response = self.http.send(method, url, params=query, headers=headers, body=body, throttled=_is_throttled)
        answer = response.json()
        if not isinstance(answer, dict):
            raise PlatformUnavailable(f"Lazada answered {api_path} with something that is not its envelope.")
        code = str(answer.get("code", ""))
        if code == "0" and response.status < 400:
            return answer
        message = self._scrubbed(str(answer.get("message") or ""))
        if code in EXPIRED_TOKEN_CODES:
            raise PlatformAuthExpired(f"Lazada refused the access token ({code}).")
        raise LazadaRejected(
            f"Lazada refused {api_path}: {code or response.status} {message}".strip(),
            status_code=response.status,
            lazada_code=code,
        )

    # --- Connecting and tokens ------------------------------------------------------------------

    def validate_credentials(self) -> ShopInfo:
        seller = self._call("/seller/get").get("data") or {}
        seller_id = str(seller.get("seller_id", ""))
        if seller_id != self.shop_id:
            raise PlatformRejected("The access token is for another Lazada seller than this shop.")
        return ShopInfo(shop_id=seller_id, name=text(seller.get("name"), 200))

    def refresh_credentials(self) -> RefreshedCredentials:
        answer = self._call(
            "/auth/token/refresh",
            {"refresh_token": self.credentials["refresh_token"]},
            base_url=self.options["AUTH_URL"],
            with_token=False,
        )
        access_token, refresh_token = answer.get("access_token"), answer.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise PlatformUnavailable("Lazada's token refresh answered without an access token.")
        try:
            lifetime = int(answer.get("expires_in"))
        except (TypeError, ValueError):
            lifetime = None
        credentials = {**self.credentials, "access_token": access_token}
        if isinstance(refresh_token, str) and refresh_token:
            credentials["refresh_token"] = refresh_token  # Lazada may rotate it, or keep it
        return RefreshedCredentials(
            credentials=credentials,
            access_token_expires_at=timezone.now() + timedelta(seconds=lifetime) if lifetime else None,
        )

    # --- Reading orders -------------------------------------------------------------------------

    def iter_orders(self, *, updated_from: datetime, updated_to: datetime) -> Iterator[list[dict]]:
        """Pages by offset to the cap, then moves the window's start to the last update read and
        pages again from offset 0: the orders updated in that second come twice, none is missed."""
        after, before, offset = updated_from, _iso_seconds(updated_to, round_up=True), 0
        while True:
            data = (
                self._call(
                    "/orders/get",
                    {
                        "update_after": _iso_seconds(after),
                        "update_before": before,
                        "sort_by": "updated_at",
                        "sort_direction": "ASC",
                        "offset": offset,
                        "limit": PAGE_SIZE,
                    },
                ).get("data")
                or {}
            )
            orders = [order for order in data.get("orders") or [] if isinstance(order, dict)]
            if orders:
                yield self._with_items(orders)
            try:
                total = int(data.get("countTotal"))
            except (TypeError, ValueError):
                total = math.inf
            if len(orders) < PAGE_SIZE or offset + len(orders) >= total:
                return
            if offset + PAGE_SIZE <= OFFSET_MAX:
                offset += PAGE_SIZE
                continue
            last = self._last_update(orders)
            if last <= after:
                raise PlatformRejected(
                    f"More than {OFFSET_MAX + PAGE_SIZE} Lazada orders were updated in one second; "
                    "Lazada's offset cap cannot page past them."
                )
            after, offset = last, 0

    @staticmethod
    def _last_update(orders: list[dict]) -> datetime:
        moments = []
        for order in orders:
            try:
                moments.append(utc_from_iso(order.get("updated_at"), what="updated_at"))
            except MalformedOrder:
                continue
        if not moments:
            raise PlatformRejected("Lazada sent a full page of orders without one readable updated_at.")
        return max(moments)

    def _with_items(self, orders: list[dict]) -> list[dict]:
        """The orders, each with its item rows under "order_items" (fetched 50 orders a call)."""
        rows: dict[str, list] = {}
        order_ids = [str(order.get("order_id")) for order in orders if order.get("order_id") not in (None, "")]
        for start in range(0, len(order_ids), ITEM_BATCH):
            batch = order_ids[start : start + ITEM_BATCH]
            listed = self._call("/orders/items/get", {"order_ids": "[" + ",".join(batch) + "]"}).get("data") or []
            for entry in listed:
                if isinstance(entry, dict):
                    rows[str(entry.get("order_id"))] = entry.get("order_items") or []
        return [{**order, "order_items": rows.get(str(order.get("order_id")), [])} for order in orders]

    def fetch_order(self, external_id: str) -> dict | None:
        try:
            order = self._call("/order/get", {"order_id": external_id}).get("data")
        except LazadaRejected as error:
            if error.lazada_code == ORDER_NOT_FOUND_CODE:
                return None
            raise
        if not isinstance(order, dict) or not order:
            return None
        items = self._call("/order/items/get", {"order_id": external_id}).get("data") or []
        return {**order, "order_items": items}

    def external_id_of(self, raw: Mapping[str, Any]) -> str:
        value = raw.get("order_id")
        return "" if value is None else str(value).strip()

    # --- The mapper ------------------------------------------------------------------------------

    def normalize(self, raw: Mapping[str, Any]) -> NormalizedOrder:
        external_id = self.external_id_of(raw)
        if not external_id:
            raise MalformedOrder("The order has no order_id.")
        statuses = raw.get("statuses")
        if not isinstance(statuses, list) or not statuses or not all(isinstance(s, str) for s in statuses):
            raise MalformedOrder("The order has no statuses.", external_id=external_id)
        platform_status = ",".join(sorted({status.strip() for status in statuses}))[:64]
        status = self._our_status(statuses)
        items = self._items(raw.get("order_items"), external_id=external_id)
        currency = one_currency(items, external_id=external_id)
        price = lazada_amount(raw.get("price"), what="price", external_id=external_id)
        shipping_fee = lazada_amount(raw.get("shipping_fee") or "0", what="shipping_fee", external_id=external_id)
        voucher = lazada_amount(raw.get("voucher") or "0", what="voucher", external_id=external_id)
        total = price + shipping_fee - voucher
        if total < 0:
            raise MalformedOrder(f"The voucher ({voucher}) is more than the order's price.", external_id=external_id)
        address = raw.get("address_shipping") if isinstance(raw.get("address_shipping"), dict) else {}
        return NormalizedOrder(
            external_id=external_id,
            platform_status=platform_status,
            status=status,
            created_at=utc_from_iso(raw.get("created_at"), what="created_at", external_id=external_id),
            updated_at=utc_from_iso(raw.get("updated_at"), what="updated_at", external_id=external_id),
            currency=currency,
            total_amount=total,
            items=tuple(items),
            is_paid=self._is_paid(statuses, raw.get("payment_method")),
            customer=Customer(
                name=_full_name(raw.get("customer_first_name"), raw.get("customer_last_name")),
                phone=text(address.get("phone"), 40),
            ),
            shipping_address={
                "name": _full_name(address.get("first_name"), address.get("last_name")),
                "phone": text(address.get("phone"), 40),
                "line1": text(address.get("address1"), 300),
                "line2": text(address.get("address2"), 300),
                "city": text(address.get("city"), 120),
                "postal_code": text(address.get("post_code"), 20),
                "country": text(address.get("country"), 60),
            },
            raw=dict(raw),
        )

    @staticmethod
    def _our_status(statuses: list[str]) -> str:
        """Items cancelled beside live ones leave the order live; live items in different states
        put the order where its slowest one is; a status we do not map (returned,
        failed_delivery, ...) leaves ours where it is ("")."""
        mapped = [STATUS_MAP.get(status.strip(), "") for status in statuses]
        live = [status for status in mapped if status != CANCELLED]
        if not live:
            return CANCELLED
        if "" in live:
            return ""
        return min(live, key=PROGRESS.index)

    @staticmethod
    def _is_paid(statuses: list[str], payment_method: Any) -> bool:
        """Lazada says nothing of payment but through the status: unpaid until the buyer paid, and
        cash on delivery is paid when delivered. A cancelled order: not known to be paid."""
        names = {status.strip() for status in statuses}
        if names <= {"unpaid", "canceled"}:
            return False
        if str(payment_method or "").upper() == "COD":
            return "delivered" in names
        return True

    @staticmethod
    def _items(rows: Any, *, external_id: str) -> list[NormalizedItem]:
        """One line per SKU and price, its quantity the number of rows (Lazada lists each unit)."""
        if not isinstance(rows, list) or not rows:
            raise MalformedOrder("The order has no items.", external_id=external_id)
        lines: dict[tuple, dict] = {}
        for row in rows:
            if not isinstance(row, dict):
                raise MalformedOrder("An item row is not an object.", external_id=external_id)
            price = lazada_amount(row.get("item_price"), what="item_price", external_id=external_id)
            currency = currency_code(row.get("currency"), external_id=external_id)
            sku, name = text(row.get("sku"), 100), text(row.get("name"), 300)
            if not sku and not name:
                raise MalformedOrder("An item has neither a SKU nor a name.", external_id=external_id)
            key = (sku or name, price, currency)
            line = lines.get(key)
            if line is None:
                lines[key] = {"row": row, "sku": sku, "name": name, "price": price, "currency": currency, "count": 1}
            else:
                line["count"] += 1
        return [
            NormalizedItem(
                external_id=text(line["row"].get("order_item_id"), 100),
                name=line["name"] or line["sku"],
                quantity=line["count"],
                unit_price=line["price"],
                currency=line["currency"],
                sku=line["sku"],
            )
            for line in lines.values()
        ]

    # --- Writing back ----------------------------------------------------------------------------

    def update_order_status(self, *, external_id: str, status: str, tracking_number: str, carrier: str) -> None:
        """Our shipment as Lazada's "ready to ship" of a dropship order, with our carrier and
        tracking number, for every item still to ship. Items already on their way: nothing to send."""
        if status != SHIPPED:
            raise PlatformRejected(f"Lazada takes only shipments from us, not {status[:30]!r}.")
        rows = self._call("/order/items/get", {"order_id": external_id}).get("data") or []
        rows = [row for row in rows if isinstance(row, dict)]
        to_ship = [
            str(row.get("order_item_id"))
            for row in rows
            if str(row.get("status")) in SHIPPABLE
            or (str(row.get("status")) == "ready_to_ship" and str(row.get("tracking_code") or "") != tracking_number)
        ]
        if not to_ship:
            if any(str(row.get("status")) in ALREADY_SHIPPING for row in rows):
                return
            raise PlatformRejected("Lazada has no item of this order that can be shipped.")
        self._call(
            "/order/rts",
            {
                "order_item_ids": "[" + ",".join(to_ship) + "]",
                "delivery_type": "dropship",
                "shipment_provider": carrier,
                "tracking_number": tracking_number,
            },
            method="POST",
        )

    def register_webhooks(self, *, callback_url: str) -> None:
        """Nothing to call: Lazada takes push URLs in its app console (Lazada Push Mechanism,
        "fill your url in and verify it", then subscribe the order messages) and has no API for
        it. The seller's admin sets `callback_url` there."""

    # --- Pushes ------------------------------------------------------------------------------------

    @staticmethod
    def _push(body: bytes) -> dict:
        message = json.loads(body)
        if not isinstance(message, dict):
            raise ValueError("A Lazada push is a JSON object.")
        return message

    @classmethod
    def webhook_shop_id(cls, *, headers: Mapping[str, str], body: bytes) -> str:
        message = cls._push(body)
        seller_id = message.get("seller_id")
        if seller_id in (None, "", "null") and isinstance(message.get("data"), dict):
            seller_id = message["data"].get("seller_id")  # the token expiry alert names it there
        return "" if seller_id in (None, "", "null") else str(seller_id).strip()

    @classmethod
    def webhook_verify(
        cls, *, credentials: Mapping[str, Any], headers: Mapping[str, str], body: bytes, url: str
    ) -> bool:
        given = (headers.get("authorization") or "").strip().lower()
        app_key, app_secret = credentials.get("app_key"), credentials.get("app_secret")
        if not given or not app_key or not app_secret:
            return False
        return hmac.compare_digest(push_signature(str(app_key), str(app_secret), body), given)

    @classmethod
    def webhook_notice(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        """Trade order messages (message_type 0) name an order to fetch; the others (reverse
        orders, token alerts, ...) are recorded and not acted on."""
        message = cls._push(body)
        message_type = str(message.get("message_type", ""))
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        order_id = str(data.get("trade_order_id") or "").strip() if message_type == "0" else ""
        if message_type == "0":
            topic = f"trade_order:{text(data.get('order_status'), 60)}"
        else:
            topic = f"message_type:{message_type[:20]}"
        return WebhookNotice(dedupe_key=body_digest(body), topic=topic, external_order_id=order_id)
