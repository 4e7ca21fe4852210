"""Shopify's Admin REST API (2024-07) for the sandbox: /shopify/{shop}/admin/api/{version}/...

    GET  shop.json                                  the shop (checks the access token)
    GET  orders.json?status=any&updated_at_min=&updated_at_max=&limit=&order=updated_at asc
                                                    {"orders": [...]}; the next page through the
                                                    Link header (page_info, rel="next"), none on the last
    GET  orders/{id}.json                           {"order": {...}}, 404 unknown
    GET  orders/{id}/fulfillment_orders.json        {"fulfillment_orders": [{"id", "status"}]}
    POST fulfillments.json                          {"fulfillment": {"line_items_by_fulfillment_order",
                                                    "tracking_info": {"number", "company"}}}
    POST webhooks.json                              {"webhook": {"topic", "address", "format"}}

Authentication: X-Shopify-Access-Token. Every answer carries X-Shopify-Shop-Api-Call-Limit
(the leaky bucket: 40 calls, 2 leak per second); a full bucket is 429 with Retry-After, and a
fault may answer 429 with or without it. Money is strings, times ISO 8601 with the shop's offset.
Webhooks: X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256(api secret, raw body), with X-Shopify-Topic,
X-Shopify-Shop-Domain and X-Shopify-Webhook-Id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

from sandboxes.platforms.store import Answer, ApiError, Order, PlatformState, Shop

STATUSES = ("paid/unfulfilled", "paid/unfulfilled", "pending/unfulfilled", "paid/fulfilled", "cancelled")
ID_FORMAT = "45{n:08d}"
CURRENCY = "USD"
MAX_LIMIT = 250
BUCKET_SIZE = 40
LEAK_PER_SECOND = 2.0
SHOP_OFFSET = timezone(timedelta(hours=-5))  # the shop's time zone: times are written with its offset


def default_credentials(shop_id: str) -> dict:
    return {"access_token": f"shpat_{shop_id}", "api_secret": f"shpss_{shop_id}"}


def _iso(moment: datetime) -> str:
    return moment.astimezone(SHOP_OFFSET).isoformat()


def _parse_time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, {"errors": {name: ["must be an ISO 8601 time"]}}) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def order_json(shop: Shop, order: Order) -> dict:
    financial, _, fulfillment = order.status.partition("/")
    cancelled = order.status == "cancelled"
    address = order.address
    first, _, last = address["name"].partition(" ")
    shipping = {
        "first_name": first,
        "last_name": last,
        "address1": address["line1"],
        "address2": None,
        "city": address["city"],
        "province": None,
        "zip": address["postal_code"],
        "country_code": address["country"],
        "phone": address["phone"],
    }
    if shop.mask_addresses:
        shipping = {key: ("***" if value else value) for key, value in shipping.items()}
    data = {
        "id": int(order.order_id),
        "name": f"#{order.order_id[-6:]}",
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "cancelled_at": _iso(order.updated_at) if cancelled else None,
        "currency": order.currency,
        "total_price": str(order.total),
        "subtotal_price": str(order.total - order.shipping_fee),
        "financial_status": "voided" if cancelled else financial,
        "fulfillment_status": None if cancelled or fulfillment == "unfulfilled" else fulfillment,
        "email": order.customer_email,
        "phone": order.customer_phone,
        "customer": {"first_name": first, "last_name": last, "email": order.customer_email},
        "shipping_address": shipping,
        "line_items": [
            {
                "id": int(f"{order.order_id}{index:02d}"),
                "sku": item.sku,
                "title": item.name,
                "quantity": item.quantity,
                "price": str(item.unit_price),
            }
            for index, item in enumerate(order.items, start=1)
        ],
    }
    data.update(order.overrides)
    return data


def _bucket(state: PlatformState, shop: Shop) -> int:
    """Leak the shop's bucket to now and add this call; the calls in it after this one."""
    with state.lock:
        now = time.monotonic()
        level, at = getattr(shop, "_bucket", (0.0, now))
        level = max(0.0, level - (now - at) * LEAK_PER_SECOND) + 1
        shop._bucket = (level, now)
        return round(level)


def handle(state: PlatformState, request) -> Answer:
    match = re.fullmatch(r"/(?P<shop>[^/]+)/admin/api/(?P<version>[0-9-]+)/(?P<rest>.+)", request.path)
    if match is None:
        raise ApiError(404, {"errors": "Not Found"})
    shop = state.shop("shopify", match["shop"])
    if shop is None:
        raise ApiError(404, {"errors": "Not Found"})
    rest = match["rest"]
    try:
        answer = _handle(state, shop, request, rest, base=f"/shopify/{match['shop']}/admin/api/{match['version']}")
    except ApiError as error:
        state.record(shop, method=request.method, path=rest, query=request.query, status=error.status)
        raise
    state.record(shop, method=request.method, path=rest, query=request.query, status=answer.status)
    return answer


def _handle(state: PlatformState, shop: Shop, request, rest: str, *, base: str) -> Answer:
    token = request.headers.get("X-Shopify-Access-Token") or ""
    if not hmac.compare_digest(token.encode(), shop.credentials["access_token"].encode()):
        raise ApiError(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    fault = state.take_fault(shop, rest)
    if fault is not None:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        raise ApiError(fault.status, fault.body or {"errors": "Exceeded 2 calls per second for api client."}, headers)
    level = _bucket(state, shop)
    limit_header = {"X-Shopify-Shop-Api-Call-Limit": f"{min(level, BUCKET_SIZE)}/{BUCKET_SIZE}"}
    if level > BUCKET_SIZE:
        raise ApiError(429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "1.0"})
    if request.method == "GET" and rest == "shop.json":
        return Answer(200, {"shop": {"name": shop.name, "myshopify_domain": shop.shop_id}}, limit_header)
    if request.method == "GET" and rest == "orders.json":
        return _orders_page(shop, request, base=base, headers=limit_header)
    found = re.fullmatch(r"orders/(?P<id>\d+)\.json", rest)
    if request.method == "GET" and found:
        order = shop.orders.get(found["id"])
        if order is None:
            raise ApiError(404, {"errors": "Not Found"})
        return Answer(200, {"order": order_json(shop, order)}, limit_header)
    found = re.fullmatch(r"orders/(?P<id>\d+)/fulfillment_orders\.json", rest)
    if request.method == "GET" and found:
        order = shop.orders.get(found["id"])
        if order is None:
            raise ApiError(404, {"errors": "Not Found"})
        status = "closed" if order.status.endswith("/fulfilled") else "open"
        return Answer(200, {"fulfillment_orders": [{"id": int(f"9{order.order_id}"), "status": status}]}, limit_header)
    if request.method == "POST" and rest == "fulfillments.json":
        return _fulfil(state, shop, request, limit_header)
    if request.method == "POST" and rest == "webhooks.json":
        webhook = request.json().get("webhook") or {}
        if webhook.get("topic") not in ("orders/create", "orders/updated", "orders/cancelled"):
            raise ApiError(422, {"errors": {"topic": ["Invalid topic specified."]}})
        with state.lock:
            if webhook.get("address") not in shop.webhook_urls:
                shop.webhook_urls.append(str(webhook.get("address")))
        return Answer(201, {"webhook": {"id": len(shop.webhook_urls), **webhook}}, limit_header)
    raise ApiError(404, {"errors": "Not Found"})


def _orders_page(shop: Shop, request, *, base: str, headers: dict) -> Answer:
    page_info = request.first("page_info")
    try:
        limit = int(request.first("limit", "50"))
    except ValueError:
        raise ApiError(400, {"errors": {"limit": ["must be a number"]}}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, {"errors": {"limit": [f"must be 1..{MAX_LIMIT}"]}})
    if page_info:
        # Shopify: with page_info only limit (and fields) may be given; the filters ride in the cursor.
        if set(request.query) - {"page_info", "limit", "fields"}:
            raise ApiError(400, {"errors": {"page_info": ["Only limit and fields may go with page_info"]}})
        try:
            cursor = json.loads(base64.urlsafe_b64decode(page_info.encode()))
            start, end, position = _parse_time(cursor["min"], "min"), _parse_time(cursor["max"], "max"), cursor["pos"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, {"errors": {"page_info": ["Invalid value."]}}) from None
    else:
        start = _parse_time(request.first("updated_at_min") or "1970-01-01T00:00:00Z", "updated_at_min")
        end = _parse_time(request.first("updated_at_max") or "2999-01-01T00:00:00Z", "updated_at_max")
        position = 0
    orders = shop.updated_between(start, end)
    page = orders[position : position + limit]
    answer_headers = dict(headers)
    if position + limit < len(orders):
        cursor = {"min": start.isoformat(), "max": end.isoformat(), "pos": position + limit}
        token = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode()
        url = f"{base}/orders.json?{urlencode({'limit': limit, 'page_info': token})}"
        answer_headers["Link"] = f'<{url}>; rel="next"'
    return Answer(200, {"orders": [order_json(shop, order) for order in page]}, answer_headers)


def _fulfil(state: PlatformState, shop: Shop, request, headers: dict) -> Answer:
    fulfillment = request.json().get("fulfillment") or {}
    groups = fulfillment.get("line_items_by_fulfillment_order") or []
    if not groups:
        raise ApiError(422, {"errors": {"line_items_by_fulfillment_order": ["can't be blank"]}})
    fulfillment_order_id = str(groups[0].get("fulfillment_order_id", ""))
    order = shop.orders.get(fulfillment_order_id[1:])
    if order is None:
        raise ApiError(404, {"errors": "Not Found"})
    if order.status.endswith("/fulfilled"):
        raise ApiError(422, {"errors": ["Fulfillment order is not open."]})
    tracking = fulfillment.get("tracking_info") or {}
    with state.lock:
        order.status = order.status.partition("/")[0] + "/fulfilled"
        order.tracking_number, order.carrier = str(tracking.get("number") or ""), str(tracking.get("company") or "")
        order.updated_at = max(datetime.now(UTC).replace(microsecond=0), order.updated_at + timedelta(seconds=1))
        shop.put(order)
        shop.fulfilments.append(
            {"order_id": order.order_id, "tracking_number": order.tracking_number, "carrier": order.carrier}
        )
    fulfillment_answer = {"id": int(time.time()), "order_id": int(order.order_id), "status": "success"}
    return Answer(201, {"fulfillment": fulfillment_answer}, headers)


def webhook(shop: Shop, order: Order, topic: str, url: str) -> tuple[dict, bytes]:
    body = json.dumps(order_json(shop, order)).encode()
    digest = hmac.new(shop.credentials["api_secret"].encode(), body, hashlib.sha256).digest()
    return {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "orders/updated" if topic == "order.updated" else topic,
        "X-Shopify-Shop-Domain": shop.shop_id,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-API-Version": "2024-07",
    }, body
