"""The Shopify connector against the Shopify sandbox over real HTTP: the webhook signature recipe,
Link-header pagination, 429 with and without Retry-After, normalization, quarantine, webhooks
through the endpoint, the fulfilment push, and credentials kept out of logs and errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.context import tenant_scope
from apps.integrations import services
from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import MalformedOrder, PlatformRateLimited
from apps.integrations.adapters.shopify import ShopifyAdapter
from apps.integrations.models import PlatformOrderLink, QuarantinedOrder, StatusPush, SyncStatus, WebhookReceipt
from apps.integrations.services.pushes import status_push_create
from apps.orders.models import Order
from tests.integrations.conftest import new_shop_id

pytestmark = pytest.mark.usefixtures("integration_settings")
WEBHOOK_PATH = "/api/v1/integrations/webhooks/shopify"


def make_shop(platform_sandbox, count=5, **spec):
    shop_id = f"{new_shop_id('s')}.myshopify.com"
    now = timezone.now()
    generate = {
        "count": count,
        "seed": 3,
        "start": (now - timedelta(days=1)).isoformat(),
        "end": (now - timedelta(minutes=5)).isoformat(),
        **spec.pop("generate", {}),
    }
    return platform_sandbox.add_shop("shopify", shop_id, generate=generate, **spec)


def adapter(shop):
    return adapter_for(platform="shopify", shop_id=shop.shop_id, credentials=dict(shop.credentials))


def connect(seller, shop):
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return services.configuration_connect(
            actor=actor, platform="shopify", shop_id=shop.shop_id, name="Shop", credentials=dict(shop.credentials)
        )


def sync(configuration, **kwargs):
    return services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL", **kwargs
    )


# --- The webhook signature, by Shopify's documented recipe ------------------------------------


def test_the_webhook_signature_is_base64_hmac_sha256_of_the_raw_body_with_the_app_secret():
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    secret = "hush"
    # Computed from the recipe: base64(HMAC-SHA256(secret, body)).
    expected = base64.b64encode(hmac.new(b"hush", body, hashlib.sha256).digest()).decode()
    headers = {"x-shopify-hmac-sha256": expected, "x-shopify-shop-domain": "a.myshopify.com"}
    assert ShopifyAdapter.webhook_verify(credentials={"api_secret": secret}, headers=headers, body=body, url="")
    assert not ShopifyAdapter.webhook_verify(
        credentials={"api_secret": secret}, headers=headers, body=body + b" ", url=""
    )
    assert not ShopifyAdapter.webhook_verify(credentials={"api_secret": "other"}, headers=headers, body=body, url="")
    assert not ShopifyAdapter.webhook_verify(
        credentials={"api_secret": secret}, headers={"x-shopify-shop-domain": "a.myshopify.com"}, body=body, url=""
    )


# --- Reading orders ------------------------------------------------------------------------------


def test_orders_are_read_page_by_page_through_the_link_header_to_the_end(platform_sandbox):
    shop = make_shop(platform_sandbox, count=260)
    pages = list(adapter(shop).iter_orders(updated_from=timezone.now() - timedelta(days=2), updated_to=timezone.now()))
    assert [len(page) for page in pages] == [250, 10]
    ids = [order["id"] for page in pages for order in page]
    assert len(ids) == len(set(ids)) == 260
    calls = [call for call in platform_sandbox.requests("shopify", shop.shop_id) if call["path"] == "orders.json"]
    assert "updated_at_min" in calls[0]["query"] and "page_info" not in calls[0]["query"]
    # The next page carries only the cursor and the limit, as Shopify demands.
    assert set(calls[1]["query"]) == {"page_info", "limit"}


def test_a_429_without_retry_after_is_retried_with_backoff(platform_sandbox):
    shop = make_shop(platform_sandbox, count=3)
    platform_sandbox.fault("shopify", shop.shop_id, 429, count=2, path="orders.json")
    shopify = adapter(shop)
    pages = list(shopify.iter_orders(updated_from=timezone.now() - timedelta(days=2), updated_to=timezone.now()))
    assert sum(len(page) for page in pages) == 3
    assert shopify.http.retries == 2
    statuses = [call["status"] for call in platform_sandbox.requests("shopify", shop.shop_id)]
    assert statuses == [429, 429, 200]


def test_a_429_with_retry_after_waits_what_shopify_asks(platform_sandbox):
    shop = make_shop(platform_sandbox, count=3)
    platform_sandbox.fault("shopify", shop.shop_id, 429, count=1, retry_after="1.5", path="orders.json")
    shopify = adapter(shop)
    waits = []
    shopify.http.sleep = waits.append  # record the wait instead of sleeping it: what is waited is the point
    pages = list(shopify.iter_orders(updated_from=timezone.now() - timedelta(days=2), updated_to=timezone.now()))
    assert sum(len(page) for page in pages) == 3
    assert waits[0] == 1.5


def test_a_retry_after_beyond_the_limit_fails_the_run_and_schedules_the_next_after_it(
    committed, platform_sandbox, seller
):
    shop = make_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    platform_sandbox.fault("shopify", shop.shop_id, 429, count=1, retry_after="120", path="orders.json")
    run = sync(configuration)
    assert run.status == SyncStatus.FAILED and run.error_code == "RATE_LIMITED"
    with tenant_scope(configuration.organization_id):
        configuration.refresh_from_db()
    assert configuration.next_sync_at >= run.finished_at + timedelta(seconds=119)
    with pytest.raises(PlatformRateLimited) as raised:
        platform_sandbox.fault("shopify", shop.shop_id, 429, count=1, retry_after="120", path="orders.json")
        list(adapter(shop).iter_orders(updated_from=timezone.now() - timedelta(days=1), updated_to=timezone.now()))
    assert raised.value.retry_after == 120


def test_a_burst_of_5xx_is_retried(platform_sandbox):
    shop = make_shop(platform_sandbox, count=2)
    platform_sandbox.fault("shopify", shop.shop_id, 502, count=3, path="orders.json")
    pages = list(adapter(shop).iter_orders(updated_from=timezone.now() - timedelta(days=2), updated_to=timezone.now()))
    assert sum(len(page) for page in pages) == 2


# --- Normalization -------------------------------------------------------------------------------


def raw_order(**overrides):
    order = {
        "id": 4500000001,
        "created_at": "2026-12-01T10:00:00-05:00",
        "updated_at": "2026-12-01T11:30:00-05:00",
        "cancelled_at": None,
        "currency": "usd",
        "total_price": "409.94",
        "financial_status": "paid",
        "fulfillment_status": None,
        "email": "Ana.Santos@example.com",
        "customer": {"first_name": "Ana", "last_name": "Santos"},
        "shipping_address": {"first_name": "Ana", "last_name": "Santos", "city": "Manila", "country_code": "ph"},
        "line_items": [{"id": 1, "sku": "MUG", "title": "Mug", "quantity": 2, "price": "199.97"}],
    }
    return {**order, **overrides}


def test_money_is_decimal_times_are_utc_and_the_status_keeps_shopifys():
    shopify = ShopifyAdapter(shop_id="a.myshopify.com", credentials={}, options={"BASE_URL": "https://{shop}"})
    order = shopify.normalize(raw_order())
    assert order.total_amount == Decimal("409.94") and isinstance(order.total_amount, Decimal)
    assert order.items[0].unit_price == Decimal("199.97") and order.currency == "USD"
    assert order.created_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert (order.status, order.platform_status, order.is_paid) == ("confirmed", "paid/unfulfilled", True)
    assert shopify.normalize(raw_order(fulfillment_status="fulfilled")).status == "in_transit"
    assert shopify.normalize(raw_order(financial_status="pending")).status == "pending"
    cancelled = shopify.normalize(raw_order(cancelled_at="2026-12-02T00:00:00Z", financial_status="voided"))
    assert (cancelled.status, cancelled.platform_status) == ("cancelled", "voided/unfulfilled/cancelled")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"currency": "XYZ"}, "Unknown currency"),
        ({"line_items": []}, "no line items"),
        ({"total_price": "abc"}, "not an amount"),
        ({"updated_at": "2026-12-01T11:30:00"}, "no UTC offset"),
        ({"line_items": [{"id": 1, "title": "Mug", "quantity": 0, "price": "1.00"}]}, "below 1"),
    ],
)
def test_a_malformed_order_is_refused_with_its_reason(overrides, reason):
    shopify = ShopifyAdapter(shop_id="a.myshopify.com", credentials={}, options={"BASE_URL": "https://{shop}"})
    with pytest.raises(MalformedOrder, match=reason):
        shopify.normalize(raw_order(**overrides))


def test_a_malformed_order_is_quarantined_whole_then_released_once_sound(committed, platform_sandbox, seller):
    shop = make_shop(platform_sandbox, count=3)
    broken = sorted(shop.orders)[0]
    shop.orders[broken].overrides = {"currency": "???"}
    configuration = connect(seller, shop)
    run = sync(configuration)
    organization_id = configuration.organization_id
    with tenant_scope(organization_id):
        run.refresh_from_db()
        assert (run.created, run.quarantined) == (2, 1)
        quarantined = QuarantinedOrder.objects.get()
        assert quarantined.external_id == broken and "currency" in quarantined.reason
        assert not PlatformOrderLink.objects.filter(external_id=broken).exists()
        assert Order.objects.filter(metadata__external_id=broken).count() == 0
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": broken, "overrides": {}}])
    sync(configuration)
    with tenant_scope(organization_id):
        assert PlatformOrderLink.objects.filter(external_id=broken).exists()
        assert QuarantinedOrder.objects.get().released_at is not None


# --- Webhooks through the endpoint ---------------------------------------------------------------


def post_webhook(body: bytes, headers: dict):
    return APIClient().generic("POST", WEBHOOK_PATH, body, content_type="application/json", **headers)


def signed(shop, body: bytes, *, webhook_id="wh-1", secret=None) -> dict:
    digest = hmac.new((secret or shop.credentials["api_secret"]).encode(), body, hashlib.sha256).digest()
    return {
        "HTTP_X_SHOPIFY_HMAC_SHA256": base64.b64encode(digest).decode(),
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop.shop_id,
        "HTTP_X_SHOPIFY_TOPIC": "orders/updated",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
    }


def test_a_signed_webhook_fetches_the_order_once_even_when_delivered_twice(committed, platform_sandbox, seller):
    shop = make_shop(platform_sandbox, count=2)
    configuration = connect(seller, shop)
    order_id = sorted(shop.orders)[0]
    body = json.dumps({"id": int(order_id), "note": "the payload is not trusted"}).encode()
    first = post_webhook(body, signed(shop, body))
    second = post_webhook(body, signed(shop, body))
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    with tenant_scope(configuration.organization_id):
        receipt = WebhookReceipt.objects.get()
    result = services.webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)
    assert result.startswith("created 1")
    assert services.webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id) == "skipped"
    with tenant_scope(configuration.organization_id):
        link = PlatformOrderLink.objects.get()
        assert link.external_id == order_id
        assert Order.objects.count() == 1
    fetched = [
        call for call in platform_sandbox.requests("shopify", shop.shop_id) if call["path"].startswith("orders/")
    ]
    assert [call["path"] for call in fetched] == [f"orders/{order_id}.json"]


def test_a_bad_signature_or_an_unknown_shop_is_401_and_logged(committed, platform_sandbox, seller, caplog):
    shop = make_shop(platform_sandbox, count=1)
    configuration = connect(seller, shop)
    body = b'{"id": 1}'
    with caplog.at_level(logging.WARNING, logger="apps.integrations.services.webhooks"):
        forged = post_webhook(body, signed(shop, body, secret="guess"))
        unknown = post_webhook(body, {**signed(shop, body), "HTTP_X_SHOPIFY_SHOP_DOMAIN": "nobody.myshopify.com"})
        unsigned = post_webhook(body, {"HTTP_X_SHOPIFY_SHOP_DOMAIN": shop.shop_id})
    for response in (forged, unknown, unsigned):
        assert response.status_code == 401
        assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"
    reasons = [record.reason for record in caplog.records if record.msg == "integrations.webhook_refused"]
    assert reasons == ["bad signature", "unknown shop", "bad signature"]
    with tenant_scope(configuration.organization_id):
        assert not WebhookReceipt.objects.exists()


# --- Pushing the fulfilment back -----------------------------------------------------------------


def test_shipping_pushes_the_fulfilment_with_its_tracking_number(committed, platform_sandbox, seller):
    shop = make_shop(platform_sandbox, count=1, generate={"statuses": ["paid/unfulfilled"]})
    configuration = connect(seller, shop)
    sync(configuration)
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        link = PlatformOrderLink.objects.get()
        services.platform_order_ship(actor=actor, order_id=link.order_id, tracking_number="JX123456789", carrier="J&T")
        assert Order.objects.get(pk=link.order_id).status == "in_transit"
        event_id = __import__("uuid").uuid4()
        push = status_push_create(
            organization_id=organization.id, order_id=link.order_id, to_status="in_transit", event_id=event_id
        )
    assert services.status_push_send(push_id=push.id, organization_id=organization.id) == "SENT"
    assert platform_sandbox.fulfilments("shopify", shop.shop_id) == [
        {"order_id": link.external_id, "tracking_number": "JX123456789", "carrier": "J&T"}
    ]
    with tenant_scope(organization.id):
        assert StatusPush.objects.get().state == "SENT"
        # The same event again pushes nothing more.
        assert (
            status_push_create(
                organization_id=organization.id, order_id=link.order_id, to_status="in_transit", event_id=event_id
            )
            is None
        )


# --- Credentials stay secret ---------------------------------------------------------------------


def test_credentials_never_reach_logs_errors_or_the_sync_log(committed, platform_sandbox, seller, caplog):
    shop = make_shop(platform_sandbox, count=2)
    configuration = connect(seller, shop)
    platform_sandbox.fault("shopify", shop.shop_id, 401, count=1, path="orders.json")
    with caplog.at_level(logging.DEBUG):
        run = sync(configuration)
        platform_sandbox.fault("shopify", shop.shop_id, 503, count=20, path="orders.json")
        second = sync(configuration)
    assert run.status == second.status == SyncStatus.FAILED
    secrets = list(shop.credentials.values())
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for secret in secrets:
        assert secret not in logged
        assert secret not in f"{run.error} {second.error} {run.error_code}"
    with tenant_scope(configuration.organization_id):
        configuration.refresh_from_db()
        assert all(secret not in configuration.credentials_encrypted for secret in secrets)
        assert all(secret not in configuration.last_error for secret in secrets)
