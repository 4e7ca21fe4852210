"""The TikTok Shop mapper: a Get Order Detail payload (202309) in our terms, or the reason it
cannot be imported. No database: the mapper is pure."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import MalformedOrder
from apps.integrations.adapters.tiktok_shop import STATUS_MAP

CREATED = 1735689600  # 2025-01-01 00:00:00 UTC
UPDATED = 1735693200  # one hour later


def _line(line_id: str, sku: str, price, name: str = "Ceramic mug 350 ml", currency: str = "MYR") -> dict:
    return {
        "id": line_id,
        "sku_id": "1729" + line_id,
        "seller_sku": sku,
        "product_name": name,
        "sku_name": "Default",
        "sale_price": price,
        "original_price": price,
        "currency": currency,
    }


def raw_order(**changes) -> dict:
    raw = {
        "id": "576461413038785752",
        "status": "AWAITING_SHIPMENT",
        "create_time": CREATED,
        "update_time": UPDATED,
        "paid_time": CREATED + 120,
        "buyer_email": "v2_abc123@scs.tiktokw.us",
        "payment": {
            "currency": "MYR",
            "sub_total": "35.80",
            "shipping_fee": "2.00",
            "total_amount": "37.80",
        },
        "recipient_address": {
            "name": "Dewi Tan",
            "phone_number": "+60121234567",
            "address_line1": "Jalan Contoh 12",
            "postal_code": "50450",
            "region_code": "MY",
            "full_address": "Jalan Contoh 12, Kuala Lumpur",
            "district_info": [
                {"address_level_name": "Country", "address_name": "Malaysia"},
                {"address_level_name": "City", "address_name": "Kuala Lumpur"},
            ],
        },
        "line_items": [
            _line("1001", "MUG-350", "7.90"),
            _line("1002", "MUG-350", "7.90"),
            _line("1003", "MUG-350", "7.90"),
            _line("1004", "SOCKS-3P", "12.10", name="Socks, 3 pairs"),
        ],
    }
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = raw
        for name in parents:
            target = target[name]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return raw


@pytest.fixture
def adapter(integration_settings):
    return adapter_for(
        platform="tiktok_shop",
        shop_id="7494105515082810525",
        credentials={
            "app_key": "6a9b3c4d5e6f",
            "app_secret": "s" * 32,
            "access_token": "TTP_token",
            "refresh_token": "TTR_token",
            "shop_cipher": "ROW_cipher",
        },
    )


def test_line_items_of_one_unit_each_become_items_with_their_count_as_quantity(adapter):
    order = adapter.normalize(raw_order())

    items = {item.sku: item for item in order.items}
    assert set(items) == {"MUG-350", "SOCKS-3P"}
    assert items["MUG-350"].quantity == 3 and items["MUG-350"].unit_price == Decimal("7.90")
    assert items["SOCKS-3P"].quantity == 1 and items["SOCKS-3P"].name == "Socks, 3 pairs"
    assert all(item.currency == "MYR" for item in order.items)


def test_same_sku_at_two_prices_stays_two_items(adapter):
    lines = [_line("1", "MUG-350", "7.90"), _line("2", "MUG-350", "6.90"), _line("3", "MUG-350", "7.90")]

    order = adapter.normalize(raw_order(line_items=lines))

    assert sorted((item.unit_price, item.quantity) for item in order.items) == [
        (Decimal("6.90"), 1),
        (Decimal("7.90"), 2),
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("37.80", Decimal("37.80")), (37.8, Decimal("37.8")), (409.94, Decimal("409.94")), ("1000", Decimal("1000"))],
    ids=["string", "json-number", "number-not-binary-float", "whole-string"],
)
def test_money_is_an_exact_decimal_from_strings_and_numbers(adapter, written, expected):
    order = adapter.normalize(raw_order(payment__total_amount=written, line_items=[_line("1", "A", written)]))

    assert isinstance(order.total_amount, Decimal) and order.total_amount == expected
    assert order.items[0].unit_price == expected
    assert str(order.total_amount) == str(expected)


def test_times_are_aware_utc_from_unix_seconds(adapter):
    order = adapter.normalize(raw_order())

    assert order.created_at == datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
    assert order.created_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("platform_status", sorted(STATUS_MAP), ids=sorted(STATUS_MAP))
def test_every_tiktok_status_maps_to_ours_and_is_kept_as_sent(adapter, platform_status):
    expected = {
        "UNPAID": "pending",
        "ON_HOLD": "pending",
        "AWAITING_SHIPMENT": "confirmed",
        "AWAITING_COLLECTION": "confirmed",
        "PARTIALLY_SHIPPING": "confirmed",
        "IN_TRANSIT": "in_transit",
        "DELIVERED": "delivered",
        "COMPLETED": "completed",
        "CANCELLED": "cancelled",
    }[platform_status]

    order = adapter.normalize(raw_order(status=platform_status))

    assert order.status == expected and order.platform_status == platform_status


def test_paid_follows_paid_time(adapter):
    assert adapter.normalize(raw_order()).is_paid is True
    assert adapter.normalize(raw_order(status="UNPAID", paid_time=None)).is_paid is False


def test_masked_recipient_is_kept_as_given(adapter):
    order = adapter.normalize(
        raw_order(recipient_address__name="D**i T*n", recipient_address__phone_number="+6012*****67")
    )

    assert order.shipping_address["name"] == "D**i T*n"
    assert order.shipping_address["phone"] == "+6012*****67"
    assert order.shipping_address["city"] == "Kuala Lumpur" and order.shipping_address["country"] == "MY"
    assert order.customer.phone == "+6012*****67"


def test_raw_payload_is_kept_whole(adapter):
    raw = raw_order()

    order = adapter.normalize(copy.deepcopy(raw))

    assert order.raw == raw and order.external_id == raw["id"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"payment": None}, "no payment"),
        ({"payment__currency": "XYZ"}, "Unknown currency 'XYZ'"),
        ({"payment__total_amount": "12,50"}, "payment.total_amount is not an amount"),
        ({"payment__total_amount": None}, "payment.total_amount is missing"),
        ({"line_items": []}, "no line items"),
        ({"line_items": [_line("1", "A", "-1.00")]}, "not a positive amount"),
        ({"line_items": [_line("1", "A", "1.00", currency="USD")]}, "the payment in MYR"),
        (
            {"line_items": [_line("1", "A", "1.00"), _line("2", "B", "1.00", currency="USD")]},
            "The items are in 2 currencies",
        ),
        ({"status": "TELEPORTED"}, "Unknown TikTok Shop status 'TELEPORTED'"),
        ({"update_time": None}, "update_time is not a unix time"),
        ({"create_time": "yesterday"}, "create_time is not a unix time"),
    ],
    ids=[
        "no-payment",
        "unknown-currency",
        "comma-amount",
        "missing-total",
        "no-items",
        "negative-price",
        "items-in-another-currency",
        "items-in-two-currencies",
        "unknown-status",
        "no-update-time",
        "bad-create-time",
    ],
)
def test_a_malformed_order_is_refused_with_its_reason(adapter, changes, reason):
    with pytest.raises(MalformedOrder) as refused:
        adapter.normalize(raw_order(**changes))

    assert reason in refused.value.reason
    assert refused.value.external_id == "576461413038785752"


def test_an_order_without_id_is_refused(adapter):
    with pytest.raises(MalformedOrder, match="no id"):
        adapter.normalize(raw_order(id=None))
