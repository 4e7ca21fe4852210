"""Shopee's signatures, both ways: the requests we sign (`sign` over partner_id + path + timestamp +
access_token + shop_id) and the pushes Shopee signs (`Authorization` over callback URL + "|" +
body), each checked against a value computed here with hmac from the documented recipe, and
against the sandbox, which recomputes them for real."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest

from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import PlatformRejected
from apps.integrations.adapters.shopee import ShopeeAdapter, push_signature, request_sign
from sandboxes.platforms import shopee as shopee_sandbox
from tests.integrations.shopee_support import PLATFORM, add_shop, calls

# The developer guide's example ("API calls", signature calculation) with a key of our own.
PARTNER_ID = "2001887"
PATH = "/api/v2/shop/get_shop_info"
TIMESTAMP = 1655714431
ACCESS_TOKEN = "59777174636562737266615546704c6d"
SHOP_ID = "14701711"
PARTNER_KEY = "4c4d6f6e6b657953616e64626f784b6579"


def hmac_hex(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_shop_call_sign_is_hmac_sha256_of_partner_path_timestamp_token_and_shop():
    base = b"2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    expected = hmac_hex(PARTNER_KEY, base)

    sign = request_sign(
        partner_key=PARTNER_KEY,
        partner_id=PARTNER_ID,
        path=PATH,
        timestamp=TIMESTAMP,
        access_token=ACCESS_TOKEN,
        shop_id=SHOP_ID,
    )

    assert sign == expected
    assert sign == sign.lower() and len(sign) == 64


def test_public_call_sign_leaves_the_token_and_shop_out():
    expected = hmac_hex(PARTNER_KEY, b"2001887/api/v2/auth/access_token/get1655714431")

    assert (
        request_sign(
            partner_key=PARTNER_KEY, partner_id=PARTNER_ID, path="/api/v2/auth/access_token/get", timestamp=TIMESTAMP
        )
        == expected
    )


def test_push_authorization_is_hmac_sha256_of_url_bar_and_raw_body():
    url = "https://seller.example.com/api/v1/integrations/webhooks/shopee"
    body = b'{"shop_id": 14701711, "code": 3, "timestamp": 1655714431, "data": {"ordersn": "2206150A1B2C3D"}}'
    expected = hmac_hex(PARTNER_KEY, url.encode() + b"|" + body)

    assert push_signature(partner_key=PARTNER_KEY, url=url, body=body) == expected
    assert ShopeeAdapter.webhook_verify(
        credentials={"partner_key": PARTNER_KEY}, headers={"authorization": expected}, body=body, url=url
    )
    # One byte of the body, the URL or the key changed: refused.
    assert not ShopeeAdapter.webhook_verify(
        credentials={"partner_key": PARTNER_KEY}, headers={"authorization": expected}, body=body + b" ", url=url
    )
    assert not ShopeeAdapter.webhook_verify(
        credentials={"partner_key": PARTNER_KEY}, headers={"authorization": expected}, body=body, url=url + "/"
    )
    assert not ShopeeAdapter.webhook_verify(
        credentials={"partner_key": PARTNER_KEY + "0"}, headers={"authorization": expected}, body=body, url=url
    )
    assert not ShopeeAdapter.webhook_verify(credentials={"partner_key": PARTNER_KEY}, headers={}, body=body, url=url)


def test_the_sandbox_signs_its_pushes_by_the_same_recipe(platform_sandbox):
    shop = add_shop(platform_sandbox, count=1)
    order = next(iter(shop.orders.values()))
    url = "http://127.0.0.1:8000/api/v1/integrations/webhooks/shopee"

    headers, body = shopee_sandbox.webhook(shop, order, "order.updated", url)

    assert headers["Authorization"] == hmac_hex(shop.credentials["partner_key"], url.encode() + b"|" + body)
    push = json.loads(body)
    assert push["code"] == 3 and push["shop_id"] == int(shop.shop_id)
    assert push["data"] == {
        "ordersn": order.order_id,
        "status": order.status,
        "update_time": push["data"]["update_time"],
    }


def test_our_requests_carry_the_documented_sign_and_the_sandbox_accepts_them(platform_sandbox, integration_settings):
    shop = add_shop(platform_sandbox)
    adapter = adapter_for(platform=PLATFORM, shop_id=shop.shop_id, credentials=dict(shop.credentials))

    info = adapter.validate_credentials()

    assert info.name == shop.name
    [call] = calls(platform_sandbox, shop, "get_shop_info")
    query = call["query"]
    assert call["status"] == 200
    assert abs(int(query["timestamp"]) - time.time()) < 60
    base = f"{query['partner_id']}{PATH}{query['timestamp']}{query['access_token']}{query['shop_id']}".encode()
    assert query["sign"] == hmac_hex(shop.credentials["partner_key"], base)
    assert (query["partner_id"], query["shop_id"]) == (shop.credentials["partner_id"], shop.shop_id)


def test_a_request_signed_with_another_key_is_refused(platform_sandbox, integration_settings):
    shop = add_shop(platform_sandbox)
    credentials = {**shop.credentials, "partner_key": "not-the-partner-key"}
    adapter = adapter_for(platform=PLATFORM, shop_id=shop.shop_id, credentials=credentials)

    with pytest.raises(PlatformRejected) as refused:
        adapter.validate_credentials()

    assert "error_sign" in str(refused.value)
    assert calls(platform_sandbox, shop, "get_shop_info")[-1]["status"] == 403


@pytest.mark.parametrize(("age_seconds", "status"), [(0, 200), (240, 200), (360, 403), (-360, 403)])
def test_the_sandbox_refuses_a_timestamp_more_than_five_minutes_off(platform_sandbox, age_seconds, status):
    shop = add_shop(platform_sandbox)
    credentials = shop.credentials
    timestamp = int(time.time()) - age_seconds
    base = f"{credentials['partner_id']}{PATH}{timestamp}{credentials['access_token']}{shop.shop_id}".encode()
    query = {
        "partner_id": credentials["partner_id"],
        "timestamp": timestamp,
        "access_token": credentials["access_token"],
        "shop_id": shop.shop_id,
        "sign": hmac_hex(credentials["partner_key"], base),
    }

    response = httpx.get(f"{platform_sandbox.url}/shopee{PATH}", params=query)

    assert response.status_code == status
    assert response.json()["error"] == ("" if status == 200 else "error_param")
