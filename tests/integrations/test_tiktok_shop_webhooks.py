"""TikTok Shop webhooks through the real endpoint: the signature checked over the raw body, the
order then fetched from the platform and applied, each delivery applied once."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import pytest
from rest_framework.test import APIClient

from apps.core.context import tenant_scope
from apps.integrations.models import WebhookReceipt
from apps.integrations.services import configuration_register_webhooks, webhook_apply
from sandboxes.platforms import tiktok_shop as sandbox_tiktok
from tests.integrations.tiktok_shop_support import PLATFORM, calls, connect, links, platform_orders

ENDPOINT = "/api/v1/integrations/webhooks/tiktok_shop"
DETAIL = "/order/202309/orders"

pytestmark = pytest.mark.usefixtures("committed", "integration_settings")


def _post(body: bytes, signature: str, endpoint: str = ENDPOINT):
    return APIClient().post(endpoint, data=body, content_type="application/json", HTTP_AUTHORIZATION=signature)


def _receipts(organization_id) -> list[WebhookReceipt]:
    with tenant_scope(organization_id):
        return list(WebhookReceipt.objects.all())


@pytest.fixture
def connected(platform_sandbox, seller):
    """A connected shop whose orders we have not read yet (as when a webhook comes first)."""
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 21})
    return shop, connect(seller, shop)


def test_a_signed_webhook_is_accepted_and_its_order_fetched_and_applied(platform_sandbox, seller, connected):
    shop, configuration = connected
    order = shop.orders[sorted(shop.orders)[1]]
    headers, body = sandbox_tiktok.webhook(shop, order, "order.updated", "http://127.0.0.1/hook")

    response = _post(body, headers["Authorization"])

    assert response.status_code == 200 and response.json() == {"received": True, "duplicate": False}
    (receipt,) = _receipts(seller[0].id)
    assert receipt.dedupe_key == f"tts:{json.loads(body)['tts_notification_id']}"
    assert (receipt.topic, receipt.external_order_id) == ("ORDER_STATUS_CHANGE", order.order_id)

    result = webhook_apply(receipt_id=receipt.id, organization_id=seller[0].id)

    assert result.startswith("created 1")
    assert set(links(configuration)) == {order.order_id}
    assert links(configuration)[order.order_id].platform_status == order.status
    assert [call["query"]["ids"] for call in calls(platform_sandbox, shop, DETAIL)] == [order.order_id]
    assert _receipts(seller[0].id)[0].processed_at is not None


def test_the_same_delivery_twice_is_applied_once(seller, connected):
    shop, configuration = connected
    order = shop.orders[sorted(shop.orders)[0]]
    headers, body = sandbox_tiktok.webhook(shop, order, "order.updated", "http://127.0.0.1/hook")

    first = _post(body, headers["Authorization"])
    again = _post(body, headers["Authorization"])
    (receipt,) = _receipts(seller[0].id)
    applied = webhook_apply(receipt_id=receipt.id, organization_id=seller[0].id)
    reapplied = webhook_apply(receipt_id=receipt.id, organization_id=seller[0].id)

    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.status_code == 200
    assert applied.startswith("created 1") and reapplied == "skipped"
    assert len(links(configuration)) == 1 and len(platform_orders(seller[0].id)) == 1


def test_the_tiktok_alias_reaches_the_same_endpoint(seller, connected):
    shop, _ = connected
    headers, body = sandbox_tiktok.webhook(shop, next(iter(shop.orders.values())), "order.updated", "http://x/hook")

    response = _post(body, headers["Authorization"], endpoint="/api/v1/integrations/webhooks/tiktok")

    assert response.status_code == 200
    assert len(_receipts(seller[0].id)) == 1


@pytest.mark.parametrize("tamper", ["signature", "body", "missing"], ids=["bad-signature", "tampered-body", "unsigned"])
def test_a_bad_signature_is_401_and_logged(seller, connected, caplog, tamper):
    shop, _ = connected
    headers, body = sandbox_tiktok.webhook(shop, next(iter(shop.orders.values())), "order.updated", "http://x/hook")
    signature = headers["Authorization"]
    if tamper == "signature":
        signature = hmac.new(b"not the app secret", shop.credentials["app_key"].encode() + body, "sha256").hexdigest()
    elif tamper == "body":
        body = body.replace(b'"type":1', b'"type":3')
    else:
        signature = ""

    with caplog.at_level(logging.WARNING, logger="apps.integrations.services.webhooks"):
        response = _post(body, signature)

    assert response.status_code == 401
    answer = response.json()
    assert answer["error_code"] == "AUTH_TOKEN_INVALID"
    assert {"message", "details", "timestamp", "request_id"} <= set(answer)
    refused = [record for record in caplog.records if record.msg == "integrations.webhook_refused"]
    assert [(record.reason, record.shop_id) for record in refused] == [("bad signature", shop.shop_id)]
    assert _receipts(seller[0].id) == []


def test_a_webhook_from_an_unknown_shop_is_401_and_logged(connected, caplog):
    # A shop is connected, just not this one.
    body = json.dumps(
        {
            "type": 1,
            "tts_notification_id": "7328",
            "shop_id": "7494000000000000000",
            "timestamp": 1735689600,
            "data": {"order_id": "576400000000000001", "order_status": "UNPAID", "update_time": 1735689600},
        }
    ).encode()
    signature = hashlib.sha256(body).hexdigest()

    with caplog.at_level(logging.WARNING, logger="apps.integrations.services.webhooks"):
        response = _post(body, signature)

    assert response.status_code == 401 and response.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert [record.reason for record in caplog.records if record.msg == "integrations.webhook_refused"] == [
        "unknown shop"
    ]


def test_registered_webhooks_are_sent_by_tiktok_to_our_running_server(
    platform_sandbox, seller, connected, asgi_server, settings
):
    shop, configuration = connected
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "WEBHOOK_BASE_URL": f"http://{asgi_server}"}
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        configuration_register_webhooks(actor=actor, configuration_id=configuration.id)
    order_id = sorted(shop.orders)[2]

    sent = platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_id, "status": "CANCELLED"}])

    assert shop.webhook_urls == [f"http://{asgi_server}/api/v1/integrations/webhooks/tiktok_shop"]
    assert [(delivery["order_id"], delivery["status"]) for delivery in sent] == [(order_id, 200)]
    (receipt,) = _receipts(organization.id)
    assert receipt.external_order_id == order_id
