"""Shopee Open Platform v2: one shop's orders, its fulfilments and its pushes.

The platform's rules this adapter keeps (open.shopee.com developer guide, "API calls" and
"Authorization and Authentication"; issue 23's facts):
- every call carries `partner_id`, `timestamp` (unix seconds, within 5 minutes of Shopee's clock)
  and `sign`; a shop call also `access_token` and `shop_id`. `sign` is the lowercase hex
  HMAC-SHA256, keyed with the partner key, of `partner_id + path + timestamp` for a public call
  and `partner_id + path + timestamp + access_token + shop_id` for a shop call. Each attempt of a
  request is signed afresh (a retry after a Retry-After must not carry a stale timestamp);
- the answer is an envelope: `request_id`, `error` ("" on success), `message`, `response`. An
  invalid or expired access token (`invalid_access_token`, Shopee's own misspelling
  `invalid_acceess_token`, `error_auth`) means "refresh and ask again"; an in-body throttling
  error counts as a 429;
- the access token lives 4 hours: POST /api/v2/auth/access_token/get (a public call) with the
  refresh token gives a new access token *and* a new refresh token (the old one is spent);
- orders are listed by update time over windows of at most 15 days (a longer window is split),
  100 to a page, with `cursor` / `more` / `next_cursor`; their details come from
  get_order_detail, 50 order_sn at a time, the items, amounts and address only when
  `response_optional_fields` names them. Amounts are JSON numbers, times unix seconds;
- a push is signed in `Authorization`: lowercase hex HMAC-SHA256, keyed with the partner key, of
  `callback_url + "|" + raw_body`. It carries no event id: the body's digest is its key.

The credentials (partner key, tokens) go only into signatures, the query Shopee requires and the
refresh call's body; no message of this module carries them (`_sanitized` scrubs what Shopee
says back, in case it echoes one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

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
    quantity,
    text,
    utc_from_unix,
)

ORDER_LIST_PATH = "/api/v2/order/get_order_list"
ORDER_DETAIL_PATH = "/api/v2/order/get_order_detail"
SHOP_INFO_PATH = "/api/v2/shop/get_shop_info"
REFRESH_PATH = "/api/v2/auth/access_token/get"
SHIP_ORDER_PATH = "/api/v2/logistics/ship_order"
PUSH_CONFIG_PATH = "/api/v2/push/set_app_push_config"

MAX_WINDOW = timedelta(days=15)
PAGE_SIZE = 100
DETAIL_BATCH = 50
# What get_order_detail must return for the mapper (Shopee leaves these out unless asked).
DETAIL_FIELDS = "buyer_username,recipient_address,item_list,pay_time,total_amount,actual_shipping_fee"
PUSH_ORDER_STATUS = 3
PUSH_TRACKING_NUMBER = 4

AUTH_EXPIRED_ERRORS = frozenset({"invalid_access_token", "invalid_acceess_token", "error_auth"})
THROTTLED_ERRORS = frozenset({"error_rate_limit", "error_too_many_request", "error_too_many_requests"})

# Shopee's statuses and ours ("" : the order stays where it is; the raw status is kept on the link).
STATUS_MAP = {
    "UNPAID": "pending",
    "READY_TO_SHIP": "confirmed",
    "PROCESSED": "confirmed",
    "RETRY_SHIP": "confirmed",
    "SHIPPED": "in_transit",
    "TO_CONFIRM_RECEIVE": "delivered",
    "COMPLETED": "completed",
    "CANCELLED": "cancelled",
    "IN_CANCEL": "",  # the buyer asked to cancel; the seller has not answered yet
    "TO_RETURN": "",  # a return under way: not a status of our order
}


def request_sign(
    *, partner_key: str, partner_id: str, path: str, timestamp: int, access_token: str = "", shop_id: str = ""
) -> str:
    """Shopee's `sign`: public calls leave `access_token` and `shop_id` out."""
    base = f"{partner_id}{path}{timestamp}{access_token}{shop_id}"
    return hmac.new(partner_key.encode(), base.encode(), hashlib.sha256).hexdigest()


def push_signature(*, partner_key: str, url: str, body: bytes) -> str:
    """A push's `Authorization`: over the callback URL, "|", and the raw body as it came."""
    return hmac.new(partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()


def _envelope_error(response: HttpResponse) -> str:
    try:
        data = json.loads(response.body)
    except ValueError:
        return ""
    return str(data.get("error") or "") if isinstance(data, dict) else ""


def _throttled(response: HttpResponse) -> bool:
    return _envelope_error(response) in THROTTLED_ERRORS


class ShopeeAdapter(PlatformAdapter):
    platform = "shopee"
    credential_fields = ("partner_id", "partner_key", "access_token", "refresh_token")
    refreshes_tokens = True

    # --- Calls -----------------------------------------------------------------------------------

    @property
    def _base_url(self) -> str:
        return self.options["BASE_URL"].rstrip("/")

    def _ids(self) -> tuple[str, str]:
        partner_id, shop_id = str(self.credentials.get("partner_id", "")).strip(), str(self.shop_id).strip()
        if not partner_id.isdigit() or not shop_id.isdigit():
            raise PlatformRejected("Shopee's partner_id and shop_id are numbers.")
        return partner_id, shop_id

    def _sanitized(self, message: Any) -> str:
        """What Shopee said, short, with any credential it might echo taken out."""
        said = str(message or "")[:200]
        for value in self.credentials.values():
            if isinstance(value, str) and len(value) >= 4 and value not in ("", self.credentials.get("partner_id")):
                said = said.replace(value, "[redacted]")
        return said

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        payload: Mapping[str, Any] | None = None,
        shop_call: bool = True,
    ) -> dict:
        """One signed call; the envelope when Shopee succeeded. Every attempt of the request is
        signed with its own timestamp (PlatformHttp calls `params` again on a retry)."""
        partner_id, shop_id = self._ids()

        def params() -> dict:
            timestamp = int(time.time())
            common: dict[str, Any] = {"partner_id": partner_id, "timestamp": timestamp}
            if shop_call:
                access_token = str(self.credentials.get("access_token", ""))
                common |= {"access_token": access_token, "shop_id": shop_id}
                common["sign"] = request_sign(
                    partner_key=str(self.credentials.get("partner_key", "")),
                    partner_id=partner_id,
                    path=path,
                    timestamp=timestamp,
                    access_token=access_token,
                    shop_id=shop_id,
                )
            else:
                common["sign"] = request_sign(
                    partner_key=str(self.credentials.get("partner_key", "")),
                    partner_id=partner_id,
                    path=path,
                    timestamp=timestamp,
                )
            return {**common, **(query or {})}

        body = json.dumps(payload, separators=(",", ":")).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response = self.http.send(
            method, self._base_url + path, params=params, headers=headers, body=body, throttled=_throttled
        )
        data = response.json()
        if not isinstance(data, dict):
            raise PlatformUnavailable(f"Shopee answered {path} with something other than its envelope.")
        error = str(data.get("error") or "")
        if error in AUTH_EXPIRED_ERRORS:
            raise PlatformAuthExpired("Shopee refused the access token (expired or revoked).")
        if error or response.status >= 400:
            raise PlatformRejected(
                f"Shopee refused {path}: {error or response.status} {self._sanitized(data.get('message'))}".strip(),
                status_code=response.status,
            )
        return data

    # --- Connecting and tokens -------------------------------------------------------------------

    def validate_credentials(self) -> ShopInfo:
        data = self._call("GET", SHOP_INFO_PATH)
        # get_shop_info answers at the top level (older shapes put it in `response`).
        info = data.get("response") if isinstance(data.get("response"), dict) else data
        return ShopInfo(shop_id=str(self.shop_id), name=text(info.get("shop_name"), 200))

    def refresh_credentials(self) -> RefreshedCredentials:
        """A new access token and refresh token. A refusal here is final (PlatformRejected): a
        spent or revoked refresh token needs the seller to authorize the app again."""
        partner_id, shop_id = self._ids()
        payload = {
            "refresh_token": str(self.credentials.get("refresh_token", "")),
            "partner_id": int(partner_id),
            "shop_id": int(shop_id),
        }
        try:
            data = self._call("POST", REFRESH_PATH, payload=payload, shop_call=False)
        except PlatformAuthExpired:
            raise PlatformRejected("Shopee refused the refresh token: the shop must authorize the app again.") from None
        access_token, refresh_token = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access_token, str) or not access_token or not isinstance(refresh_token, str):
            raise PlatformUnavailable("Shopee's token refresh answered without the new tokens.")
        try:
            expire_in = int(data.get("expire_in") or 0)
        except (TypeError, ValueError):
            expire_in = 0
        expires_at = timezone.now() + timedelta(seconds=expire_in) if expire_in > 0 else None
        credentials = {**self.credentials, "access_token": access_token, "refresh_token": refresh_token or ""}
        return RefreshedCredentials(credentials=credentials, access_token_expires_at=expires_at)

    # --- Reading orders --------------------------------------------------------------------------

    def iter_orders(self, *, updated_from: datetime, updated_to: datetime) -> Iterator[list[dict]]:
        """Window by window (at most 15 days each), list page by list page (100 order_sn), each
        page's details in calls of 50; one yielded list per list page."""
        start = math.floor(updated_from.timestamp())
        end = math.ceil(updated_to.timestamp())
        span = int(MAX_WINDOW.total_seconds())
        while start <= end:
            window_end = min(start + span, end)
            yield from self._window(start, window_end)
            start = window_end + 1

    def _window(self, time_from: int, time_to: int) -> Iterator[list[dict]]:
        cursor = ""
        while True:
            query = {
                "time_range_field": "update_time",
                "time_from": time_from,
                "time_to": time_to,
                "page_size": PAGE_SIZE,
                "cursor": cursor,
            }
            response = self._call("GET", ORDER_LIST_PATH, query=query).get("response") or {}
            order_sns = [
                str(entry["order_sn"])
                for entry in response.get("order_list") or []
                if isinstance(entry, dict) and entry.get("order_sn")
            ]
            if order_sns:
                yield self._details(order_sns)
            if not response.get("more"):
                return
            next_cursor = str(response.get("next_cursor") or "")
            if not next_cursor or next_cursor == cursor:
                raise PlatformUnavailable("Shopee said there are more orders but gave no new cursor.")
            cursor = next_cursor

    def _details(self, order_sns: list[str]) -> list[dict]:
        orders: list[dict] = []
        for first in range(0, len(order_sns), DETAIL_BATCH):
            batch = order_sns[first : first + DETAIL_BATCH]
            query = {"order_sn_list": ",".join(batch), "response_optional_fields": DETAIL_FIELDS}
            response = self._call("GET", ORDER_DETAIL_PATH, query=query).get("response") or {}
            orders.extend(order for order in response.get("order_list") or [] if isinstance(order, dict))
        return orders

    def fetch_order(self, external_id: str) -> dict | None:
        if not external_id or "," in external_id:
            return None
        for order in self._details([external_id]):
            if str(order.get("order_sn")) == external_id:
                return order
        return None

    def external_id_of(self, raw: Mapping[str, Any]) -> str:
        return text(raw.get("order_sn"), 128)

    # --- The mapper ------------------------------------------------------------------------------

    def normalize(self, raw: Mapping[str, Any]) -> NormalizedOrder:
        external_id = self.external_id_of(raw)
        if not external_id:
            raise MalformedOrder("The order has no order_sn.")
        platform_status = text(raw.get("order_status"), 64)
        if platform_status not in STATUS_MAP:
            raise MalformedOrder(f"Unknown Shopee order status {platform_status[:30]!r}.", external_id=external_id)
        currency = currency_code(raw.get("currency"), external_id=external_id)
        items = self._items(raw.get("item_list"), currency=currency, external_id=external_id)
        address = raw.get("recipient_address") or {}
        if not isinstance(address, dict):
            raise MalformedOrder("recipient_address is not an object.", external_id=external_id)
        return NormalizedOrder(
            external_id=external_id,
            platform_status=platform_status,
            status=STATUS_MAP[platform_status],
            created_at=utc_from_unix(raw.get("create_time"), what="create_time", external_id=external_id),
            updated_at=utc_from_unix(raw.get("update_time"), what="update_time", external_id=external_id),
            currency=currency,
            total_amount=money(raw.get("total_amount"), what="total_amount", external_id=external_id),
            items=items,
            is_paid=platform_status != "UNPAID" or bool(raw.get("pay_time")),
            customer=Customer(
                name=text(address.get("name") or raw.get("buyer_username"), 200),
                phone=text(address.get("phone"), 50),
            ),
            # Kept as Shopee gives it, masked ("****") or not.
            shipping_address={
                "name": text(address.get("name"), 200),
                "phone": text(address.get("phone"), 50),
                "line1": text(address.get("full_address"), 500),
                "town": text(address.get("town"), 100),
                "district": text(address.get("district"), 100),
                "city": text(address.get("city"), 100),
                "state": text(address.get("state"), 100),
                "postal_code": text(address.get("zipcode"), 20),
                "country": text(address.get("region") or raw.get("region"), 2),
            },
            raw=dict(raw),
        )

    @staticmethod
    def _items(item_list: Any, *, currency: str, external_id: str) -> tuple[NormalizedItem, ...]:
        if not isinstance(item_list, list) or not item_list:
            raise MalformedOrder("The order has no item_list.", external_id=external_id)
        items = []
        for entry in item_list:
            if not isinstance(entry, dict):
                raise MalformedOrder("An item of item_list is not an object.", external_id=external_id)
            price = entry.get("model_discounted_price")
            if price in (None, ""):
                price = entry.get("model_original_price")
            name = text(entry.get("item_name"), 200)
            model = text(entry.get("model_name"), 100)
            items.append(
                NormalizedItem(
                    external_id=f"{text(entry.get('item_id'), 40)}:{text(entry.get('model_id'), 40)}",
                    name=f"{name} ({model})" if model else name,
                    quantity=quantity(entry.get("model_quantity_purchased"), external_id=external_id),
                    unit_price=money(price, what="An item's price", external_id=external_id),
                    currency=currency,
                    sku=text(entry.get("model_sku") or entry.get("item_sku"), 100),
                )
            )
        return tuple(items)

    # --- Writing back ----------------------------------------------------------------------------

    def update_order_status(self, *, external_id: str, status: str, tracking_number: str, carrier: str) -> None:
        """Shipping is the one move Shopee takes from a seller's own logistics: ship_order on the
        non-integrated channel, with the tracking number (Shopee names the carrier itself)."""
        if status != "in_transit":
            raise PlatformRejected(f"Shopee takes a shipment from us, not the status {status[:24]!r}.")
        if not tracking_number:
            raise PlatformRejected("Shopee needs the tracking number to ship an order.")
        payload = {"order_sn": external_id, "non_integrated": {"tracking_number": tracking_number}}
        self._call("POST", SHIP_ORDER_PATH, payload=payload)

    def register_webhooks(self, *, callback_url: str) -> None:
        """The app's push configuration (a partner-level call): order status pushes to us."""
        payload = {"callback_url": callback_url, "set_push_config_on": [PUSH_ORDER_STATUS]}
        self._call("POST", PUSH_CONFIG_PATH, payload=payload, shop_call=False)

    # --- Pushes ----------------------------------------------------------------------------------

    @staticmethod
    def _push_body(body: bytes) -> dict:
        data = json.loads(body)  # ValueError when it is not JSON: the webhook service refuses it
        if not isinstance(data, dict):
            raise ValueError("A Shopee push is a JSON object.")
        return data

    @classmethod
    def webhook_shop_id(cls, *, headers: Mapping[str, str], body: bytes) -> str:
        shop_id = cls._push_body(body).get("shop_id")
        if isinstance(shop_id, bool):
            return ""
        if isinstance(shop_id, int) or (isinstance(shop_id, str) and shop_id.isdigit()):
            return str(shop_id)
        return ""

    @classmethod
    def webhook_verify(
        cls, *, credentials: Mapping[str, Any], headers: Mapping[str, str], body: bytes, url: str
    ) -> bool:
        given = (headers.get("authorization") or "").strip().lower()
        partner_key = credentials.get("partner_key")
        if not given or not isinstance(partner_key, str) or not partner_key:
            return False
        return hmac.compare_digest(push_signature(partner_key=partner_key, url=url, body=body), given)

    @classmethod
    def webhook_notice(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        data = cls._push_body(body)
        code = data.get("code")
        content = data.get("data") if isinstance(data.get("data"), dict) else {}
        order_sn = text(content.get("ordersn"), 128) if code in (PUSH_ORDER_STATUS, PUSH_TRACKING_NUMBER) else ""
        topic = {PUSH_ORDER_STATUS: "order_status", PUSH_TRACKING_NUMBER: "order_tracking_number"}.get(
            code, f"code_{text(code, 20)}"
        )
        return WebhookNotice(dedupe_key=body_digest(body), topic=topic, external_order_id=order_sn)
