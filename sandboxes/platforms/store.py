"""What the four platform sandboxes share: shops with their credentials and orders, the faults a
test asks for, the calls served, the fulfilments pushed and the webhooks sent. Each platform's
module (shopify.py, shopee.py, lazada.py, tiktok_shop.py) speaks its own wire format over this
state. Standard library only, like every sandbox.

Orders are generated deterministically from a seed (the same seed, the same orders), so a test
or the benchmark knows what a shop holds without asking."""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

PLATFORMS = ("shopify", "shopee", "lazada", "tiktok_shop")


class ApiError(Exception):
    """An answer other than 200, in the platform's own error shape (`body`)."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Answer:
    status: int
    body: dict | list
    headers: dict = field(default_factory=dict)


@dataclass
class Item:
    item_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    currency: str


@dataclass
class Order:
    """A platform order in neutral terms; each platform module writes it in its own shape.
    `status` is the platform's own status string."""

    order_id: str
    created_at: datetime
    updated_at: datetime
    status: str
    currency: str
    items: list[Item]
    customer_name: str
    customer_email: str
    customer_phone: str
    address: dict  # name, phone, line1, city, postal_code, country (masked when the shop masks)
    shipping_fee: Decimal = Decimal("0")
    tracking_number: str = ""
    carrier: str = ""
    # A field the test broke on purpose (a malformed order): {"field": value} merged into the wire payload.
    overrides: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((item.unit_price * item.quantity for item in self.items), Decimal("0")) + self.shipping_fee


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: str | None = None  # sent as the Retry-After header when set
    path: str = ""  # only calls whose path contains it ("" any)
    body: dict | None = None  # the platform's error body, when a test wants one (e.g. an expired token)


@dataclass
class Shop:
    platform: str
    shop_id: str
    name: str
    credentials: dict  # what a call must present: app key and secret, access and refresh tokens
    token_expires_at: datetime | None = None
    mask_addresses: bool = False
    orders: dict[str, Order] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    fulfilments: list[dict] = field(default_factory=list)
    webhook_urls: list[str] = field(default_factory=list)
    webhooks_sent: list[dict] = field(default_factory=list)
    _index: list[tuple[datetime, str]] | None = None  # (updated_at, order_id), sorted; rebuilt after changes

    def by_update(self) -> list[tuple[datetime, str]]:
        if self._index is None:
            self._index = sorted((order.updated_at, order.order_id) for order in self.orders.values())
        return self._index

    def updated_between(self, start: datetime, end: datetime) -> list[Order]:
        """Orders with start <= updated_at <= end, oldest update first (ties by id)."""
        index = self.by_update()
        low = bisect.bisect_left(index, (start, ""))
        high = bisect.bisect_right(index, (end, "\uffff"))
        return [self.orders[order_id] for _, order_id in index[low:high]]

    def created_between(self, start: datetime, end: datetime) -> list[Order]:
        return sorted(
            (order for order in self.orders.values() if start <= order.created_at <= end),
            key=lambda order: (order.created_at, order.order_id),
        )

    def put(self, order: Order) -> None:
        self.orders[order.order_id] = order
        self._index = None


FIRST_NAMES = ("Ana", "Budi", "Chen", "Dewi", "Eka", "Farah", "Gita", "Hao", "Intan", "Joko", "Kim", "Lina")
LAST_NAMES = ("Santos", "Wijaya", "Tan", "Nguyen", "Lim", "Reyes", "Putri", "Wong", "Hidayat", "Cruz")
PRODUCTS = (
    ("TSHIRT-BLK-M", "T-shirt black M", Decimal("12.50")),
    ("MUG-350", "Ceramic mug 350 ml", Decimal("7.90")),
    ("CABLE-USBC-1M", "USB-C cable 1 m", Decimal("4.25")),
    ("CASE-IP15", "Phone case", Decimal("9.99")),
    ("BOTTLE-750", "Steel bottle 750 ml", Decimal("15.00")),
    ("SOCKS-3P", "Socks, 3 pairs", Decimal("6.40")),
)
CITIES = (("Jakarta", "ID"), ("Manila", "PH"), ("Bangkok", "TH"), ("Kuala Lumpur", "MY"), ("Singapore", "SG"))


def generate_orders(
    *,
    platform: str,
    shop_id: str,
    count: int,
    seed: int,
    start: datetime,
    end: datetime,
    currency: str,
    statuses: tuple[str, ...],
    id_format: str = "{n}",
) -> list[Order]:
    """`count` orders created between `start` and `end`, the same for the same arguments. Each is
    updated a little after it was created; its status is drawn from `statuses`. `id_format`
    makes the platform's id from a running number (e.g. Shopee's "2612{n:08d}ABC")."""
    chooser = random.Random(f"{platform}:{shop_id}:{seed}")  # noqa: S311 - test data, not secrets
    span = max((end - start).total_seconds(), 1.0)
    orders = []
    for n in range(1, count + 1):
        created = start + timedelta(seconds=span * (n - 1) / max(count, 1))
        updated = min(created + timedelta(minutes=chooser.randint(0, 90)), end)
        first, last = chooser.choice(FIRST_NAMES), chooser.choice(LAST_NAMES)
        city, country = chooser.choice(CITIES)
        items = []
        for position in range(chooser.randint(1, 3)):
            sku, name, price = chooser.choice(PRODUCTS)
            items.append(
                Item(
                    item_id=f"{n}-{position + 1}",
                    sku=sku,
                    name=name,
                    quantity=chooser.randint(1, 3),
                    unit_price=price,
                    currency=currency,
                )
            )
        digest = hashlib.sha256(f"{shop_id}:{n}".encode()).hexdigest()[:6]
        orders.append(
            Order(
                order_id=id_format.format(n=n, digest=digest.upper()),
                created_at=created.astimezone(UTC).replace(microsecond=0),
                updated_at=updated.astimezone(UTC).replace(microsecond=0),
                status=chooser.choice(statuses),
                currency=currency,
                items=items,
                customer_name=f"{first} {last}",
                customer_email=f"{first}.{last}{n}@example.com".lower(),
                customer_phone=f"+62812{n:07d}",
                address={
                    "name": f"{first} {last}",
                    "phone": f"+62812{n:07d}",
                    "line1": f"Jalan Contoh {n % 200 + 1}",
                    "city": city,
                    "postal_code": f"{10000 + n % 89999}",
                    "country": country,
                },
                shipping_fee=Decimal("2.00"),
            )
        )
    return orders


class PlatformState:
    """Every shop of every platform the sandbox serves, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.shops: dict[tuple[str, str], Shop] = {}
        self.stopping = threading.Event()

    def shop(self, platform: str, shop_id: str) -> Shop | None:
        return self.shops.get((platform, shop_id))

    def add_shop(self, shop: Shop) -> Shop:
        with self.lock:
            self.shops[(shop.platform, shop.shop_id)] = shop
        return shop

    def take_fault(self, shop: Shop, path: str) -> Fault | None:
        """The next fault a call on `path` should answer with, counted down."""
        with self.lock:
            for fault in shop.faults:
                if fault.remaining > 0 and fault.path in path:
                    fault.remaining -= 1
                    return fault
        return None

    def record(self, shop: Shop, *, method: str, path: str, query: dict, status: int) -> None:
        with self.lock:
            shop.requests.append({"method": method, "path": path, "query": query, "status": status})
            del shop.requests[:-5000]  # the last calls are enough to check a conversation
