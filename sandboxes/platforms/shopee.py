"""Shopee Open Platform v2, as the sandbox serves it under /shopee (standard library only).

What it checks, as Shopee does:
- every call carries `partner_id`, `timestamp` and `sign` in the query; a shop call also
  `access_token` and `shop_id`. `sign` is the lowercase hex HMAC-SHA256, with the partner key, of
  `partner_id + path + timestamp` (public calls: token refresh, push configuration) followed by
  `access_token + shop_id` (shop calls); it is recomputed and compared. A timestamp more than 5
  minutes off is refused; an access token that is not the shop's, or has expired, is refused
  with `invalid_access_token` (the adapter then refreshes it).
- answers are the v2 envelope: `request_id`, `error` ("" on success), `message`, `response`.

Endpoints (paths after /shopee):
    POST /api/v2/auth/access_token/get        {refresh_token, partner_id, shop_id} -> new access
                                              and refresh tokens (the old ones stop working)
    GET  /api/v2/shop/get_shop_info           the shop's name (fields at the top level, as Shopee)
    GET  /api/v2/order/get_order_list         time_range_field=update_time|create_time,
                                              time_from/time_to at most 15 days apart, page_size
                                              1..100, cursor -> order_list, more, next_cursor
    GET  /api/v2/order/get_order_detail       order_sn_list (1..50, comma separated),
                                              response_optional_fields (items, amounts, address
                                              only when asked for, as Shopee)
    POST /api/v2/logistics/ship_order         {order_sn, non_integrated: {tracking_number}}
    POST /api/v2/push/set_app_push_config     {callback_url, set_push_config_on}: every shop of the
                                              partner pushes there from now on

A push (`webhook`) is signed as Shopee signs it: `Authorization` = lowercase hex HMAC-SHA256, with
the partner key, of `callback_url + "|" + raw_body`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sandboxes.platforms.store import Answer, ApiError, Fault, Order, PlatformState, Shop

PREFIX = "/shopee"
PLATFORM = "shopee"
STATUSES = (
    "UNPAID",
    "READY_TO_SHIP",
    "PROCESSED",
    "SHIPPED",
    "TO_CONFIRM_RECEIVE",
    "COMPLETED",
    "RETRY_SHIP",
    "IN_CANCEL",
    "CANCELLED",
    "TO_RETURN",
)
# order_sn: 14 characters, the date's digits then letters and digits (e.g. "26000042A1B2C3").
ID_FORMAT = "26{n:06d}{digest}"
CURRENCY = "SGD"

TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
MAX_WINDOW_SECONDS = 15 * 24 * 3600
MAX_PAGE_SIZE = 100
MAX_DETAIL_ORDERS = 50
ACCESS_TOKEN_SECONDS = 4 * 3600
SHIPPABLE = {"READY_TO_SHIP", "PROCESSED", "RETRY_SHIP"}
# Fields get_order_detail returns only when response_optional_fields names them.
OPTIONAL_FIELDS = {
    "buyer_user_id",
    "buyer_username",
    "recipient_address",
    "item_list",
    "pay_time",
    "total_amount",
    "estimated_shipping_fee",
    "actual_shipping_fee",
    "shipping_carrier",
    "payment_method",
    "package_list",
    "note",
}
ERROR_OF_STATUS = {429: "error_rate_limit", 500: "error_server", 502: "error_server", 503: "error_server"}


def _digest(*parts: str) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()


def default_credentials(shop_id: str) -> dict:
    """A new shop's partner (app) and tokens, the same for the same shop id."""
    return {
        "partner_id": str(1_000_000 + int(_digest("partner", shop_id)[:8], 16) % 9_000_000),
        "partner_key": _digest("partner_key", shop_id),
        "access_token": _digest("access_token", shop_id)[:32],
        "refresh_token": _digest("refresh_token", shop_id)[:32],
    }


def sign(partner_key: str, *parts: str) -> str:
    """Shopee's request signature: lowercase hex HMAC-SHA256 of the parts concatenated."""
    return hmac.new(partner_key.encode(), "".join(parts).encode(), hashlib.sha256).hexdigest()


def push_authorization(partner_key: str, url: str, body: bytes) -> str:
    return hmac.new(partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256).hexdigest()


def _envelope(response: dict | None = None, **extra) -> dict:
    body = {"request_id": secrets.token_hex(16), "error": "", "message": ""}
    if response is not None:
        body["response"] = response
    body.update(extra)
    return body


def _error(status: int, error: str, message: str) -> ApiError:
    return ApiError(status, _envelope(error=error, message=message))


# --- Requests --------------------------------------------------------------------------------------


def handle(state: PlatformState, request) -> Answer:
    path = request.path
    if path == "/api/v2/auth/access_token/get" and request.method == "POST":
        return _refresh(state, request)
    if path == "/api/v2/push/set_app_push_config" and request.method == "POST":
        return _set_push_config(state, request)
    routes = {
        ("GET", "/api/v2/shop/get_shop_info"): _shop_info,
        ("GET", "/api/v2/order/get_order_list"): _order_list,
        ("GET", "/api/v2/order/get_order_detail"): _order_detail,
        ("POST", "/api/v2/logistics/ship_order"): _ship_order,
    }
    route = routes.get((request.method, path))
    if route is None:
        raise _error(404, "error_not_found", "Invalid API path.")
    shop = state.shop(PLATFORM, request.first("shop_id"))
    if shop is None:
        raise _error(403, "error_auth", "Invalid partner_id or shop_id.")

    def work() -> Answer:
        _checked_shop_call(shop, request)
        return route(state, shop, request)

    return _served(state, shop, request, work)


def _served(state: PlatformState, shop: Shop, request, work) -> Answer:
    """Answer a fault the test asked for, else do the work; either way the call is logged."""
    query = {name: values[0] if len(values) == 1 else values for name, values in request.query.items()}
    fault = state.take_fault(shop, request.path)
    try:
        if fault is not None:
            raise _fault_error(fault)
        answer = work()
    except ApiError as error:
        state.record(shop, method=request.method, path=request.path, query=query, status=error.status)
        raise
    state.record(shop, method=request.method, path=request.path, query=query, status=answer.status)
    return answer


def _fault_error(fault: Fault) -> ApiError:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    body = fault.body or _envelope(
        error=ERROR_OF_STATUS.get(fault.status, "error_server" if fault.status >= 500 else "error_param"),
        message="Too many requests." if fault.status == 429 else "The sandbox was asked to fail this call.",
    )
    return ApiError(fault.status, body, headers)


def _check_timestamp(request) -> int:
    raw = request.first("timestamp")
    if not raw.isdigit():
        raise _error(400, "error_param", "timestamp is required and is a number of seconds.")
    timestamp = int(raw)
    if abs(time.time() - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
        raise _error(403, "error_param", "Invalid timestamp: it must be within 5 minutes of now.")
    return timestamp


def _check_sign(partner_key: str, request, *parts: str) -> None:
    given = request.first("sign")
    if not given or not hmac.compare_digest(sign(partner_key, *parts), given):
        raise _error(403, "error_sign", "Wrong sign.")


def _checked_shop_call(shop: Shop, request) -> None:
    credentials = shop.credentials
    _check_timestamp(request)
    if request.first("partner_id") != credentials["partner_id"]:
        raise _error(403, "error_auth", "Invalid partner_id or shop_id.")
    _check_sign(
        credentials["partner_key"],
        request,
        request.first("partner_id"),
        request.path,
        request.first("timestamp"),
        request.first("access_token"),
        request.first("shop_id"),
    )
    token = request.first("access_token")
    expired = shop.token_expires_at is not None and shop.token_expires_at <= datetime.now(UTC)
    if expired or not hmac.compare_digest(token, credentials["access_token"]):
        raise _error(403, "invalid_access_token", "Invalid access_token.")


def _refresh(state: PlatformState, request) -> Answer:
    data = request.json()
    shop = state.shop(PLATFORM, str(data.get("shop_id") or ""))
    if shop is None:
        raise _error(403, "error_auth", "Invalid partner_id or shop_id.")

    def work() -> Answer:
        credentials = shop.credentials
        _check_timestamp(request)
        partner_id = request.first("partner_id")
        if partner_id != credentials["partner_id"] or str(data.get("partner_id")) != partner_id:
            raise _error(403, "error_auth", "Invalid partner_id or shop_id.")
        _check_sign(credentials["partner_key"], request, partner_id, request.path, request.first("timestamp"))
        if not hmac.compare_digest(str(data.get("refresh_token") or ""), credentials["refresh_token"]):
            raise _error(403, "error_auth", "Invalid refresh_token.")
        with state.lock:
            credentials["access_token"] = secrets.token_hex(16)
            credentials["refresh_token"] = secrets.token_hex(16)
            shop.token_expires_at = datetime.now(UTC) + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        # Shopee answers the tokens at the top level, not in `response`.
        return Answer(
            200,
            _envelope(
                access_token=credentials["access_token"],
                refresh_token=credentials["refresh_token"],
                expire_in=ACCESS_TOKEN_SECONDS,
                partner_id=int(partner_id),
                shop_id=int(shop.shop_id) if shop.shop_id.isdigit() else shop.shop_id,
            ),
        )

    return _served(state, shop, request, work)


def _set_push_config(state: PlatformState, request) -> Answer:
    """The push configuration is the partner's (the app's), not a shop's: every shop of the partner
    pushes to the callback URL."""
    partner_id = request.first("partner_id")
    with state.lock:
        shops = sorted(
            (shop for shop in state.shops.values() if shop.platform == PLATFORM),
            key=lambda shop: shop.shop_id,
        )
    shops = [shop for shop in shops if shop.credentials.get("partner_id") == partner_id]
    if not shops:
        raise _error(403, "error_auth", "Invalid partner_id.")
    data = request.json()

    def work() -> Answer:
        _check_timestamp(request)
        _check_sign(shops[0].credentials["partner_key"], request, partner_id, request.path, request.first("timestamp"))
        url = str(data.get("callback_url") or "")
        if not url.startswith(("http://", "https://")):
            raise _error(400, "error_param", "callback_url must be an http(s) URL.")
        codes = data.get("set_push_config_on") or []
        with state.lock:
            for shop in shops:
                shop.webhook_urls = [url] if 3 in codes else []
        return Answer(200, _envelope({"result": "success"}))

    return _served(state, shops[0], request, work)


def _shop_info(state: PlatformState, shop: Shop, request) -> Answer:
    return Answer(200, _envelope(shop_name=shop.name, region="SG", status="NORMAL", is_cb=False))


# --- Orders ------------------------------------------------------------------------------------


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _int_param(request, name: str, *, required: bool = True, default: int = 0) -> int:
    raw = request.first(name)
    if raw == "" and not required:
        return default
    try:
        return int(raw)
    except ValueError:
        raise _error(400, "error_param", f"{name} is required and is a whole number.") from None


def _cursor_encode(moment: datetime, order_sn: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([_unix(moment), order_sn]).encode()).decode()


def _cursor_decode(cursor: str) -> tuple[int, str] | None:
    if not cursor:
        return None
    try:
        moment, order_sn = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(moment), str(order_sn)
    except (ValueError, TypeError):
        raise _error(400, "error_param", "Invalid cursor.") from None


def _order_list(state: PlatformState, shop: Shop, request) -> Answer:
    field = request.first("time_range_field")
    if field not in ("create_time", "update_time"):
        raise _error(400, "error_param", "time_range_field is create_time or update_time.")
    time_from, time_to = _int_param(request, "time_from"), _int_param(request, "time_to")
    if time_from > time_to:
        raise _error(400, "error_param", "time_from must not be after time_to.")
    if time_to - time_from > MAX_WINDOW_SECONDS:
        raise _error(400, "error_param", "The time range must not be longer than 15 days.")
    page_size = _int_param(request, "page_size")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _error(400, "error_param", "page_size is 1 to 100.")
    after = _cursor_decode(request.first("cursor"))
    start = datetime.fromtimestamp(time_from, UTC)
    end = datetime.fromtimestamp(time_to, UTC)
    with state.lock:
        if field == "update_time":
            orders = shop.updated_between(start, end)
            key = lambda order: (_unix(order.updated_at), order.order_id)  # noqa: E731
        else:
            orders = shop.created_between(start, end)
            key = lambda order: (_unix(order.created_at), order.order_id)  # noqa: E731
        wanted_status = request.first("order_status")
        # The cursor is the last (time, order_sn) served: an order updated while a client pages
        # moves past the cursor and is served again, never skipped.
        selected = [
            order
            for order in orders
            if (after is None or key(order) > after) and (not wanted_status or order.status == wanted_status)
        ]
    page = selected[:page_size]
    more = len(selected) > page_size
    with_status = "order_status" in request.first("response_optional_fields").split(",")
    order_list = [
        {"order_sn": order.order_id, **({"order_status": order.status} if with_status else {})} for order in page
    ]
    next_cursor = _cursor_encode(*_moment_and_id(page[-1], field)) if more else ""
    return Answer(200, _envelope({"more": more, "next_cursor": next_cursor, "order_list": order_list}))


def _moment_and_id(order: Order, field: str) -> tuple[datetime, str]:
    return (order.updated_at if field == "update_time" else order.created_at), order.order_id


def _order_detail(state: PlatformState, shop: Shop, request) -> Answer:
    order_sns = [sn.strip() for sn in request.first("order_sn_list").split(",") if sn.strip()]
    if not 1 <= len(order_sns) <= MAX_DETAIL_ORDERS:
        raise _error(400, "error_param", "order_sn_list has 1 to 50 order_sn.")
    optional = {name.strip() for name in request.first("response_optional_fields").split(",")} & OPTIONAL_FIELDS
    with state.lock:
        found = [shop.orders[sn] for sn in order_sns if sn in shop.orders]
        payloads = [order_payload(shop, order, optional) for order in found]
    missing = [sn for sn in order_sns if sn not in shop.orders]
    extra = {"warning": [f"order_sn {sn} not found" for sn in missing]} if missing else {}
    return Answer(200, _envelope({"order_list": payloads}, **extra))


def _number(amount: Decimal):
    """Shopee writes amounts as JSON numbers."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _masked(shop: Shop, value: str, *, keep_tail: int = 0) -> str:
    if not shop.mask_addresses:
        return value
    return "****" + (value[-keep_tail:] if keep_tail else "")


def _item_id(sku: str) -> int:
    return int(_digest("item", sku)[:10], 16) % 10_000_000_000


def order_payload(shop: Shop, order: Order, optional: set[str]) -> dict:
    """The order as get_order_detail writes it: the fields Shopee always returns, the optional
    ones asked for, then what the test broke on purpose (`order.overrides`)."""
    address = order.address
    payload = {
        "order_sn": order.order_id,
        "region": address.get("country", "SG"),
        "currency": order.currency,
        "cod": False,
        "order_status": order.status,
        "create_time": _unix(order.created_at),
        "update_time": _unix(order.updated_at),
        "days_to_ship": 3,
        "ship_by_date": _unix(order.created_at + timedelta(days=3)),
        "message_to_seller": "",
    }
    fields = {
        "buyer_user_id": int(_digest("buyer", order.customer_email)[:8], 16),
        "buyer_username": order.customer_email.split("@")[0],
        "recipient_address": {
            "name": _masked(shop, address.get("name", "")),
            "phone": _masked(shop, address.get("phone", ""), keep_tail=2),
            "town": "",
            "district": "",
            "city": _masked(shop, address.get("city", "")),
            "state": "",
            "region": address.get("country", ""),
            "zipcode": _masked(shop, address.get("postal_code", "")),
            "full_address": _masked(shop, f"{address.get('line1', '')}, {address.get('city', '')}"),
        },
        "item_list": [
            {
                "item_id": _item_id(item.sku),
                "item_name": item.name,
                "item_sku": item.sku,
                "model_id": 0,
                "model_name": "",
                "model_sku": item.sku,
                "model_quantity_purchased": item.quantity,
                "model_original_price": _number(item.unit_price),
                "model_discounted_price": _number(item.unit_price),
                "order_item_id": _item_id(item.sku),
            }
            for item in order.items
        ],
        "pay_time": None if order.status == "UNPAID" else _unix(order.created_at + timedelta(minutes=5)),
        "total_amount": _number(order.total),
        "estimated_shipping_fee": _number(order.shipping_fee),
        "actual_shipping_fee": _number(order.shipping_fee),
        "shipping_carrier": order.carrier or "Standard Delivery",
        "payment_method": "Credit Card",
        "package_list": [
            {"package_number": f"OFG{order.order_id}", "logistics_status": "LOGISTICS_READY", "item_list": []}
        ],
        "note": "",
    }
    payload.update({name: value for name, value in fields.items() if name in optional})
    if payload.get("pay_time", 0) is None:
        payload.pop("pay_time")
    payload.update(order.overrides)
    return payload


def _ship_order(state: PlatformState, shop: Shop, request) -> Answer:
    data = request.json()
    order_sn = str(data.get("order_sn") or "")
    non_integrated = data.get("non_integrated")
    tracking_number = (
        str((non_integrated or {}).get("tracking_number") or "") if isinstance(non_integrated, dict) else ""
    )
    if not tracking_number:
        raise _error(400, "error_param", "non_integrated.tracking_number is required for this channel.")
    with state.lock:
        order = shop.orders.get(order_sn)
        if order is None:
            raise _error(400, "error_not_found", "Order not found.")
        if order.status not in SHIPPABLE:
            raise _error(400, "logistics.ship_order_status_error", f"The order cannot be shipped in {order.status}.")
        now = datetime.now(UTC).replace(microsecond=0)
        order.status = "SHIPPED"
        order.tracking_number = tracking_number
        order.updated_at = max(now, order.updated_at + timedelta(seconds=1))
        shop.put(order)
        shop.fulfilments.append(
            {"order_id": order_sn, "tracking_number": tracking_number, "status": "SHIPPED", "at": now.isoformat()}
        )
    return Answer(200, _envelope({}))


# --- Pushes ------------------------------------------------------------------------------------


def webhook(shop: Shop, order: Order, topic: str, url: str) -> tuple[dict, bytes]:
    """The push Shopee sends when an order changes: code 3 (order status), or 4 (tracking number)
    when the topic says tracking; signed over the callback URL and the raw body."""
    shop_id = int(shop.shop_id) if shop.shop_id.isdigit() else shop.shop_id
    if "tracking" in topic:
        code, data = 4, {"ordersn": order.order_id, "tracking_no": order.tracking_number, "package_number": ""}
    else:
        code, data = 3, {"ordersn": order.order_id, "status": order.status, "update_time": _unix(order.updated_at)}
    body = json.dumps({"shop_id": shop_id, "code": code, "timestamp": int(time.time()), "data": data}).encode()
    return {"Authorization": push_authorization(shop.credentials["partner_key"], url, body)}, body
