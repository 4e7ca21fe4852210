"""Shopify's Admin REST API (https://shopify.dev/docs/api/admin-rest).

- Authentication: the shop's Admin API access token in X-Shopify-Access-Token (offline tokens do
  not expire: nothing to refresh). The shop is its myshopify.com domain.
- Orders: GET orders.json?status=any&updated_at_min&updated_at_max, oldest update first; the
  next page is the URL in the Link header's rel="next" (cursor `page_info`; with it only `limit`
  may be sent), no Link on the last page. Money is strings ("409.94"), times ISO 8601 with offsets.
- Rate limits: the leaky bucket (40 calls, 2 a second) reported in X-Shopify-Shop-Api-Call-Limit;
  when it is nearly full we wait a leak's time before the next call; a 429 comes with or without
  Retry-After (PlatformHttp obeys it, or backs off).
- Fulfilment: the fulfillment orders of the order, then POST fulfillments.json with the tracking info.
- Webhooks: X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256(app secret, raw body), compared in
  constant time; X-Shopify-Shop-Domain names the shop, X-Shopify-Webhook-Id the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from apps.integrations.adapters.base import (
    Customer,
    MalformedOrder,
    NormalizedItem,
    NormalizedOrder,
    PlatformAdapter,
    PlatformAuthExpired,
    PlatformRejected,
    ShopInfo,
    WebhookNotice,
    body_digest,
    currency_code,
    money,
    quantity,
    text,
    utc_from_iso,
)

PAGE_SIZE = 250
# Of the bucket's 40 calls, leave this many free for the shop's other apps: past it, wait.
BUCKET_HEADROOM = 5
LEAK_SECONDS = 0.5  # one call leaks out every half second (2/s, the standard plan)
PAID = frozenset({"paid", "partially_paid", "authorized", "partially_refunded"})
LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")


def status_of(financial: str, fulfillment: str, cancelled: bool) -> str:
    """Ours from Shopify's two statuses: cancelled first, then shipped (fulfilled), then paid."""
    if cancelled:
        return "cancelled"
    if fulfillment == "fulfilled":
        return "in_transit"
    if financial == "pending":
        return "pending"
    if financial in PAID:
        return "confirmed"
    return ""  # refunded or voided without a cancellation: ours stays where it is


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ShopifyAdapter(PlatformAdapter):
    platform = "shopify"
    credential_fields = ("access_token", "api_secret")
    optional_credential_fields = ("api_key",)
    refreshes_tokens = False

    def _url(self, path: str) -> str:
        base = self.options["BASE_URL"].format(shop=self.shop_id).rstrip("/")
        return f"{base}/admin/api/{self.options.get('API_VERSION', '2024-07')}/{path}"

    def _headers(self) -> dict[str, str]:
        return {
            "X-Shopify-Access-Token": self.credentials["access_token"],
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def _call(self, method: str, url: str, *, body: dict | None = None) -> tuple[Any, Mapping[str, str]]:
        if "{shop}" in self.options["BASE_URL"] and not SHOP_DOMAIN.fullmatch(self.shop_id):
            raise PlatformRejected("A Shopify shop is its myshopify.com domain.")
        payload = None if body is None else json.dumps(body).encode()
        response = self.http.send(method, url, headers=self._headers, body=payload)
        self._pace(response.headers.get("x-shopify-shop-api-call-limit"))
        if response.status == 401:
            raise PlatformAuthExpired("Shopify refused the access token (revoked or the app uninstalled).")
        if response.status == 404:
            return None, response.headers
        if response.status >= 400:
            raise PlatformRejected(f"Shopify answered {response.status}.", status_code=response.status)
        return response.json(), response.headers

    def _pace(self, call_limit: str | None) -> None:
        """Wait a leak when the shop's bucket is nearly full, rather than be answered 429."""
        if not call_limit or "/" not in call_limit:
            return
        used, _, size = call_limit.partition("/")
        if used.isdigit() and size.isdigit() and int(size) - int(used) <= BUCKET_HEADROOM:
            self.http.sleep(LEAK_SECONDS)

    def validate_credentials(self) -> ShopInfo:
        data, _ = self._call("GET", self._url("shop.json"))
        if not isinstance(data, dict) or "shop" not in data:
            raise PlatformRejected("Shopify does not know this shop.")
        return ShopInfo(shop_id=self.shop_id, name=text(data["shop"].get("name"), 200))

    def iter_orders(self, *, updated_from: datetime, updated_to: datetime) -> Iterator[list[dict]]:
        query = (
            f"status=any&limit={PAGE_SIZE}&order=updated_at+asc"
            f"&updated_at_min={_iso(updated_from)}&updated_at_max={_iso(updated_to)}"
        )
        url = f"{self._url('orders.json')}?{query}"
        while url:
            data, headers = self._call("GET", url)
            orders = (data or {}).get("orders")
            if not isinstance(orders, list):
                raise PlatformRejected("Shopify's orders answer has no order list.")
            if orders:
                yield orders
            url = self._next_url(headers.get("link", ""), url)

    def _next_url(self, link: str, current: str) -> str:
        found = LINK_NEXT.search(link or "")
        if not found:
            return ""
        # Follow Shopify's path and query on the host we called (the Link names the shop's host).
        nxt, here = urlsplit(found.group(1)), urlsplit(current)
        return f"{here.scheme}://{here.netloc}{nxt.path}?{nxt.query}"

    def fetch_order(self, external_id: str) -> dict | None:
        if not external_id.isdigit():
            return None
        data, _ = self._call("GET", self._url(f"orders/{external_id}.json"))
        return None if data is None else data.get("order")

    def external_id_of(self, raw: Mapping[str, Any]) -> str:
        return str(raw.get("id") or "")

    def normalize(self, raw: Mapping[str, Any]) -> NormalizedOrder:
        external_id = self.external_id_of(raw)
        if not external_id:
            raise MalformedOrder("The order has no id.")
        currency = currency_code(raw.get("currency"), external_id=external_id)
        lines = raw.get("line_items")
        if not isinstance(lines, list) or not lines:
            raise MalformedOrder("The order has no line items.", external_id=external_id)
        items = []
        for line in lines:
            if not isinstance(line, dict):
                raise MalformedOrder("A line item is not an object.", external_id=external_id)
            items.append(
                NormalizedItem(
                    external_id=str(line.get("id") or ""),
                    sku=text(line.get("sku"), 64),
                    name=text(line.get("title"), 300) or text(line.get("sku"), 300) or "Item",
                    quantity=quantity(line.get("quantity"), external_id=external_id),
                    unit_price=money(line.get("price"), what="A line item's price", external_id=external_id),
                    currency=currency,
                )
            )
        financial = text(raw.get("financial_status"), 32)
        fulfillment = text(raw.get("fulfillment_status"), 32)
        cancelled = bool(raw.get("cancelled_at"))
        platform_status = f"{financial or 'unknown'}/{fulfillment or 'unfulfilled'}" + (
            "/cancelled" if cancelled else ""
        )
        customer = raw.get("customer") if isinstance(raw.get("customer"), dict) else {}
        shipping = raw.get("shipping_address") if isinstance(raw.get("shipping_address"), dict) else {}
        name = " ".join(
            part for part in (text(customer.get("first_name"), 100), text(customer.get("last_name"), 100)) if part
        )
        return NormalizedOrder(
            external_id=external_id,
            platform_status=platform_status,
            status=status_of(financial, fulfillment, cancelled),
            created_at=utc_from_iso(raw.get("created_at"), what="created_at", external_id=external_id),
            updated_at=utc_from_iso(raw.get("updated_at"), what="updated_at", external_id=external_id),
            currency=currency,
            total_amount=money(raw.get("total_price"), what="total_price", external_id=external_id),
            items=tuple(items),
            is_paid=financial in PAID,
            customer=Customer(
                name=name,
                email=text(raw.get("email") or customer.get("email"), 254),
                phone=text(raw.get("phone") or customer.get("phone"), 32),
            ),
            shipping_address={
                "name": " ".join(
                    part
                    for part in (text(shipping.get("first_name"), 100), text(shipping.get("last_name"), 100))
                    if part
                ),
                "phone": text(shipping.get("phone"), 32),
                "line1": text(shipping.get("address1"), 200),
                "line2": text(shipping.get("address2"), 200),
                "city": text(shipping.get("city"), 100),
                "region": text(shipping.get("province"), 100),
                "postal_code": text(shipping.get("zip"), 20),
                "country": text(shipping.get("country_code"), 2).upper(),
            },
            raw=dict(raw),
        )

    def update_order_status(self, *, external_id: str, status: str, tracking_number: str, carrier: str) -> None:
        if status != "in_transit":
            raise PlatformRejected(f"Shopify is told only of shipping, not {status}.")
        data, _ = self._call("GET", self._url(f"orders/{external_id}/fulfillment_orders.json"))
        if data is None:
            raise PlatformRejected("Shopify does not know the order.")
        open_orders = [
            {"fulfillment_order_id": item["id"]}
            for item in data.get("fulfillment_orders", [])
            if item.get("status") in ("open", "in_progress")
        ]
        if not open_orders:
            return  # fulfilled on Shopify already: nothing to tell it
        fulfillment: dict[str, Any] = {"line_items_by_fulfillment_order": open_orders, "notify_customer": True}
        if tracking_number:
            fulfillment["tracking_info"] = {"number": tracking_number, "company": carrier}
        self._call("POST", self._url("fulfillments.json"), body={"fulfillment": fulfillment})

    def register_webhooks(self, *, callback_url: str) -> None:
        for topic in ("orders/create", "orders/updated", "orders/cancelled"):
            self._call(
                "POST",
                self._url("webhooks.json"),
                body={"webhook": {"topic": topic, "address": callback_url, "format": "json"}},
            )

    @classmethod
    def webhook_shop_id(cls, *, headers: Mapping[str, str], body: bytes) -> str:
        return headers.get("x-shopify-shop-domain", "").strip().lower()

    @classmethod
    def webhook_verify(
        cls, *, credentials: Mapping[str, Any], headers: Mapping[str, str], body: bytes, url: str
    ) -> bool:
        presented = headers.get("x-shopify-hmac-sha256", "")
        expected = base64.b64encode(hmac.new(credentials["api_secret"].encode(), body, hashlib.sha256).digest())
        return bool(presented) and hmac.compare_digest(presented.encode(), expected)

    @classmethod
    def webhook_notice(cls, *, headers: Mapping[str, str], body: bytes) -> WebhookNotice:
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        order_id = str(data.get("id") or "") if isinstance(data, dict) else ""
        return WebhookNotice(
            dedupe_key=headers.get("x-shopify-webhook-id") or body_digest(body),
            topic=headers.get("x-shopify-topic", ""),
            external_order_id=order_id if order_id.isdigit() else "",
        )
