"""Lazada Open Platform, as the sandbox speaks it (paths after the server's /lazada prefix):

    GET  /rest/seller/get                     the seller the access token is for
    GET  /rest/orders/get                     update_after/update_before (or created_after/created_before),
                                              sort_by, sort_direction, offset (at most 5,000), limit (at most 100)
    GET  /rest/order/get                      order_id
    GET  /rest/order/items/get                order_id
    GET  /rest/orders/items/get               order_ids=[1,2,...] (at most 50)
    POST /rest/order/rts                      order_item_ids=[...], delivery_type=dropship, shipment_provider,
                                              tracking_number (form body): ready to ship, recorded in shop.fulfilments
    GET  /auth/auth/token/refresh             refresh_token: new access and refresh tokens

Every call carries app_key, timestamp (ms, within 7,200 s of now), sign_method=sha256, access_token
(not the token refresh) and sign: the UPPERCASE hex HMAC-SHA256, keyed with the app secret, of the
API path (after /rest or /auth) followed by every other parameter, query and form body alike,
sorted by name and written name+value. The sandbox recomputes it and refuses a mismatch.

Answers are Lazada's envelope, {"code": "0", "data": ..., "request_id"}, and its errors come the
way Lazada sends them: HTTP 200 with {"type", "code", "message", "request_id"} (IllegalAccessToken,
IncompleteSignature, ApiCallLimit, E014 for an offset past the cap, ...; the codes for a bad app key
or timestamp are named here, Lazada's documents do not list them). Lazada's quirks kept:
amounts are sometimes strings ("1,409.94"), sometimes numbers; the order has no currency (each
item row has its own); an item bought three times is three rows; times read "2026-12-01 10:00:00 +0800".

A test breaks an order through `order.overrides`: its keys replace the order's fields, except
"order_items": a list of dicts merged into the item rows by position, or one dict merged into each.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs

from sandboxes.platforms.store import Answer, ApiError, Order, PlatformState, Shop

STATUSES = ("unpaid", "pending", "pending", "packed", "ready_to_ship", "shipped", "delivered", "canceled", "returned")
ID_FORMAT = "5{n:014d}"  # Lazada's order ids are 15-digit numbers
CURRENCY = "PHP"

LIMIT_MAX = 100
OFFSET_MAX = 5000
ITEM_BATCH_MAX = 50
TIMESTAMP_TOLERANCE_MS = 7200 * 1000
TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600
SHOP_TIME = timezone(timedelta(hours=8))  # the seller's local time, which Lazada writes its times in
COUNTRIES = {"ID": "Indonesia", "PH": "Philippines", "TH": "Thailand", "MY": "Malaysia", "SG": "Singapore"}
# Statuses from which the seller may still declare an order ready to ship.
SHIPPABLE = frozenset({"pending", "packed", "topack", "toship", "ready_to_ship"})


def default_credentials(shop_id: str) -> dict:
    """Fresh per shop: the sandbox finds the shop from the access token, as Lazada does."""
    return {
        "app_key": str(100000 + int(hashlib.sha256(shop_id.encode()).hexdigest()[:6], 16) % 900000),
        "app_secret": secrets.token_urlsafe(24),
        "access_token": "50000" + secrets.token_hex(20),
        "refresh_token": "50001" + secrets.token_hex(20),
    }


def request_signature(app_secret: str, api_path: str, params: dict) -> str:
    """Lazada's documented recipe (open.lazada.com, "Signature algorithm")."""
    text = api_path + "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def push_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """Lazada Push Mechanism: the Authorization header, hex HMAC-SHA256 of app key + raw body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


# --- The wire shape -------------------------------------------------------------------------------


def lazada_time(moment: datetime) -> str:
    return moment.astimezone(SHOP_TIME).strftime("%Y-%m-%d %H:%M:%S %z")


def amount_text(amount: Decimal) -> str:
    """As Lazada writes `price`: a string, with a thousands separator from 1,000 up."""
    return f"{amount:,.2f}"


def _wire_id(value: str):
    return int(value) if value.isdigit() else value


def _masked(text: str, keep_start: int, keep_end: int = 0) -> str:
    if len(text) <= keep_start + keep_end:
        return "*" * len(text)
    return text[:keep_start] + "*" * (len(text) - keep_start - keep_end) + (text[-keep_end:] if keep_end else "")


def _address(shop: Shop, order: Order) -> dict:
    address = order.address
    first, _, last = address.get("name", "").partition(" ")
    phone, line1 = address.get("phone", ""), address.get("line1", "")
    if shop.mask_addresses:  # as Lazada shows buyers' details: "61****7"
        phone, line1, last = _masked(phone, 2, 1), _masked(line1, 1), _masked(last, 1)
    return {
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "phone2": "",
        "address1": line1,
        "address2": "",
        "address3": "",
        "address4": address.get("city", ""),
        "address5": "",
        "city": address.get("city", ""),
        "post_code": address.get("postal_code", ""),
        "country": COUNTRIES.get(address.get("country", ""), address.get("country", "")),
    }


def item_rows(shop: Shop, order: Order) -> list[dict]:
    """One row per unit bought, as Lazada lists them."""
    rows = []
    for item in order.items:
        for _ in range(item.quantity):
            number = len(rows) + 1
            rows.append(
                {
                    "order_item_id": _wire_id(f"{order.order_id}{number:03d}"),
                    "order_id": _wire_id(order.order_id),
                    "name": item.name,
                    "sku": item.sku,
                    "shop_sku": f"{item.sku}-{shop.shop_id}",
                    "item_price": float(item.unit_price),  # a JSON number here, a string in paid_price
                    "paid_price": f"{item.unit_price:.2f}",
                    "voucher_amount": "0.00",
                    "shipping_amount": "0.00",
                    "currency": item.currency,
                    "status": order.status,
                    "shipping_type": "Dropshipping",
                    "shipment_provider": order.carrier,
                    "tracking_code": order.tracking_number,
                    "created_at": lazada_time(order.created_at),
                    "updated_at": lazada_time(order.updated_at),
                }
            )
    patch = order.overrides.get("order_items")
    if isinstance(patch, list):
        for row, changes in zip(rows, patch, strict=False):
            row.update(changes or {})
    elif isinstance(patch, dict):
        for row in rows:
            row.update(patch)
    return rows


def order_payload(shop: Shop, order: Order) -> dict:
    address = _address(shop, order)
    price = sum((item.unit_price * item.quantity for item in order.items), Decimal("0"))
    payload = {
        "order_id": _wire_id(order.order_id),
        "order_number": _wire_id(order.order_id),
        "created_at": lazada_time(order.created_at),
        "updated_at": lazada_time(order.updated_at),
        "price": amount_text(price),
        "shipping_fee": float(order.shipping_fee),
        "voucher": "0.00",
        "items_count": sum(item.quantity for item in order.items),
        "statuses": [order.status],
        "payment_method": "COD" if sum(map(ord, order.order_id)) % 3 == 0 else "MIXEDCARD",
        "customer_first_name": address["first_name"],
        "customer_last_name": address["last_name"],
        "address_shipping": address,
        "address_billing": dict(address),
        "remarks": "",
        "gift_option": False,
        "warehouse_code": "dropshipping",
    }
    payload.update({name: value for name, value in order.overrides.items() if name != "order_items"})
    return payload


# --- Serving a call -------------------------------------------------------------------------------


def _error(code: str, message: str, *, kind: str = "ISV", status: int = 200, headers: dict | None = None) -> ApiError:
    body = {"type": kind, "code": code, "message": message, "request_id": secrets.token_hex(12)}
    return ApiError(status, body, headers)


def _ok(data=None, **extra) -> Answer:
    body = {"code": "0", "request_id": secrets.token_hex(12), **extra}
    if data is not None:
        body["data"] = data
    return Answer(200, body)


def _params(request) -> dict[str, str]:
    """Query and form body together (the signature covers both), each name's first value."""
    merged = {name: values[0] for name, values in request.query.items()}
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type == "application/x-www-form-urlencoded" and request.body:
        for name, values in parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True).items():
            merged.setdefault(name, values[0])
    return merged


def _shop_by(state: PlatformState, field: str, value: str) -> Shop | None:
    if not value:
        return None
    with state.lock:
        for shop in state.shops.values():
            if shop.platform == "lazada" and hmac.compare_digest(shop.credentials.get(field, ""), value):
                return shop
    return None


def _fault_answer(fault) -> ApiError:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    if fault.body is not None:
        return ApiError(fault.status, fault.body, headers)
    if fault.status == 429:
        return _error("ApiCallLimit", "The request has exceeded the limit.", status=429, headers=headers)
    return _error("ServiceUnavailable", "The service is temporarily unavailable.", kind="ISP", status=fault.status)


def _check_call(shop: Shop, api_path: str, params: dict, *, needs_token: bool) -> None:
    if params.get("app_key") != shop.credentials.get("app_key"):
        raise _error("InvalidAppKey", "The app key is not valid for this seller.")
    stamp = params.get("timestamp", "")
    if not stamp.isdigit():
        raise _error("MissingTimestamp", "The timestamp (milliseconds) is missing.")
    if abs(int(time.time() * 1000) - int(stamp)) > TIMESTAMP_TOLERANCE_MS:
        raise _error("InvalidTimestamp", "The timestamp is more than 7200 seconds from UTC time.")
    expected = request_signature(shop.credentials.get("app_secret", ""), api_path, params)
    if params.get("sign_method") != "sha256" or not hmac.compare_digest(expected, params.get("sign", "")):
        raise _error("IncompleteSignature", "The request signature does not conform to lazada standards")
    if needs_token and shop.token_expires_at is not None and shop.token_expires_at <= datetime.now(UTC):
        raise _error("IllegalAccessToken", "The specified access token is invalid or expired")


def handle(state: PlatformState, request) -> Answer:
    if request.path.startswith("/rest/"):
        api_path = request.path[len("/rest") :]
    elif request.path.startswith("/auth/"):
        api_path = request.path[len("/auth") :]
    else:
        raise _error("InvalidApiPath", "The specified API path is invalid.", status=404)
    params = _params(request)
    refreshing = api_path == "/auth/token/refresh"
    shop = (
        _shop_by(state, "refresh_token", params.get("refresh_token", ""))
        if refreshing
        else _shop_by(state, "access_token", params.get("access_token", ""))
    )
    if shop is None:
        if refreshing:
            raise _error("IllegalRefreshToken", "The specified refresh token is invalid or expired")
        raise _error("IllegalAccessToken", "The specified access token is invalid or expired")
    logged = {name: ("***" if "token" in name else value) for name, value in params.items()}
    try:
        fault = state.take_fault(shop, request.path)
        if fault is not None:
            raise _fault_answer(fault)
        _check_call(shop, api_path, params, needs_token=not refreshing)
        answer = _dispatch(state, shop, request.method, api_path, params)
    except ApiError as error:
        state.record(shop, method=request.method, path=request.path, query=logged, status=error.status)
        raise
    state.record(shop, method=request.method, path=request.path, query=logged, status=answer.status)
    return answer


def _dispatch(state: PlatformState, shop: Shop, method: str, api_path: str, params: dict) -> Answer:
    routes = {
        ("GET", "/seller/get"): _seller_get,
        ("GET", "/orders/get"): _orders_get,
        ("GET", "/order/get"): _order_get,
        ("GET", "/order/items/get"): _order_items_get,
        ("GET", "/orders/items/get"): _orders_items_get,
        ("POST", "/order/rts"): _order_rts,
        ("GET", "/auth/token/refresh"): _token_refresh,
        ("POST", "/auth/token/refresh"): _token_refresh,
    }
    route = routes.get((method, api_path))
    if route is None:
        raise _error("InvalidApiPath", f"{method} {api_path[:60]} is not an API of this sandbox.", status=404)
    return route(state, shop, params)


def _seller_get(state: PlatformState, shop: Shop, params: dict) -> Answer:
    return _ok(
        {
            "seller_id": shop.shop_id,
            "name": shop.name,
            "name_company": shop.name,
            "short_code": "PH" + hashlib.sha256(shop.shop_id.encode()).hexdigest()[:6].upper(),
            "email": f"seller-{shop.shop_id}@example.com",
            "location": "Manila",
            "status": "ACTIVE",
            "verified": True,
            "cb": False,
        }
    )


def _iso_time(params: dict, name: str) -> datetime | None:
    value = params.get(name, "")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _error("17", f'E017: "{value[:40]}" Invalid Date Format')
    return moment.astimezone(UTC)


def _whole(params: dict, name: str, default: int, *, code: str, label: str) -> int:
    value = params.get(name, str(default))
    if not value.isdigit():
        raise _error(code, f'E0{code}: "{value[:20]}" Invalid {label}')
    return int(value)


def _orders_get(state: PlatformState, shop: Shop, params: dict) -> Answer:
    limit = _whole(params, "limit", LIMIT_MAX, code="19", label="Limit")
    offset = _whole(params, "offset", 0, code="14", label="Offset")
    if not 1 <= limit <= LIMIT_MAX:
        raise _error("19", f'E019: "{limit}" Invalid Limit')
    if offset > OFFSET_MAX:
        raise _error("14", f'E014: "{offset}" Invalid Offset')
    update_after, update_before = _iso_time(params, "update_after"), _iso_time(params, "update_before")
    created_after, created_before = _iso_time(params, "created_after"), _iso_time(params, "created_before")
    if update_after is None and created_after is None:
        raise _error("MissingParameter", "Either update_after or created_after is mandatory.")
    sort_by = params.get("sort_by", "created_at")
    direction = params.get("sort_direction", "DESC")
    if sort_by not in ("created_at", "updated_at"):
        raise _error("75", "E075: Invalid sort filter.")
    if direction not in ("ASC", "DESC"):
        raise _error("74", "E074: Invalid sort direction.")
    far_future = datetime(9999, 1, 1, tzinfo=UTC)
    with state.lock:
        # The index by update time serves the synchronizer's query; a created_* query scans.
        if update_after is not None:
            candidates = shop.updated_between(update_after, update_before or far_future)
        else:
            candidates = list(shop.orders.values())
        orders = [
            order
            for order in candidates
            if (update_before is None or order.updated_at <= update_before)
            and (created_after is None or order.created_at >= created_after)
            and (created_before is None or order.created_at <= created_before)
        ]
        field = "updated_at" if sort_by == "updated_at" else "created_at"
        ordered = sorted(orders, key=lambda order: (getattr(order, field), order.order_id))
        if direction == "DESC":
            ordered.reverse()
        page = [order_payload(shop, order) for order in ordered[offset : offset + limit]]
    return _ok({"count": len(page), "countTotal": len(ordered), "orders": page})


def _order(shop: Shop, order_id: str) -> Order:
    order = shop.orders.get(order_id)
    if order is None:
        raise _error("16", f'E016: "{order_id[:40]}" Invalid Order ID')
    return order


def _order_get(state: PlatformState, shop: Shop, params: dict) -> Answer:
    with state.lock:
        return _ok(order_payload(shop, _order(shop, params.get("order_id", ""))))


def _order_items_get(state: PlatformState, shop: Shop, params: dict) -> Answer:
    with state.lock:
        return _ok(item_rows(shop, _order(shop, params.get("order_id", ""))))


def _id_list(params: dict, name: str, *, at_most: int | None = None) -> list[str]:
    try:
        values = json.loads(params.get(name, ""))
    except ValueError:
        values = None
    if not isinstance(values, list) or not values:
        raise _error("56", f"E056: Invalid {name} format. Must use array format [1,2]")
    if at_most is not None and len(values) > at_most:
        raise _error("38", "E038: Too many orders were requested")
    return [str(value) for value in values]


def _orders_items_get(state: PlatformState, shop: Shop, params: dict) -> Answer:
    order_ids = _id_list(params, "order_ids", at_most=ITEM_BATCH_MAX)
    with state.lock:
        found = [shop.orders[order_id] for order_id in order_ids if order_id in shop.orders]
        if not found:
            raise _error("39", "E039: No orders were found")
        data = [
            {
                "order_id": _wire_id(order.order_id),
                "order_number": _wire_id(order.order_id),
                "order_items": item_rows(shop, order),
            }
            for order in found
        ]
    return _ok(data)


def _order_rts(state: PlatformState, shop: Shop, params: dict) -> Answer:
    """Ready to ship with the seller's own tracking number (dropship): the order's items move to
    ready_to_ship and the fulfilment is recorded for the test to read."""
    item_ids = _id_list(params, "order_item_ids")
    tracking_number = params.get("tracking_number", "").strip()
    provider = params.get("shipment_provider", "").strip()
    if params.get("delivery_type") != "dropship":
        raise _error("InvalidParameter", "delivery_type must be dropship.")
    if not tracking_number or not provider:
        raise _error("MissingParameter", "tracking_number and shipment_provider are required for dropship.")
    with state.lock:
        owners = {item_id[:-3] for item_id in item_ids}  # an item id is its order id + 3 digits
        if len(owners) != 1 or next(iter(owners)) not in shop.orders:
            raise _error("20", "E020: Invalid Order Item IDs")
        order = shop.orders[next(iter(owners))]
        known = {str(row["order_item_id"]) for row in item_rows(shop, order)}
        if not set(item_ids) <= known:
            raise _error("20", "E020: Invalid Order Item IDs")
        if order.status not in SHIPPABLE:
            raise _error("73", f"E073: All order items must have status Pending or Ready To Ship ({order.status})")
        order.status = "ready_to_ship"
        order.tracking_number, order.carrier = tracking_number, provider
        order.updated_at = max(datetime.now(UTC).replace(microsecond=0), order.updated_at + timedelta(seconds=1))
        shop.put(order)
        shop.fulfilments.append(
            {
                "order_id": order.order_id,
                "order_item_ids": item_ids,
                "delivery_type": "dropship",
                "shipment_provider": provider,
                "tracking_number": tracking_number,
                "at": datetime.now(UTC).isoformat(),
            }
        )
    return _ok({"order_items": [{"order_item_id": _wire_id(item_id), "purchase_order_id": ""} for item_id in item_ids]})


def _token_refresh(state: PlatformState, shop: Shop, params: dict) -> Answer:
    """New tokens for the seller; the old ones stop working at once."""
    with state.lock:
        shop.credentials["access_token"] = "50000" + secrets.token_hex(20)
        shop.credentials["refresh_token"] = "50001" + secrets.token_hex(20)
        shop.token_expires_at = datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME_SECONDS)
        credentials = dict(shop.credentials)
    return Answer(
        200,
        {
            "code": "0",
            "access_token": credentials["access_token"],
            "refresh_token": credentials["refresh_token"],
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "refresh_expires_in": 30 * 24 * 3600,
            "account_platform": "seller_center",
            "country": "ph",
            "country_user_info": [{"country": "ph", "seller_id": shop.shop_id, "user_id": shop.shop_id}],
            "request_id": secrets.token_hex(12),
        },
    )


# --- Pushes ---------------------------------------------------------------------------------------


def webhook(shop: Shop, order: Order, topic: str, url: str) -> tuple[dict, bytes]:
    """A trade order message of Lazada Push Mechanism (message_type 0). Lazada signs the app key
    and the body, not the URL, so `url` plays no part."""
    rows = item_rows(shop, order)
    body = json.dumps(
        {
            "seller_id": shop.shop_id,
            "message_type": 0,
            "data": {
                "order_status": order.status,
                "status_update_time": int(order.updated_at.timestamp()),
                "trade_order_id": order.order_id,
                "trade_order_line_id": str(rows[0]["order_item_id"]) if rows else "",
            },
            "timestamp": int(time.time() * 1000),
            "site": "lazada_ph",
        },
        separators=(",", ":"),
    ).encode()
    signature = push_signature(shop.credentials["app_key"], shop.credentials["app_secret"], body)
    return {"Authorization": signature}, body
