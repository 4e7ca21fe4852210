"""The demo shops of `python -m sandboxes.platforms --demo` (what `make run` starts), so that a
newcomer sees platform orders flow in: one shop per platform, with fixed shop ids and fixed
development credentials, ~40 orders over the last 3 days, and a flow that every ~20 s adds a new
order to one shop and moves another order's status on, sending the shop's webhooks when they
are registered.

The demo seeder of the application (apps/integrations/demo.py) connects these very shops with
these very credentials while the sandbox is not running, so the first scheduled sync after
`make run` imports their orders. The tokens never expire in the sandbox (no `token_expires_in`):
a sandbox restarted with the fixed values still takes the credentials the database keeps.
Development values only: nothing here is a secret, and nothing here reaches a real platform.

Shop ids take each platform's form: Shopify names a shop by its myshopify.com domain, the others
by a number.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sandboxes.platforms.server import orders_generate, orders_update, platform_module, shop_add
from sandboxes.platforms.store import PLATFORMS, PlatformState, Shop

logger = logging.getLogger("sandboxes.platforms.demo")

DEMO_ORDERS = 40
DEMO_DAYS = 3
DEMO_INTERVAL_SECONDS = 20.0
DEMO_SEED = 2026


@dataclass(frozen=True)
class DemoShop:
    platform: str
    shop_id: str
    name: str
    credentials: dict


DEMO_SHOPS = (
    DemoShop(
        "shopify",
        "manifest-demo.myshopify.com",
        "Manifest Demo (Shopify)",
        {"access_token": "shpat_manifest_demo_development_0001", "api_secret": "shpss_manifest_demo_development_0001"},
    ),
    DemoShop(
        "shopee",
        "880000101",
        "Manifest Demo (Shopee)",
        {
            "partner_id": "2000101",
            "partner_key": "manifest-demo-shopee-partner-key-development",
            "access_token": "manifestdemoshopeeaccess00000001",
            "refresh_token": "manifestdemoshopeerefresh0000001",
        },
    ),
    DemoShop(
        "lazada",
        "880000102",
        "Manifest Demo (Lazada)",
        {
            "app_key": "200102",
            "app_secret": "manifest-demo-lazada-app-secret-development",
            "access_token": "50000manifestdemolazadaaccess0000000001",
            "refresh_token": "50001manifestdemolazadarefresh000000001",
        },
    ),
    DemoShop(
        "tiktok_shop",
        "7494000000000000103",
        "Manifest Demo (TikTok Shop)",
        {
            "app_key": "6amanifestdemo",
            "app_secret": "ttsmanifestdemotiktokappsecretdevelopment",
            "access_token": "TTP_manifestdemotiktokaccess0000000001",
            "refresh_token": "TTR_manifestdemotiktokrefresh000000001",
            "shop_cipher": "ROW_manifestdemo0000000103",
        },
    ),
)

# The forward path of each platform's statuses that the flow moves orders along (an order in
# the last one, or in none of them, such as a cancelled one, stays where it is).
FLOWS = {
    "shopify": ("pending/unfulfilled", "paid/unfulfilled", "paid/fulfilled"),
    "shopee": ("UNPAID", "READY_TO_SHIP", "PROCESSED", "SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED"),
    "lazada": ("unpaid", "pending", "packed", "ready_to_ship", "shipped", "delivered"),
    "tiktok_shop": ("UNPAID", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"),
}


def shop_id_for(platform: str, *, name: str, number: int) -> str:
    """A shop id in the platform's form: `<name>.myshopify.com` for Shopify, `number` elsewhere."""
    return f"{name}.myshopify.com" if platform == "shopify" else str(number)


def demo_shop(platform: str) -> DemoShop:
    return next(shop for shop in DEMO_SHOPS if shop.platform == platform)


def demo_shops_add(
    state: PlatformState, *, orders: int = DEMO_ORDERS, days: float = DEMO_DAYS, now: datetime | None = None
) -> tuple[list[Shop], dict[str, str]]:
    """Add every platform's demo shop with `orders` orders created over the last `days` days.
    Returns the shops added and, per platform that could not be served, why (a platform's
    module missing): the caller says so loudly; the other platforms still serve."""
    now = now or datetime.now(UTC)
    shops, failures = [], {}
    for platform in PLATFORMS:
        spec = demo_shop(platform)
        try:
            module = platform_module(platform)
            flow = FLOWS.get(platform, ())
            unknown = [status for status in flow if status not in module.STATUSES]
            if unknown:
                raise ValueError(f"the demo flow names statuses the sandbox does not know: {', '.join(unknown)}")
            shop = shop_add(
                state,
                {
                    "platform": platform,
                    "shop_id": spec.shop_id,
                    "name": spec.name,
                    "credentials": dict(spec.credentials),
                    "generate": {
                        "count": orders,
                        "seed": DEMO_SEED,
                        "start": (now - timedelta(days=days)).isoformat(),
                        "end": (now - timedelta(minutes=1)).isoformat(),
                    },
                },
            )
        except (ImportError, ValueError) as error:
            failures[platform] = f"{type(error).__name__}: {error}"
            continue
        shops.append(shop)
    return shops, failures


class DemoFlow:
    """Every `interval` seconds: a new order in one demo shop, and the next status for an order
    of the next shop (their updated_at now, their webhooks sent where registered). Shops take
    turns. Stops when the server stops (`state.stopping`)."""

    def __init__(self, state: PlatformState, shops: list[Shop], *, interval: float, seed: int = DEMO_SEED):
        self.state = state
        self.shops = shops
        self.interval = interval
        self.turn = 0
        self._choose = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self._thread = threading.Thread(target=self._run, name="platform-sandbox-demo-flow", daemon=True)

    def start(self) -> DemoFlow:
        if self.shops and self.interval > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self.state.stopping.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a webhook receiver that misbehaves must not end the demo
                logger.exception("demo flow: a tick failed")

    def tick(self, now: datetime | None = None) -> dict:
        """One step of the flow; what it did (also logged)."""
        now = (now or datetime.now(UTC)).replace(microsecond=0)
        adding = self.shops[self.turn % len(self.shops)]
        moving = self.shops[(self.turn + 1) % len(self.shops)]
        self.turn += 1
        with self.state.lock:
            before = set(adding.orders)
            # Made a second ago: the update that sends its webhooks stamps it now, not in the future.
            start, end = now - timedelta(seconds=2), now - timedelta(seconds=1)
            orders_generate(adding, {"count": 1, "seed": DEMO_SEED, "start": start.isoformat(), "end": end.isoformat()})
            [new_id] = set(adding.orders) - before
        sent = orders_update(self.state, adding, [{"order_id": new_id}])
        done = {"new_order": (adding.platform, adding.shop_id, new_id), "webhooks": len(sent)}
        logger.info("demo: new order %s in %s %s (%d webhooks)", new_id, adding.platform, adding.shop_id, len(sent))
        moved = self._move(moving)
        if moved is not None:
            done["moved"] = moved
        return done

    def _move(self, shop: Shop) -> tuple | None:
        flow = FLOWS.get(shop.platform, ())
        with self.state.lock:
            movable = sorted(order.order_id for order in shop.orders.values() if order.status in flow[:-1])
        if not movable:
            return None
        order_id = self._choose.choice(movable)
        current = shop.orders[order_id].status
        following = flow[flow.index(current) + 1]
        sent = orders_update(self.state, shop, [{"order_id": order_id, "status": following}])
        logger.info(
            "demo: order %s of %s %s moved %s -> %s (%d webhooks)",
            order_id,
            shop.platform,
            shop.shop_id,
            current,
            following,
            len(sent),
        )
        return (shop.platform, shop.shop_id, order_id, current, following)
