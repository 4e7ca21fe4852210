"""TikTok Shop's signatures, checked against values computed here from the documented recipes:
the request `sign` (ours and the sandbox's check of it) and the webhook `Authorization` (the
sandbox's and our check of it)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest

from apps.integrations.adapters import adapter_class
from apps.integrations.adapters.tiktok_shop import TikTokShopAdapter, request_signature, webhook_signature
from sandboxes.platforms import tiktok_shop as sandbox_tiktok
from tests.integrations.tiktok_shop_support import PLATFORM

APP_SECRET = "e59af819cc8f4f7c9d6d2f7a0b5c3e21"
APP_KEY = "6a9b3c4d5e6f"
PATH = "/order/202309/orders/search"
QUERY = {
    "app_key": APP_KEY,
    "timestamp": "1735689600",
    "shop_cipher": "ROW_abcdef0123456789",
    "page_size": "50",
    "sort_field": "update_time",
    "sort_order": "ASC",
    "page_token": "WzE3MzU2ODk2MDAsIjEyMyJd",
    "sign": "ignored: never part of its own input",
    "access_token": "ignored: travels in the x-tts-access-token header",
}
BODY = b'{"update_time_ge":1735603200,"update_time_lt":1735689601}'


def _documented_sign(secret: str, path: str, query: dict, body: bytes) -> str:
    """TikTok's recipe, written out: secret + path + sorted name+value pairs (no sign, no
    access_token) + body + secret, HMAC-SHA256 with the secret, lowercase hex."""
    message = (
        secret
        + path
        + "app_key"
        + APP_KEY
        + "page_size50"
        + "page_tokenWzE3MzU2ODk2MDAsIjEyMyJd"
        + "shop_cipherROW_abcdef0123456789"
        + "sort_fieldupdate_time"
        + "sort_orderASC"
        + "timestamp1735689600"
        + body.decode()
        + secret
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_request_sign_is_the_documented_hmac_over_secret_path_sorted_params_body_secret():
    expected = _documented_sign(APP_SECRET, PATH, QUERY, BODY)

    assert request_signature(app_secret=APP_SECRET, path=PATH, params=QUERY, body=BODY) == expected
    assert sandbox_tiktok.request_signature(APP_SECRET, PATH, QUERY, BODY) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_request_sign_changes_with_any_signed_part_and_not_with_the_access_token():
    base = request_signature(app_secret=APP_SECRET, path=PATH, params=QUERY, body=BODY)

    assert request_signature(app_secret=APP_SECRET, path=PATH, params={**QUERY, "page_size": "51"}, body=BODY) != base
    assert request_signature(app_secret=APP_SECRET, path=PATH + "x", params=QUERY, body=BODY) != base
    assert request_signature(app_secret=APP_SECRET, path=PATH, params=QUERY, body=BODY + b" ") != base
    assert (
        request_signature(app_secret=APP_SECRET, path=PATH, params={**QUERY, "access_token": "other"}, body=BODY)
        == base
    )


def test_webhook_authorization_is_hmac_of_app_key_and_raw_body_both_ways(platform_sandbox, integration_settings):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 1, "seed": 3})
    order = next(iter(shop.orders.values()))
    credentials = dict(shop.credentials)

    headers, body = sandbox_tiktok.webhook(shop, order, "order.updated", "http://127.0.0.1:8000/hook")

    expected = hmac.new(
        credentials["app_secret"].encode(), credentials["app_key"].encode() + body, hashlib.sha256
    ).hexdigest()
    assert headers["Authorization"] == expected
    assert (
        webhook_signature(app_secret=credentials["app_secret"], app_key=credentials["app_key"], body=body) == expected
    )
    verify = adapter_class(PLATFORM).webhook_verify
    lowered = {"authorization": expected}
    assert verify(credentials=credentials, headers=lowered, body=body, url="") is True
    assert (
        verify(credentials=credentials, headers=lowered, body=body.replace(b'"type":1', b'"type":2'), url="") is False
    )
    assert verify(credentials={**credentials, "app_key": "another"}, headers=lowered, body=body, url="") is False
    assert verify(credentials=credentials, headers={}, body=body, url="") is False
    payload = json.loads(body)
    assert payload["shop_id"] == shop.shop_id and payload["data"]["order_id"] == order.order_id


def _signed_call(platform_sandbox, shop, *, timestamp: int, tamper: bool = False) -> httpx.Response:
    credentials = shop.credentials
    query = {"app_key": credentials["app_key"], "timestamp": str(timestamp)}
    query["sign"] = _documented_shops_sign(credentials["app_secret"], query)
    if tamper:
        query["sign"] = query["sign"][:-1] + ("0" if query["sign"][-1] != "0" else "1")
    return httpx.get(
        f"{platform_sandbox.url}/tiktok_shop/authorization/202309/shops",
        params=query,
        headers={"x-tts-access-token": credentials["access_token"]},
    )


def _documented_shops_sign(secret: str, query: dict) -> str:
    message = f"{secret}/authorization/202309/shopsapp_key{query['app_key']}timestamp{query['timestamp']}{secret}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_sandbox_accepts_the_documented_sign_and_refuses_a_wrong_one(platform_sandbox, integration_settings):
    shop = platform_sandbox.add_shop(PLATFORM)

    good = _signed_call(platform_sandbox, shop, timestamp=int(time.time()))
    bad = _signed_call(platform_sandbox, shop, timestamp=int(time.time()), tamper=True)

    assert good.status_code == 200 and good.json()["code"] == 0
    assert good.json()["data"]["shops"][0]["id"] == shop.shop_id
    assert bad.status_code == 401 and bad.json()["code"] == sandbox_tiktok.CODE_INVALID_SIGN


@pytest.mark.parametrize("offset", [-301, 400], ids=["six-minutes-old", "seven-minutes-ahead"])
def test_sandbox_refuses_a_timestamp_more_than_five_minutes_off(platform_sandbox, integration_settings, offset):
    shop = platform_sandbox.add_shop(PLATFORM)

    answer = _signed_call(platform_sandbox, shop, timestamp=int(time.time()) + offset)

    assert answer.status_code == 401 and answer.json()["code"] == sandbox_tiktok.CODE_STALE_TIMESTAMP


def test_adapter_is_registered_with_tiktoks_credentials_and_refresh():
    adapter = adapter_class(PLATFORM)

    assert adapter is TikTokShopAdapter
    assert adapter.credential_fields == ("app_key", "app_secret", "access_token", "refresh_token", "shop_cipher")
    assert adapter.refreshes_tokens is True
