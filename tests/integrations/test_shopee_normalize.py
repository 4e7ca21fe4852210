"""The Shopee mapper on orders read from the sandbox over HTTP: money as Decimal from Shopee's JSON
numbers (and strings), unix times as aware UTC, every status mapped with the raw kept, masked
addresses kept as given, and malformed orders refused with a reason."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest

from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import MalformedOrder
from apps.integrations.adapters.shopee import STATUS_MAP
from apps.integrations.services.binder import customer_key
from tests.integrations.shopee_support import PLATFORM, add_shop

pytestmark = pytest.mark.usefixtures("integration_settings")


def adapter_of(shop):
    return adapter_for(platform=PLATFORM, shop_id=shop.shop_id, credentials=dict(shop.credentials))


def read(platform_sandbox, shop, order_sn: str, **change) -> dict:
    if change:
        platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, **change}])
    raw = adapter_of(shop).fetch_order(order_sn)
    assert raw is not None
    return raw


def test_money_times_items_and_customer_are_mapped_from_the_wire(platform_sandbox):
    shop = add_shop(platform_sandbox, count=3, generate={"statuses": ["READY_TO_SHIP"]})
    order = shop.orders[sorted(shop.orders)[0]]

    raw = read(platform_sandbox, shop, order.order_id)
    normalized = adapter_of(shop).normalize(raw)

    assert isinstance(raw["total_amount"], (int, float))  # Shopee writes a JSON number
    assert isinstance(normalized.total_amount, Decimal)
    assert normalized.total_amount == order.total
    assert (normalized.currency, normalized.external_id) == ("SGD", order.order_id)
    assert normalized.created_at == order.created_at and normalized.created_at.tzinfo == UTC
    assert normalized.updated_at == order.updated_at and normalized.updated_at.utcoffset().total_seconds() == 0
    assert [(item.sku, item.quantity, item.unit_price) for item in normalized.items] == [
        (item.sku, item.quantity, item.unit_price) for item in order.items
    ]
    assert all(isinstance(item.unit_price, Decimal) and item.currency == "SGD" for item in normalized.items)
    assert normalized.customer.name == order.address["name"] and normalized.customer.phone == order.address["phone"]
    assert normalized.shipping_address["country"] == order.address["country"]
    assert normalized.is_paid is True
    assert normalized.raw == raw


@pytest.mark.parametrize(
    ("wire", "expected"),
    [(19.99, Decimal("19.99")), ("45.30", Decimal("45.30")), (1500, Decimal("1500")), (0.1, Decimal("0.1"))],
    ids=["number", "string", "whole number", "binary-unfriendly number"],
)
def test_amounts_are_exact_decimals_from_numbers_and_strings(platform_sandbox, wire, expected):
    shop = add_shop(platform_sandbox, count=1)
    order_sn = next(iter(shop.orders))

    normalized = adapter_of(shop).normalize(read(platform_sandbox, shop, order_sn, overrides={"total_amount": wire}))

    assert normalized.total_amount == expected
    assert str(normalized.total_amount) == str(expected)


@pytest.mark.parametrize("platform_status", sorted(STATUS_MAP), ids=sorted(STATUS_MAP))
def test_every_shopee_status_maps_to_ours_and_the_raw_is_kept(platform_sandbox, platform_status):
    shop = add_shop(platform_sandbox, count=1)
    order_sn = next(iter(shop.orders))

    normalized = adapter_of(shop).normalize(read(platform_sandbox, shop, order_sn, status=platform_status))

    assert normalized.platform_status == platform_status
    assert (
        normalized.status
        == {
            "UNPAID": "pending",
            "READY_TO_SHIP": "confirmed",
            "PROCESSED": "confirmed",
            "RETRY_SHIP": "confirmed",
            "SHIPPED": "in_transit",
            "TO_CONFIRM_RECEIVE": "delivered",
            "COMPLETED": "completed",
            "CANCELLED": "cancelled",
            "IN_CANCEL": "",
            "TO_RETURN": "",
        }[platform_status]
    )
    assert normalized.is_paid is (platform_status != "UNPAID")


def test_masked_addresses_are_kept_as_given_and_never_make_a_duplicate_key(platform_sandbox):
    shop = add_shop(platform_sandbox, count=2, mask_addresses=True)
    first, second = (adapter_of(shop).normalize(read(platform_sandbox, shop, sn)) for sn in sorted(shop.orders))

    assert first.shipping_address["line1"] == "****" and first.shipping_address["name"] == "****"
    assert first.shipping_address["phone"].startswith("****")
    assert first.customer.phone == first.shipping_address["phone"]
    assert customer_key(first) == customer_key(second) == ""


def test_an_order_shopee_does_not_know_is_none(platform_sandbox):
    shop = add_shop(platform_sandbox, count=1)

    assert adapter_of(shop).fetch_order("2601010000ZZZZ") is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"total_amount": "forty-two"}, "total_amount is not an amount"),
        ({"total_amount": -5}, "total_amount is not a positive amount"),
        ({"total_amount": None}, "total_amount is missing"),
        ({"currency": "XYZ"}, "Unknown currency 'XYZ'"),
        ({"order_status": "LOST_AT_SEA"}, "Unknown Shopee order status 'LOST_AT_SEA'"),
        ({"create_time": "yesterday"}, "create_time is not a unix time"),
        ({"item_list": []}, "The order has no item_list"),
        (
            {"item_list": [{"item_name": "Mug", "model_quantity_purchased": 0, "model_discounted_price": 7.9}]},
            "Item quantity 0 is below 1",
        ),
        (
            {"item_list": [{"item_name": "Mug", "model_quantity_purchased": 1, "model_discounted_price": "free"}]},
            "An item's price is not an amount",
        ),
        ({"recipient_address": "Jalan Contoh 1"}, "recipient_address is not an object"),
    ],
    ids=[
        "amount text",
        "negative amount",
        "no amount",
        "unknown currency",
        "unknown status",
        "time text",
        "no items",
        "zero quantity",
        "price text",
        "address text",
    ],
)
def test_a_malformed_order_is_refused_with_its_reason(platform_sandbox, overrides, reason):
    shop = add_shop(platform_sandbox, count=1)
    order_sn = next(iter(shop.orders))
    raw = read(platform_sandbox, shop, order_sn, overrides=overrides)

    with pytest.raises(MalformedOrder) as refused:
        adapter_of(shop).normalize(raw)

    assert reason in refused.value.reason
    assert refused.value.external_id == order_sn
