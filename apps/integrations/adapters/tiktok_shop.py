"""TikTok Shop's Open API, version 202309 (sandboxes/platforms/tiktok_shop.py serves the same).

Signing: every call carries `app_key`, `timestamp` (unix seconds; TikTok refuses one 5 minutes
off), `shop_cipher` (the shop's, for a shop's data) and `sign` in the query, and the access token
in the `x-tts-access-token` header, never in the URL. `sign` is lowercase hex HMAC-SHA256 keyed
with the app secret over app_secret + path + the query parameters but `sign` and `access_token`,
sorted by name and written name then value + the raw body + app_secret. Each retry is signed
afresh (a new timestamp).

Reading: `POST /order/202309/orders/search` by update time, oldest first, `page_token` →
`next_page_token` ("" at the end), then `GET /order/202309/orders?ids=` (at most 50) for the
details. Amounts are strings in `payment`; a line item is one unit (no quantity), so line items
of the same SKU at the same price are one of our items with their count as its quantity.

Errors: the envelope's `code` 0 is success; 105002 is an expired access token (refreshed with
`GET {AUTH_URL}/api/v2/token/refresh`); 429 is the rate limit (PlatformHttp retries it).
Webhooks: `Authorization` = lowercase hex HMAC-SHA256(app_secret, app_key + raw body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

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
    utc_from_unix,
)

SHOPS_PATH = "/authorization/202309/shops"
SEARCH_PATH = "/order/202309/orders/search"
DETAIL_PATH = "/order/202309/orders"
WEBHOOKS_PATH = "/event/202309/webhooks"
PROVIDERS_PATH = "/logistics/202309/delivery_options/{option}/shipping_providers"
REFRESH_PATH = "/api/v2/token/refresh"
DETAIL_IDS_MAX = 50
PAGE_SIZE = 50  # one detail call per page
EXPIRED_CREDENTIALS = 105002

# TikTok's status → ours. Every status TikTok documents for 202309 orders is here: an order in any
# other is quarantined rather than guessed at.
STATUS_MAP = {
    "UNPAID": "pending",
    "ON_HOLD": "pending",
    "AWAITING_SHIPMENT": "confirmed",
    "AWAITING_COLLECTION": "confirmed",
    "PARTIALLY_SHIPPING": "confirmed",
    "IN_TRANSIT": "in_transit",
    "DELIVERED": "delivered",
    "COMPLETED": "completed",
    "CANCELLED": "cancelled",
}

# Webhook types (the body's `type`) by TikTok's names, for the receipt's topic.
WEBHOOK_TOPICS = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
}


def request_signature(*, app_secret: str, path: str, params: Mapping[str, Any], body: bytes = b"") -> str:
    """TikTok's `sign` of one request (see the module's docstring)."""
    pairs = "".join(f"{name}{value}" for name, value in sorted(params.items()) if name not in ("sign", "access_token"))
    message = b"".join((app_secret.encode(), path.encode(), pairs.encode(), body, app_secret.encode()))
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(*, app_secret: str, app_key: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def _webhook_body(body: bytes) -> dict:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("A TikTok Shop webhook is a JSON object.")
    return data


class TikTokShopAdapter(PlatformAdapter):
    platform = "tiktok_shop"
    credential_fields = ("app_key", "app_secret", "access_token", "refresh_token", "shop_cipher")
    refreshes_tokens = True

    # --- Requests --------------------------------------------------------------------------

    @property
    def _base_url(self) -> str:
        return self.options["BASE_URL"].rstrip("/")

    def _scrub(self, message: str) -> str:
        """The platform's message without any credential of ours in it (it may echo a parameter)."""
        for value in self.credentials.values():
            if isinstance(value, str) and len(value) >= 4:
                message = message.replace(value, "…")
        return message[:160]

    def _judge(self, response: HttpResponse, *, what: str) -> Any:
        """The envelope's data, or the error its code and HTTP status call for."""
        envelope = response.json()
        if not isinstance(envelope, dict):
            raise PlatformUnavailable(f"TikTok Shop answered {what} with something that is not its envelope.")
        code = envelope.get("code")
        if response.status == 200 and code == 0:
            return envelope.get("data") or {}
        message = self._scrub(str(envelope.get("message") or ""))
        if code == EXPIRED_CREDENTIALS:
            raise PlatformAuthExpired(f"TikTok Shop says the access token expired ({what}).")
        raise PlatformRejected(
            f"TikTok Shop refused {what}: code {code}, {message or 'no message'}.", status_code=response.status
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        shop_data: bool = True,
        what: str,
    ) -> Any:
        payload = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        app_key, app_secret = self.credentials["app_key"], self.credentials["app_secret"]

        def signed() -> dict[str, str]:
            params = {"app_key": app_key, "timestamp": str(int(time.time()))}
            if shop_data:
                params["shop_cipher"] = self.credentials["shop_cipher"]
            params.update({name: str(value) for name, value in (query or {}).items()})
            params["sign"] = request_signature(app_secret=app_secret, path=path, params=params, body=payload)
            return params

        def headers() -> dict[str, str]:
            # Read at each attempt: a refresh during the run replaces the token.
            return {"x-tts-access-token": self.credentials["access_token"], "content-type": "application/json"}

        response = self.http.send(
            method, self._base_url + path, params=signed, headers=headers, body=payload if body is not None else None
        )
        return self._judge(response, what=what)

    # --- Connecting and tokens ---------------------------------------------------------------

    def validate_credentials(self) -> ShopInfo:
        data = self._call("GET", SHOPS_PATH, shop_data=False, what="the authorized shops")
        shops = data.get("shops") if isinstance(data, dict) else None
        for shop in shops or []:
            if isinstance(shop, dict) and str(shop.get("id")) == self.shop_id:
                if shop.get("cipher") != self.credentials["shop_cipher"]:
                    raise PlatformRejected("The shop cipher is not this shop's.")
                return ShopInfo(shop_id=self.shop_id, name=text(shop.get("name"), 200))
        raise PlatformRejected("The access token is not authorized for this shop.")

    def refresh_credentials(self) -> RefreshedCredentials:
        query = {
            "app_key": self.credentials["app_key"],
            "app_secret": self.credentials["app_secret"],
            "refresh_token": self.credentials["refresh_token"],
            "grant_type": "refresh_token",
        }
        response = self.http.send("GET", self.options["AUTH_URL"].rstrip("/") + REFRESH_PATH, params=query)
        try:
            data = self._judge(response, what="the token refresh")
        except PlatformAuthExpired:
            raise PlatformRejected(
                "TikTok Shop refused the refresh token: the shop must be authorized again."
            ) from None
        access_token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(access_token, str) or not access_token:
            raise PlatformUnavailable("TikTok Shop's token refresh answered without an access token.")
        credentials = {**self.credentials, "access_token": access_token}
        if isinstance(data.get("refresh_token"), str) and data["refresh_token"]:
            credentials["refresh_token"] = data["refresh_token"]
        expires = data.get("access_token_expire_in")
        # TikTok gives the expiry as a unix time (not a number of seconds from now).
        expires_at = datetime.fromtimestamp(int(expires), tz=UTC) if isinstance(expires, int) and expires > 0 else None
        return RefreshedCredentials(credentials=credentials, access_token_expires_at=expires_at)

    # --- Reading orders ----------------------------------------------------------------------

    def iter_orders(self, *, updated_from: datetime, updated_to: datetime) -> Iterator[list[dict]]:
        window = {
            "update_time_ge": int(updated_from.timestamp()),
            # TikTok's upper bound is exclusive, ours inclusive: the whole last second is in.
            "update_time_lt": int(updated_to.timestamp()) + 1,
        }
        page_size = int(self.options.get("PAGE_SIZE", PAGE_SIZE))
        page_token, seen_tokens = "", set()
        while True:
            query = {"page_size": page_size, "sort_field": "update_time", "sort_order": "ASC"}
            if page_token:
                query["page_token"] = page_token
            data = self._call("POST", SEARCH_PATH, query=query, body=window, what="the order search")
            ids = [
                str(order["id"]) for order in data.get("orders") or [] if isinstance(order, dict) and order.get("id")
            ]
            if ids:
                yield self._details(ids)
            page_token = str(data.get("next_page_token") or "")
            if not page_token:
                return
            if page_token in seen_tokens:  # a platform that loops would hold the lease for ever
                raise PlatformUnavailable("TikTok Shop's order search gave a page token it gave before.")
            seen_tokens.add(page_token)

    def _details(self, ids: list[str]) -> list[dict]:
        orders = []
        for start in range(0, len(ids), DETAIL_IDS_MAX):
            chunk = ids[start : start + DETAIL_IDS_MAX]
            data = self._call("GET", DETAIL_PATH, query={"ids": ",".join(chunk)}, what="the order details")
            orders.extend(order for order in data.get("orders") or [] if isinstance(order, dict))
        return orders

    def fetch_order(self, external_id: str) -> dict | None:
        for order in self._details([external_id]):
            if str(order.get("id")) == external_id:
                return order
        return None

    def external_id_of(self, raw: Mapping[str, Any]) -> str:
        return text(raw.get("id"), 128)

    # --- The mapper --------------------------------------------------------------------------

    def normalize(self, raw: Mapping[str, Any]) -> NormalizedOrder:
        external_id = self.external_id_of(raw)
        if not external_id:
            raise MalformedOrder("The order has no id.")
        platform_status = text(raw.get("status"), 64)
        if platform_status not in STATUS_MAP:
            raise MalformedOrder(f"Unknown TikTok Shop status {platform_status[:30]!r}.", external_id=external_id)
        payment = raw.get("payment")
        if not isinstance(payment, Mapping):
            raise MalformedOrder("The order has no payment.", external_id=external_id)
        currency = currency_code(payment.get("currency"), external_id=external_id)
        total = money(payment.get("total_amount"), what="payment.total_amount", external_id=external_id)
        items = self._items(raw.get("line_items"), currency=currency, external_id=external_id)
        if one_currency(items, external_id=external_id) != currency:
            raise MalformedOrder(
                f"The items are in {items[0].currency}, the payment in {currency}.", external_id=external_id
            )
        address = raw.get("recipient_address") if isinstance(raw.get("recipient_address"), Mapping) else {}
        return NormalizedOrder(
            external_id=external_id,
            platform_status=platform_status,
            status=STATUS_MAP[platform_status],
            created_at=utc_from_unix(raw.get("create_time"), what="create_time", external_id=external_id),
            updated_at=utc_from_unix(raw.get("update_time"), what="update_time", external_id=external_id),
            currency=currency,
            total_amount=total,
            items=tuple(items),
            is_paid=bool(raw.get("paid_time")),
            customer=Customer(
                name=text(address.get("name"), 200),
                email=text(raw.get("buyer_email"), 254),
                phone=text(address.get("phone_number"), 40),
            ),
            shipping_address=self._address(address),
            raw=dict(raw),
        )

    @staticmethod
    def _items(line_items: Any, *, currency: str, external_id: str) -> list[NormalizedItem]:
        """One item per SKU and price, its quantity the count of its line items (one unit each)."""
        if not isinstance(line_items, list) or not line_items:
            raise MalformedOrder("The order has no line items.", external_id=external_id)
        groups: dict[tuple[str, Any, str], dict] = {}
        for position, line in enumerate(line_items, start=1):
            if not isinstance(line, Mapping):
                raise MalformedOrder(f"Line item {position} is not an object.", external_id=external_id)
            price = money(line.get("sale_price"), what=f"Line item {position} sale_price", external_id=external_id)
            sku = text(line.get("seller_sku") or line.get("sku_id"), 64)
            name = text(line.get("product_name"), 255)
            if not sku and not name:
                raise MalformedOrder(f"Line item {position} has neither SKU nor name.", external_id=external_id)
            line_currency = currency_code(line.get("currency") or currency, external_id=external_id)
            group = groups.setdefault(
                (sku or name, price, line_currency),
                {
                    "external_id": text(line.get("id"), 128) or f"{external_id}-{position}",
                    "name": name or sku,
                    "sku": sku,
                    "unit_price": price,
                    "currency": line_currency,
                    "quantity": 0,
                },
            )
            group["quantity"] += 1
        return [NormalizedItem(**group) for group in groups.values()]

    @staticmethod
    def _address(address: Mapping[str, Any]) -> dict[str, str]:
        """The recipient as TikTok gives it: masked values (J**n, +6012*****45) are kept as they are."""
        levels = {
            text(level.get("address_level_name"), 40).lower(): text(level.get("address_name"), 100)
            for level in address.get("district_info") or []
            if isinstance(level, Mapping)
        }
        fields = {
            "name": text(address.get("name"), 200),
            "phone": text(address.get("phone_number"), 40),
            "line1": text(address.get("address_line1"), 255),
            "line2": text(address.get("address_line2"), 255),
            "city": levels.get("city", ""),
            "state": levels.get("state", ""),
            "postal_code": text(address.get("postal_code"), 20),
            "country": text(address.get("region_code"), 2).upper(),
            "full_address": text(address.get("full_address"), 500),
        }
        return {name: value for name, value in fields.items() if value}

    # --- Writing back ------------------------------------------------------------------------

    def update_order_status(self, *, external_id: str, status: str, tracking_number: str, carrier: str) -> None:
        """Mark the order shipped with its tracking number (TikTok takes no other move from a
        seller's system: delivery and completion are TikTok's to say). TikTok wants the id of
        one of the shipping providers the order's delivery option allows, where we know the
        carrier by name: the name is looked up in that list (or taken as it is when it is one of
        the ids)."""
        if status != "in_transit":
            raise PlatformRejected(f"TikTok Shop takes shipments only, not a move to {status[:24]}.")
        if not tracking_number or not carrier:
            raise PlatformRejected("TikTok Shop needs the tracking number and the shipping provider.")
        self._call(
            "POST",
            f"/fulfillment/202309/orders/{external_id}/packages",
            body={"tracking_number": tracking_number, "shipping_provider_id": self._provider_id(external_id, carrier)},
            what="the shipment",
        )

    def _provider_id(self, external_id: str, carrier: str) -> str:
        order = self.fetch_order(external_id)
        if order is None:
            raise PlatformRejected("TikTok Shop does not know the order.")
        option = text(order.get("delivery_option_id"), 64)
        if not option:
            raise PlatformRejected("TikTok Shop gave the order no delivery option to ship it by.")
        data = self._call("GET", PROVIDERS_PATH.format(option=option), what="the shipping providers")
        providers = [
            (text(provider.get("id"), 64), text(provider.get("name"), 100))
            for provider in data.get("shipping_providers") or []
            if isinstance(provider, Mapping)
        ]
        wanted = " ".join(carrier.split()).casefold()
        for provider_id, name in providers:
            if carrier == provider_id or " ".join(name.split()).casefold() == wanted:
                return provider_id
        known = ", ".join(name for _, name in providers[:10]) or "none"
        raise PlatformRejected(
            f"TikTok Shop has no shipping provider {carrier[:60]!r} for this order (its delivery option allows: "
            f"{known[:300]})."
        )

    def register_webhooks(self, *, callback_url: str) -> None:
        self._call(
            "PUT",
            WEBHOOKS_PATH,
            body={"address": callback_url, "event_type": "ORDER_STATUS_CHANGE"},
            what="the webhook subscription",
        )

    # --- Webhooks ----------------------------------------------------------------------------

    @classmethod
    def webhook_shop_id(cls, *, headers: Mapping[str, str], body: bytes) -> str:
        return text(_webhook_body(body).get("shop_id"), 128)

    @classmethod
    def webhook_verify(
        cls, *, credentials: Mapping[str, Any], headers: Mapping[str, str], body: bytes, url: str
    ) -> bool:
        given = (headers.get("authorization") or "").strip().lower()
        expected = webhook_signature(app_secret=credentials["app_secret"], app_key=credentials["app_key"], body=body)
        return bool(given) and hmac.compare_digest(expected, given)

    @classmethod
    def webhook_notice(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        data = _webhook_body(body)
        kind = data.get("type")
        topic = WEBHOOK_TOPICS.get(kind, f"type {str(kind)[:20]}") if isinstance(kind, int) else "unknown"
        notification_id = text(data.get("tts_notification_id"), 100)
        details = data.get("data") if isinstance(data.get("data"), Mapping) else {}
        # Any notice naming an order (status, address, cancellation) is worth a fresh read of it.
        return WebhookNotice(
            dedupe_key=f"tts:{notification_id}" if notification_id else body_digest(body),
            topic=topic,
            external_order_id=text(details.get("order_id"), 128),
        )
