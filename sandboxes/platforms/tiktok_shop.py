"""TikTok Shop's Open API (version 202309), as the platform sandbox serves it under /tiktok_shop.

Every API call carries `app_key`, `timestamp` (unix seconds, refused more than 5 minutes off),
`sign` and, for a shop's data, `shop_cipher` in the query, and the access token in the
`x-tts-access-token` header. `sign` is checked for real: lowercase hex HMAC-SHA256 keyed with the
app secret over app_secret + path + the query parameters but `sign` and `access_token`, sorted by
name, each written name then value + the raw body + app_secret. Answers are the envelope
{"code": 0, "message", "data", "request_id"}; a refusal keeps the envelope with its code.

    GET  /authorization/202309/shops                     the shops the token is authorized for
    POST /order/202309/orders/search?page_size&page_token&sort_field&sort_order
         {"update_time_ge", "update_time_lt", "create_time_ge", "create_time_lt", "order_status"}
                                                          order ids, next_page_token ("" at the end)
    GET  /order/202309/orders?ids=a,b                     the orders' details, at most 50 ids
    GET  /logistics/202309/delivery_options/{delivery_option_id}/shipping_providers
                                                          the providers an order's delivery option allows
    POST /fulfillment/202309/orders/{order_id}/packages   {"tracking_number", "shipping_provider_id"}
                                                          (one of its delivery option's providers)
    PUT  /event/202309/webhooks                           {"address", "event_type"}
    GET  /auth/api/v2/token/refresh?app_key&app_secret&refresh_token&grant_type=refresh_token

A page token is opaque to the caller; here it is the last (update_time, id) served, so a page
never repeats or skips an order that did not change while the caller read. Line items carry no
quantity: an order of 3 mugs has 3 line items. Webhooks (type 1, ORDER_STATUS_CHANGE) are signed
with `Authorization` = lowercase hex HMAC-SHA256(app_secret, app_key + raw body).

Error codes: 105002 (expired access token) is TikTok's; the others below are this sandbox's own
choice for the refusals it makes, in TikTok's envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sandboxes.platforms.store import Answer, ApiError, Order, PlatformState, Shop

PLATFORM = "tiktok_shop"
STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)
# TikTok's order ids are 18-digit numbers.
ID_FORMAT = "5764{n:014d}"
CURRENCY = "MYR"

TIMESTAMP_TOLERANCE_SECONDS = 300
PAGE_SIZE_MAX = 100
DETAIL_IDS_MAX = 50
ACCESS_TOKEN_SECONDS = 7 * 24 * 3600  # TikTok's access tokens live a week

CODE_OK = 0
CODE_INVALID_TOKEN = 105001
CODE_EXPIRED_TOKEN = 105002
CODE_INVALID_REFRESH = 105003
CODE_INVALID_SIGN = 106001
CODE_STALE_TIMESTAMP = 106002
CODE_UNKNOWN_APP = 106003
CODE_INVALID_PARAMETER = 36009001
CODE_NOT_FOUND = 36009002
CODE_TOO_MANY_REQUESTS = 36009003
CODE_INTERNAL = 36009004
CODE_STATUS_NOT_ALLOWED = 21011001

SHIPPABLE = frozenset({"AWAITING_SHIPMENT", "AWAITING_COLLECTION", "PARTIALLY_SHIPPING"})
# Every order here ships by the seller's own delivery option, with these providers (TikTok gives
# each delivery option its list; the ids are this sandbox's, in TikTok's 19-digit shape).
DELIVERY_OPTION_ID = "7091146663229654785"
SHIPPING_PROVIDERS = (
    {"id": "6617675021119438849", "name": "J&T Express"},
    {"id": "6617675021119438850", "name": "Pos Laju"},
    {"id": "6617675021119438851", "name": "Ninja Van"},
    {"id": "6617675021119438852", "name": "DHL eCommerce"},
)
# The webhook type of each topic the sandbox's control endpoint may name.
WEBHOOK_TYPES = {"order.updated": 1, "ORDER_STATUS_CHANGE": 1, "RECIPIENT_ADDRESS_UPDATE": 3}


def default_credentials(shop_id: str) -> dict:
    """A new shop's credentials: distinct per shop, the same for the same shop id."""
    digest = hashlib.sha256(f"tiktok_shop:{shop_id}".encode()).hexdigest()
    return {
        "app_key": f"6a{digest[:12]}",
        "app_secret": f"tts{digest[12:44]}",
        "access_token": f"TTP_{digest[44:64]}{secrets.token_hex(8)}",
        "refresh_token": f"TTR_{secrets.token_hex(16)}",
        "shop_cipher": f"ROW_{digest[:20]}",
    }


# --- Signing (the platform's side: recomputed from what came, never trusted) -------------------


def request_signature(app_secret: str, path: str, query: dict[str, str], body: bytes) -> str:
    pairs = "".join(f"{name}{value}" for name, value in sorted(query.items()) if name not in ("sign", "access_token"))
    message = app_secret.encode() + path.encode() + pairs.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(app_secret: str, app_key: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def _envelope(data) -> dict:
    return {"code": CODE_OK, "message": "Success", "data": data, "request_id": secrets.token_hex(10)}


def _error(status: int, code: int, message: str, headers: dict | None = None) -> ApiError:
    body = {"code": code, "message": message, "data": None, "request_id": secrets.token_hex(10)}
    return ApiError(status, body, headers)


def _shops(state: PlatformState) -> list[Shop]:
    with state.lock:
        return [shop for (platform, _), shop in state.shops.items() if platform == PLATFORM]


def _find(state: PlatformState, *, cipher: str, token: str) -> Shop | None:
    """The shop a call is for: by its cipher when it names one, else by its access token."""
    for shop in _shops(state):
        if cipher and shop.credentials.get("shop_cipher") == cipher:
            return shop
        if not cipher and token and hmac.compare_digest(shop.credentials.get("access_token", ""), token):
            return shop
    return None


def _flat_query(request) -> dict[str, str]:
    return {name: values[0] for name, values in request.query.items()}


def _recorded_query(query: dict[str, str]) -> dict[str, str]:
    # The call log is for tests to read: secrets stay out of it, as out of any log.
    return {
        name: ("***" if name in ("app_secret", "refresh_token", "access_token") else v) for name, v in query.items()
    }


# --- Dispatch ----------------------------------------------------------------------------------


def handle(state: PlatformState, request) -> Answer:
    if request.path == "/auth/api/v2/token/refresh":
        return _refresh(state, request)
    query = _flat_query(request)
    token = request.headers.get("x-tts-access-token") or ""
    shop = _find(state, cipher=query.get("shop_cipher", ""), token=token)
    if shop is None:
        raise _error(401, CODE_INVALID_TOKEN, "The access token or shop cipher is not valid.")
    status = 500
    try:
        answer = _serve(state, shop, request, query, token)
        status = answer.status
        return answer
    except ApiError as error:
        status = error.status
        raise
    finally:
        state.record(shop, method=request.method, path=request.path, query=_recorded_query(query), status=status)


def _fault(state: PlatformState, shop: Shop, path: str) -> None:
    fault = state.take_fault(shop, path)
    if fault is None:
        return
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
    if fault.body is not None:
        raise ApiError(fault.status, fault.body, headers)
    code = CODE_TOO_MANY_REQUESTS if fault.status == 429 else CODE_INTERNAL
    message = "Too many requests." if fault.status == 429 else "The service is unavailable."
    raise _error(fault.status, code, message, headers)


def _authenticate(shop: Shop, request, query: dict[str, str], token: str) -> None:
    """What TikTok checks before it reads anything: the app, the time, the signature, the token."""
    credentials = shop.credentials
    if query.get("app_key") != credentials["app_key"]:
        raise _error(401, CODE_UNKNOWN_APP, "The app_key is not valid.")
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        raise _error(400, CODE_INVALID_PARAMETER, "timestamp is required (unix seconds).") from None
    if abs(datetime.now(UTC).timestamp() - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
        raise _error(401, CODE_STALE_TIMESTAMP, "The timestamp is more than 5 minutes off.")
    expected = request_signature(credentials["app_secret"], request.path, query, request.body or b"")
    if not hmac.compare_digest(expected, query.get("sign", "")):
        raise _error(401, CODE_INVALID_SIGN, "The signature is not valid.")
    if not hmac.compare_digest(credentials["access_token"], token):
        raise _error(401, CODE_INVALID_TOKEN, "The access token is not valid.")
    if shop.token_expires_at is not None and shop.token_expires_at <= datetime.now(UTC):
        raise _error(401, CODE_EXPIRED_TOKEN, "Expired credentials.")


def _serve(state: PlatformState, shop: Shop, request, query: dict[str, str], token: str) -> Answer:
    _fault(state, shop, request.path)
    _authenticate(shop, request, query, token)
    path, method = request.path, request.method
    if path == "/authorization/202309/shops" and method == "GET":
        return Answer(200, _envelope({"shops": [_shop_info(shop)]}))
    if query.get("shop_cipher") != shop.credentials["shop_cipher"]:
        raise _error(400, CODE_INVALID_PARAMETER, "shop_cipher is required for a shop's data.")
    if path == "/order/202309/orders/search" and method == "POST":
        return Answer(200, _envelope(_search(state, shop, query, request.json())))
    if path == "/order/202309/orders" and method == "GET":
        return Answer(200, _envelope(_details(state, shop, query)))
    if path == "/event/202309/webhooks" and method == "PUT":
        return Answer(200, _envelope(_subscribe(state, shop, request.json())))
    match = re.fullmatch(r"/logistics/202309/delivery_options/(?P<option>[^/]+)/shipping_providers", path)
    if match and method == "GET":
        if match["option"] != DELIVERY_OPTION_ID:
            raise _error(404, CODE_NOT_FOUND, "The delivery option does not exist.")
        return Answer(200, _envelope({"shipping_providers": [dict(provider) for provider in SHIPPING_PROVIDERS]}))
    match = re.fullmatch(r"/fulfillment/202309/orders/(?P<order_id>[^/]+)/packages", path)
    if match and method == "POST":
        return Answer(200, _envelope(_ship(state, shop, match["order_id"], request.json())))
    raise _error(404, CODE_NOT_FOUND, "No such API.")


def _shop_info(shop: Shop) -> dict:
    return {
        "id": shop.shop_id,
        "cipher": shop.credentials["shop_cipher"],
        "name": shop.name,
        "region": "MY",
        "seller_type": "LOCAL",
        "code": f"MY{hashlib.sha256(shop.shop_id.encode()).hexdigest()[:8].upper()}",
    }


# --- Orders ------------------------------------------------------------------------------------


def _unix(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _error(400, CODE_INVALID_PARAMETER, f"{name} is a unix time in seconds.")
    return value


def _page_token(update_time: int, order_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([update_time, order_id]).encode()).decode().rstrip("=")


def _after(token: str) -> tuple[int, str] | None:
    if not token:
        return None
    try:
        update_time, order_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(update_time), str(order_id)
    except (ValueError, TypeError):
        raise _error(400, CODE_INVALID_PARAMETER, "page_token is not valid.") from None


def _search(state: PlatformState, shop: Shop, query: dict[str, str], body: dict) -> dict:
    try:
        page_size = int(query.get("page_size", ""))
    except ValueError:
        raise _error(400, CODE_INVALID_PARAMETER, "page_size is required.") from None
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise _error(400, CODE_INVALID_PARAMETER, f"page_size is 1 to {PAGE_SIZE_MAX}.")
    sort_field = query.get("sort_field", "create_time")
    sort_order = query.get("sort_order", "DESC")
    if sort_field not in ("create_time", "update_time") or sort_order not in ("ASC", "DESC"):
        raise _error(400, CODE_INVALID_PARAMETER, "sort_field is create_time or update_time, sort_order ASC or DESC.")
    bounds = {name: _unix(body.get(name), name) for name in ("update_time_ge", "update_time_lt")}
    bounds.update({name: _unix(body.get(name), name) for name in ("create_time_ge", "create_time_lt")})
    status = body.get("order_status") or ""
    with state.lock:
        rows = []
        for order in shop.orders.values():
            created, updated = int(order.created_at.timestamp()), int(order.updated_at.timestamp())
            if not _within(updated, bounds["update_time_ge"], bounds["update_time_lt"]):
                continue
            if not _within(created, bounds["create_time_ge"], bounds["create_time_lt"]):
                continue
            if status and order.status != status:
                continue
            rows.append((updated if sort_field == "update_time" else created, order.order_id, order))
    rows.sort(key=lambda row: (row[0], row[1]), reverse=sort_order == "DESC")
    after = _after(query.get("page_token", ""))
    if after is not None:
        rows_left = [
            row for row in rows if ((row[0], row[1]) > after if sort_order == "ASC" else (row[0], row[1]) < after)
        ]
    else:
        rows_left = rows
    page = rows_left[:page_size]
    more = len(rows_left) > page_size
    return {
        "orders": [
            {"id": order.order_id, "status": order.status, "update_time": int(order.updated_at.timestamp())}
            for _, _, order in page
        ],
        "next_page_token": _page_token(page[-1][0], page[-1][1]) if more else "",
        "total_count": len(rows),
    }


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value < high)


def _details(state: PlatformState, shop: Shop, query: dict[str, str]) -> dict:
    ids = [order_id for order_id in query.get("ids", "").split(",") if order_id]
    if not ids:
        raise _error(400, CODE_INVALID_PARAMETER, "ids is required.")
    if len(ids) > DETAIL_IDS_MAX:
        raise _error(400, CODE_INVALID_PARAMETER, f"At most {DETAIL_IDS_MAX} ids.")
    with state.lock:
        return {"orders": [order_payload(shop, shop.orders[i]) for i in ids if i in shop.orders]}


def _mask_word(word: str) -> str:
    if len(word) <= 1:
        return word
    if len(word) == 2:
        return word[0] + "*"
    return word[0] + "*" * (len(word) - 2) + word[-1]


def _mask(text: str) -> str:
    """TikTok's masking of a name or an address line: each word's first and last letters kept."""
    return " ".join(_mask_word(word) for word in text.split(" "))


def _mask_phone(phone: str) -> str:
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:] if len(phone) > 7 else "*" * len(phone)


def _set(payload: dict, dotted: str, value) -> None:
    """An override: "payment.total_amount" reaches into the nested object; None removes the field."""
    *parents, leaf = dotted.split(".")
    target = payload
    for name in parents:
        if not isinstance(target.get(name), dict):
            target[name] = {}
        target = target[name]
    if value is None:
        target.pop(leaf, None)
    else:
        target[leaf] = value


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def order_payload(shop: Shop, order: Order) -> dict:
    """The order as Get Order Detail writes it (the fields the connector reads, and a few more)."""
    address = dict(order.address)
    name, phone, line1 = address.get("name", ""), address.get("phone", ""), address.get("line1", "")
    email = order.customer_email
    if shop.mask_addresses:
        name, phone, line1 = _mask(name), _mask_phone(phone), _mask(line1)
        local, _, domain = email.partition("@")
        email = f"{local[:1]}***@{domain}" if domain else ""
    line_items = []
    for item in order.items:
        sku_id = str(int(hashlib.sha256(item.sku.encode()).hexdigest()[:12], 16))
        for unit in range(1, item.quantity + 1):
            line_items.append(
                {
                    "id": f"{order.order_id[-8:]}{item.item_id.replace('-', '')}{unit:02d}",
                    "sku_id": sku_id,
                    "seller_sku": item.sku,
                    "product_name": item.name,
                    "sku_name": "Default",
                    "sale_price": _money(item.unit_price),
                    "original_price": _money(item.unit_price),
                    "currency": item.currency,
                    "display_status": order.status,
                }
            )
    sub_total = sum((item.unit_price * item.quantity for item in order.items), Decimal("0"))
    created, updated = int(order.created_at.timestamp()), int(order.updated_at.timestamp())
    payload = {
        "id": order.order_id,
        "status": order.status,
        "create_time": created,
        "update_time": updated,
        "buyer_email": email,
        "user_id": hashlib.sha256(order.customer_email.encode()).hexdigest()[:16],
        "payment": {
            "currency": order.currency,
            "sub_total": _money(sub_total),
            "shipping_fee": _money(order.shipping_fee),
            "seller_discount": "0.00",
            "platform_discount": "0.00",
            "tax": "0.00",
            "total_amount": _money(order.total),
            "original_total_product_price": _money(sub_total),
            "original_shipping_fee": _money(order.shipping_fee),
        },
        "recipient_address": {
            "name": name,
            "phone_number": phone,
            "address_line1": line1,
            "address_line2": "",
            "postal_code": address.get("postal_code", ""),
            "region_code": address.get("country", ""),
            "full_address": ", ".join(part for part in (line1, address.get("city", "")) if part),
            "district_info": [
                {"address_level_name": "Country", "address_name": address.get("country", "")},
                {"address_level_name": "City", "address_name": address.get("city", "")},
            ],
        },
        "line_items": line_items,
        "delivery_option_id": DELIVERY_OPTION_ID,
        "shipping_provider": _provider_name(order.carrier),
        "shipping_provider_id": order.carrier,
        "tracking_number": order.tracking_number,
    }
    if order.status != "UNPAID":
        payload["paid_time"] = created + 120
    for dotted, value in order.overrides.items():
        _set(payload, dotted, value)
    return payload


def _provider_name(provider_id: str) -> str:
    return next((known["name"] for known in SHIPPING_PROVIDERS if known["id"] == provider_id), "")


def _ship(state: PlatformState, shop: Shop, order_id: str, body: dict) -> dict:
    tracking_number = str(body.get("tracking_number") or "").strip()
    provider = str(body.get("shipping_provider_id") or "").strip()
    if not tracking_number or not provider:
        raise _error(400, CODE_INVALID_PARAMETER, "tracking_number and shipping_provider_id are required.")
    if provider not in {known["id"] for known in SHIPPING_PROVIDERS}:
        raise _error(400, CODE_INVALID_PARAMETER, "The shipping_provider_id is not one of the delivery option's.")
    with state.lock:
        order = shop.orders.get(order_id)
        if order is None:
            raise _error(404, CODE_NOT_FOUND, "The order does not exist.")
        if order.status not in SHIPPABLE:
            raise _error(400, CODE_STATUS_NOT_ALLOWED, f"An order in {order.status} cannot be shipped.")
        package_id = f"11{hashlib.sha256(f'{order_id}:{tracking_number}'.encode()).hexdigest()[:16]}"
        order.status = "IN_TRANSIT"
        order.tracking_number, order.carrier = tracking_number, provider
        order.updated_at = max(datetime.now(UTC).replace(microsecond=0), order.updated_at + timedelta(seconds=1))
        shop.put(order)
        shop.fulfilments.append(
            {
                "order_id": order_id,
                "package_id": package_id,
                "tracking_number": tracking_number,
                "shipping_provider_id": provider,
                "at": datetime.now(UTC).isoformat(),
            }
        )
    return {"package_id": package_id, "warning": None}


def _subscribe(state: PlatformState, shop: Shop, body: dict) -> dict:
    address = str(body.get("address") or "")
    if not re.fullmatch(r"https?://\S+", address) or not body.get("event_type"):
        raise _error(400, CODE_INVALID_PARAMETER, "address (http or https) and event_type are required.")
    with state.lock:
        if address not in shop.webhook_urls:
            shop.webhook_urls.append(address)
    return {}


# --- Tokens ------------------------------------------------------------------------------------


def _refresh(state: PlatformState, request) -> Answer:
    """TikTok's token refresh: no signature, the app secret and refresh token in the query."""
    query = _flat_query(request)
    shop = next(
        (
            shop
            for shop in _shops(state)
            if shop.credentials.get("app_key") == query.get("app_key")
            and hmac.compare_digest(shop.credentials.get("refresh_token", ""), query.get("refresh_token", ""))
        ),
        None,
    )
    if shop is None:
        raise _error(401, CODE_INVALID_REFRESH, "The refresh token is not valid.")
    status = 500
    try:
        _fault(state, shop, request.path)
        if query.get("grant_type") != "refresh_token":
            raise _error(400, CODE_INVALID_PARAMETER, "grant_type must be refresh_token.")
        if not hmac.compare_digest(shop.credentials["app_secret"], query.get("app_secret", "")):
            raise _error(401, CODE_UNKNOWN_APP, "The app_secret is not valid.")
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ACCESS_TOKEN_SECONDS)
        with state.lock:
            shop.credentials["access_token"] = f"TTP_{secrets.token_hex(18)}"
            shop.credentials["refresh_token"] = f"TTR_{secrets.token_hex(16)}"
            shop.token_expires_at = expires_at
            data = {
                "access_token": shop.credentials["access_token"],
                "access_token_expire_in": int(expires_at.timestamp()),
                "refresh_token": shop.credentials["refresh_token"],
                "refresh_token_expire_in": int((expires_at + timedelta(days=30)).timestamp()),
                "open_id": hashlib.sha256(shop.shop_id.encode()).hexdigest()[:24],
                "seller_name": shop.name,
                "seller_base_region": "MY",
                "user_type": 0,
            }
        status = 200
        return Answer(200, _envelope(data))
    except ApiError as error:
        status = error.status
        raise
    finally:
        state.record(shop, method=request.method, path=request.path, query=_recorded_query(query), status=status)


# --- Webhooks ----------------------------------------------------------------------------------


def webhook(shop: Shop, order: Order, topic: str, url: str) -> tuple[dict, bytes]:
    """The push TikTok sends when an order changes, signed with the shop's app secret. The
    notification id is the same for the same change (a redelivery is the same notification)."""
    updated = int(order.updated_at.timestamp())
    notification = hashlib.sha256(f"{shop.shop_id}:{order.order_id}:{updated}:{order.status}:{topic}".encode())
    body = json.dumps(
        {
            "type": WEBHOOK_TYPES.get(topic, 1),
            "tts_notification_id": str(int(notification.hexdigest()[:15], 16)),
            "shop_id": shop.shop_id,
            "timestamp": int(datetime.now(UTC).timestamp()),
            "data": {"order_id": order.order_id, "order_status": order.status, "update_time": updated},
        },
        separators=(",", ":"),
    ).encode()
    signature = webhook_signature(shop.credentials["app_secret"], shop.credentials["app_key"], body)
    return {"Authorization": signature}, body
