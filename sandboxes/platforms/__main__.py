"""`python -m sandboxes.platforms --host 127.0.0.1 --port 8014 [--demo]`: the four platform
sandboxes (Shopify, Shopee, Lazada, TikTok Shop) on one port, as `make run` starts them.

--demo adds one demo shop per platform with ~40 orders over the last 3 days, and every
--demo-interval seconds (20) a new order in one shop and the next status for an order of
another, with the shops' webhooks sent when registered (sandboxes/platforms/demo.py). A
platform whose sandbox module is missing is reported on stderr; the others still serve.
SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from sandboxes.platforms.demo import DEMO_DAYS, DEMO_INTERVAL_SECONDS, DEMO_ORDERS, DemoFlow, demo_shops_add
from sandboxes.platforms.server import start_server

logger = logging.getLogger("sandboxes.platforms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.platforms", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8014)
    parser.add_argument("--demo", action="store_true", help="add the demo shops and let orders flow in")
    parser.add_argument("--demo-orders", type=int, default=DEMO_ORDERS, help="orders per demo shop (40)")
    parser.add_argument("--demo-days", type=float, default=DEMO_DAYS, help="the demo orders' span in days (3)")
    parser.add_argument(
        "--demo-interval",
        type=float,
        default=DEMO_INTERVAL_SECONDS,
        help="seconds between two steps of the demo flow (20; 0: no flow)",
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s platform-sandbox %(message)s")

    server = start_server(arguments.host, arguments.port)
    if arguments.demo:
        shops, failures = demo_shops_add(server.state, orders=arguments.demo_orders, days=arguments.demo_days)
        for platform, reason in failures.items():
            logger.error("demo: no %s shop: %s", platform, reason)
        for shop in shops:
            logger.info("demo shop %s %s: %d orders", shop.platform, shop.shop_id, len(shop.orders))
        DemoFlow(server.state, shops, interval=arguments.demo_interval).start()
    logger.info("listening on %s", server.url)

    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda signum, frame: stop_requested.set())
    while not stop_requested.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
