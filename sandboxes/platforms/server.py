"""The four e-commerce platforms of our own, for development, tests and the benchmark: Shopify,
Shopee, Lazada and TikTok Shop on one port, each under its prefix and speaking its own API
(request signing checked, its pagination, its rate limits and error shapes), over shops held in
memory (sandboxes/platforms/store.py).

    python -m sandboxes.platforms --port 8014 [--demo]

Platform APIs: /shopify/{shop}/admin/api/..., /shopee/api/v2/..., /lazada/rest/..., /tiktok_shop/...
(each module's docstring has its endpoints). The sandbox's own endpoints (no signing; tests, demo):
    POST /_sandbox/shops                         {"platform", "shop_id", "name", "credentials",
                                                  "token_expires_in", "mask_addresses",
                                                  "generate": {"count", "seed", "start", "end", "currency"}}
    POST /_sandbox/shops/{platform}/{shop}/orders            {"generate": {...}} more orders, or
                                                             {"orders": [{"order_id", "status", "overrides"}]}:
                                                             each updated now (and its webhook sent)
    POST /_sandbox/shops/{platform}/{shop}/faults            {"status", "count", "retry_after", "path", "body"}
    POST /_sandbox/shops/{platform}/{shop}/token/expire      the access token expires now
    GET  /_sandbox/shops/{platform}/{shop}/requests          the calls served, oldest first
    GET  /_sandbox/shops/{platform}/{shop}/fulfilments       what was pushed back
    GET  /_sandbox/shops/{platform}/{shop}/webhooks          the webhooks sent and their answers
"""

from __future__ import annotations

import importlib
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from sandboxes.platforms.store import PLATFORMS, Answer, ApiError, Order, PlatformState, Shop, generate_orders
from sandboxes.serving import SandboxServer, StateServer, post_callback, serve

logger = logging.getLogger("sandboxes.platforms")

MAX_BODY_BYTES = 1024 * 1024
MAX_GENERATED = 200_000


def platform_module(platform: str):
    """The module that speaks `platform`'s API: PREFIX, STATUSES, ID_FORMAT, CURRENCY,
    default_credentials(shop_id), handle(state, request) -> Answer, webhook(shop, order, topic, url)."""
    if platform not in PLATFORMS:
        raise ApiError(404, {"error": f"unknown platform {platform[:20]!r}"})
    return importlib.import_module(f"sandboxes.platforms.{platform}")


class Request:
    """One call, as a platform module reads it: the path after the platform's prefix, the query
    (each name to its values), headers (case-insensitive), the raw body."""

    def __init__(self, *, method: str, path: str, query: dict[str, list[str]], headers, body: bytes):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def first(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]

    def json(self) -> dict:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(400, {"error": "body is not JSON"}) from None
        if not isinstance(data, dict):
            raise ApiError(400, {"error": "body must be a JSON object"})
        return data


def _time(value, default: datetime) -> datetime:
    if value in (None, ""):
        return default
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def shop_add(state: PlatformState, data: dict) -> Shop:
    platform = str(data.get("platform", ""))
    module = platform_module(platform)
    shop_id = str(data.get("shop_id") or "")
    if not shop_id:
        raise ApiError(400, {"error": "shop_id is required"})
    credentials = {**module.default_credentials(shop_id), **(data.get("credentials") or {})}
    expires_in = data.get("token_expires_in")
    shop = Shop(
        platform=platform,
        shop_id=shop_id,
        name=str(data.get("name") or shop_id),
        credentials=credentials,
        token_expires_at=datetime.now(UTC) + timedelta(seconds=int(expires_in)) if expires_in else None,
        mask_addresses=bool(data.get("mask_addresses")),
    )
    state.add_shop(shop)
    if data.get("generate"):
        orders_generate(shop, data["generate"])
    return shop


def orders_generate(shop: Shop, spec: dict) -> int:
    module = platform_module(shop.platform)
    count = int(spec.get("count", 10))
    if not 0 <= count <= MAX_GENERATED:
        raise ApiError(400, {"error": f"count is 0..{MAX_GENERATED}"})
    now = datetime.now(UTC)
    end = _time(spec.get("end"), now - timedelta(minutes=1))
    start = _time(spec.get("start"), end - timedelta(days=7))
    first = len(shop.orders)
    orders = generate_orders(
        platform=shop.platform,
        shop_id=shop.shop_id,
        count=first + count,
        seed=int(spec.get("seed", 1)),
        start=start,
        end=end,
        currency=str(spec.get("currency") or module.CURRENCY),
        statuses=tuple(spec.get("statuses") or module.STATUSES),
        id_format=module.ID_FORMAT,
    )[first:]
    for order in orders:
        shop.put(order)
    return len(orders)


def orders_update(state: PlatformState, shop: Shop, changes: list[dict]) -> list[dict]:
    """Each change updates one order now (its status, fields broken on purpose) and sends the
    shop's webhooks for it."""
    module = platform_module(shop.platform)
    sent = []
    for change in changes:
        with state.lock:
            order = shop.orders.get(str(change.get("order_id")))
            if order is None:
                raise ApiError(404, {"error": f"no order {str(change.get('order_id'))[:40]!r}"})
            if change.get("status"):
                order.status = str(change["status"])
            if "overrides" in change:
                order.overrides = dict(change["overrides"] or {})
            order.updated_at = max(datetime.now(UTC).replace(microsecond=0), order.updated_at + timedelta(seconds=1))
            shop.put(order)
        sent.extend(webhooks_send(state, shop, order, topic=str(change.get("topic") or "order.updated"), module=module))
    return sent


def webhooks_send(state: PlatformState, shop: Shop, order: Order, *, topic: str, module) -> list[dict]:
    results = []
    for url in list(shop.webhook_urls):
        headers, body = module.webhook(shop, order, topic, url)
        status, error = post_callback(url, body, {"Content-Type": "application/json", **headers}, timeout=10)
        result = {"url": url, "order_id": order.order_id, "topic": topic, "status": status, "error": error}
        with state.lock:
            shop.webhooks_sent.append(result)
        results.append(result)
    return results


def _control(state: PlatformState, request: Request) -> Answer:
    if request.method == "POST" and request.path == "/_sandbox/shops":
        shop = shop_add(state, request.json())
        return Answer(201, {"platform": shop.platform, "shop_id": shop.shop_id, "orders": len(shop.orders)})
    match = re.fullmatch(r"/_sandbox/shops/(?P<platform>[^/]+)/(?P<shop>[^/]+)/(?P<what>[a-z/]+)", request.path)
    if match is None:
        raise ApiError(404, {"error": "not found"})
    shop = state.shop(match["platform"], unquote(match["shop"]))
    if shop is None:
        raise ApiError(404, {"error": "unknown shop"})
    what = match["what"]
    if request.method == "POST" and what == "orders":
        data = request.json()
        if data.get("generate"):
            return Answer(201, {"generated": orders_generate(shop, data["generate"]), "orders": len(shop.orders)})
        return Answer(200, {"webhooks": orders_update(state, shop, list(data.get("orders") or []))})
    if request.method == "POST" and what == "faults":
        from sandboxes.platforms.store import Fault

        data = request.json()
        fault = Fault(
            status=int(data.get("status", 500)),
            remaining=int(data.get("count", 1)),
            retry_after=None if data.get("retry_after") is None else str(data["retry_after"]),
            path=str(data.get("path") or ""),
            body=data.get("body"),
        )
        with state.lock:
            shop.faults.append(fault)
        return Answer(201, {"faults": len(shop.faults)})
    if request.method == "POST" and what == "token/expire":
        with state.lock:
            shop.token_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        return Answer(200, {"expired": True})
    if request.method == "GET" and what in ("requests", "fulfilments", "webhooks"):
        with state.lock:
            rows = {"requests": shop.requests, "fulfilments": shop.fulfilments, "webhooks": shop.webhooks_sent}[what]
            return Answer(200, {what: list(rows)})
    raise ApiError(404, {"error": "not found"})


class _Handler(BaseHTTPRequestHandler):
    server_version = "PlatformSandbox/1.0"
    server: StateServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        state: PlatformState = self.server.state
        parts = urlsplit(self.path)
        try:
            body = self._read_body()
            request = Request(
                method=method, path=parts.path, query=parse_qs(parts.query), headers=self.headers, body=body
            )
            if parts.path == "/health":
                answer = Answer(200, {"status": "ok"})
            elif parts.path.startswith("/_sandbox/"):
                answer = _control(state, request)
            else:
                platform, _, rest = parts.path.lstrip("/").partition("/")
                module = platform_module(platform)
                request.path = "/" + rest
                answer = module.handle(state, request)
        except ApiError as error:
            answer = Answer(error.status, error.body, error.headers)
        except Exception:
            logger.exception("sandbox error on %s %s", method, parts.path)
            answer = Answer(500, {"error": "internal error"})
        self._answer(answer)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise ApiError(400, {"error": "Content-Length must be a number"})
        if int(length) > MAX_BODY_BYTES:
            raise ApiError(413, {"error": "request body too large"})
        return self.rfile.read(int(length))

    def _answer(self, answer: Answer) -> None:
        body = json.dumps(answer.body, separators=(",", ":"), default=str).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting


def start_server(host: str = "127.0.0.1", port: int = 0, *, state: PlatformState | None = None) -> SandboxServer:
    """Serve the platforms from a daemon thread; port 0 picks a free port (see .url)."""
    return serve(_Handler, state or PlatformState(), host=host, port=port, name="platform-sandboxes")
