"""The Lazada mapper: a raw order as Lazada writes it (numbers as strings or numbers, a thousands
separator, no order-level currency, one item row per unit, "+0800" times) → our NormalizedOrder,
or MalformedOrder with its reason."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import MalformedOrder
from apps.integrations.adapters.lazada import LazadaAdapter
from tests.integrations.lazada_support import PLATFORM, lazada_shop

CREDENTIALS = {"app_key": "100001", "app_secret": "s", "access_token": "a", "refresh_token": "r"}


def _row(number: int, *, sku: str, price, currency: str = "PHP", status: str = "pending") -> dict:
    return {
        "order_item_id": 491253082180001000 + number,
        "order_id": 491253082180001,
        "name": f"Product {sku}",
        "sku": sku,
        "item_price": price,
        "paid_price": str(price),
        "currency": currency,
        "status": status,
    }


RAW = {
    "order_id": 491253082180001,
    "order_number": 491253082180001,
    "created_at": "2026-12-01 10:00:00 +0800",
    "updated_at": "2026-12-01 18:30:05 +0800",
    "price": "1,409.94",
    "shipping_fee": 2.5,
    "voucher": "0.00",
    "statuses": ["pending"],
    "payment_method": "MIXEDCARD",
    "customer_first_name": "Ha",
    "customer_last_name": "Hung",
    "address_shipping": {
        "first_name": "Ha",
        "last_name": "Hung",
        "phone": "6512345678",
        "address1": "1 Changi Village Road, 11",
        "address2": "",
        "city": "Singapore",
        "post_code": "500001",
        "country": "Singapore",
    },
    "order_items": [
        _row(1, sku="CASE-IP15", price="400.00"),
        _row(2, sku="CASE-IP15", price="400.00"),
        _row(3, sku="CASE-IP15", price="400.00"),
        _row(4, sku="MUG-350", price=209.94),
    ],
}


def _adapter() -> LazadaAdapter:
    return LazadaAdapter(shop_id="1", credentials=CREDENTIALS, options={"BASE_URL": "", "AUTH_URL": ""})


def _with(**changes) -> dict:
    raw = copy.deepcopy(RAW)
    raw.update(changes)
    return raw


def test_an_order_maps_with_decimal_money_utc_times_and_rows_aggregated():
    order = _adapter().normalize(copy.deepcopy(RAW))

    assert order.external_id == "491253082180001"
    assert order.total_amount == Decimal("1412.44") and isinstance(order.total_amount, Decimal)
    assert order.currency == "PHP"
    assert order.created_at == datetime(2026, 12, 1, 2, 0, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 12, 1, 10, 30, 5, tzinfo=UTC)
    lines = {item.sku: item for item in order.items}
    assert (lines["CASE-IP15"].quantity, lines["CASE-IP15"].unit_price) == (3, Decimal("400.00"))
    assert (lines["MUG-350"].quantity, lines["MUG-350"].unit_price) == (1, Decimal("209.94"))
    assert lines["CASE-IP15"].external_id == "491253082180001001"
    assert order.customer.name == "Ha Hung" and order.customer.phone == "6512345678"
    assert order.shipping_address["line1"] == "1 Changi Village Road, 11"
    assert order.raw["price"] == "1,409.94"


def test_rows_of_one_sku_at_two_prices_are_two_lines():
    raw = _with(order_items=[_row(1, sku="MUG-350", price="7.90"), _row(2, sku="MUG-350", price="6.90")])
    assert sorted(item.unit_price for item in _adapter().normalize(raw).items) == [Decimal("6.90"), Decimal("7.90")]


@pytest.mark.parametrize(
    ("statuses", "ours", "raw_kept"),
    [
        (["unpaid"], "pending", "unpaid"),
        (["pending"], "confirmed", "pending"),
        (["packed"], "confirmed", "packed"),
        (["ready_to_ship"], "confirmed", "ready_to_ship"),
        (["shipped"], "in_transit", "shipped"),
        (["delivered"], "delivered", "delivered"),
        (["canceled"], "cancelled", "canceled"),
        (["returned"], "", "returned"),
        (["failed_delivery"], "", "failed_delivery"),
        (["lost_by_3pl"], "", "lost_by_3pl"),
        (["shipped", "canceled"], "in_transit", "canceled,shipped"),
        (["pending", "shipped"], "confirmed", "pending,shipped"),
    ],
)
def test_statuses_map_to_ours_with_the_raw_kept(statuses, ours, raw_kept):
    order = _adapter().normalize(_with(statuses=statuses))
    assert (order.status, order.platform_status) == (ours, raw_kept)


@pytest.mark.parametrize(
    ("statuses", "payment_method", "paid"),
    [
        (["unpaid"], "MIXEDCARD", False),
        (["pending"], "MIXEDCARD", True),
        (["pending"], "COD", False),
        (["delivered"], "COD", True),
        (["canceled"], "MIXEDCARD", False),
    ],
)
def test_paid_follows_status_and_cash_on_delivery(statuses, payment_method, paid):
    assert _adapter().normalize(_with(statuses=statuses, payment_method=payment_method)).is_paid is paid


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"order_items": [_row(1, sku="A", price="1.00"), _row(2, sku="B", price="1.00", currency="USD")]},
            "2 currencies",
        ),
        ({"order_items": []}, "no items"),
        ({"order_items": [_row(1, sku="A", price="1.00", currency="XXZ")]}, "Unknown currency"),
        ({"price": "1.409,94"}, "price is not an amount"),
        ({"price": None}, "price is missing"),
        ({"created_at": "2026-12-01 10:00:00"}, "created_at"),
        ({"statuses": []}, "no statuses"),
        ({"order_id": None}, "no order_id"),
    ],
    ids=[
        "two-currencies",
        "no-items",
        "unknown-currency",
        "decimal-comma",
        "no-price",
        "no-offset",
        "no-status",
        "no-id",
    ],
)
def test_a_malformed_order_is_refused_with_its_reason(changes, reason):
    with pytest.raises(MalformedOrder) as refused:
        _adapter().normalize(_with(**changes))
    assert reason in refused.value.reason


@pytest.mark.usefixtures("integration_settings")
def test_a_fetched_order_of_a_masking_seller_keeps_the_mask_and_an_unknown_one_is_none(platform_sandbox):
    # Given a seller whose buyers' details Lazada masks
    shop = lazada_shop(platform_sandbox, count=3, mask_addresses=True)
    adapter = adapter_for(platform=PLATFORM, shop_id=shop.shop_id, credentials=dict(shop.credentials))
    order_id = next(iter(shop.orders))

    # When one order is fetched and mapped
    order = adapter.normalize(adapter.fetch_order(order_id))

    # Then it is the platform's order, its currency from its items, its phone masked as sent
    assert order.external_id == order_id
    assert order.currency == "PHP"
    assert order.total_amount == shop.orders[order_id].total
    assert "*" in order.customer.phone and "*" in order.shipping_address["line1"]
    assert sum(item.quantity for item in order.items) == sum(item.quantity for item in shop.orders[order_id].items)
    assert adapter.fetch_order("599999999999999") is None
