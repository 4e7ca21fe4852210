"""Shopee pushes through the real endpoint, POST /api/v1/integrations/webhooks/shopee: signed over
the callback URL and the raw body. A good signature is recorded and the order it names is
fetched from Shopee and applied; a bad signature or an unknown shop is 401 and logged; the same
delivery twice is applied once; and the sandbox's own pushes reach a running server."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from apps.core.context import tenant_scope
from apps.integrations.models import WebhookReceipt
from apps.integrations.services import configuration_register_webhooks, webhook_apply
from sandboxes.platforms import shopee as shopee_sandbox
from tests.integrations.shopee_support import PLATFORM, add_shop, calls, connect, links, new_shop_id, sync

PATH = "/api/v1/integrations/webhooks/shopee"
BASE_URL = "https://manifest.example.com"


@pytest.fixture
def webhook_settings(integration_settings, settings):
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "WEBHOOK_BASE_URL": BASE_URL}
    return settings.INTEGRATIONS


def post(headers: dict, body: bytes):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return APIClient().post(PATH, data=body, content_type="application/json", **extra)


def receipts(configuration) -> list[WebhookReceipt]:
    with tenant_scope(configuration.organization_id):
        return list(WebhookReceipt.objects.filter(configuration_id=configuration.id))


def push_of(shop, order_sn: str, *, url: str = BASE_URL + PATH) -> tuple[dict, bytes]:
    """The push Shopee sends for the order as it now is, signed for `url`."""
    return shopee_sandbox.webhook(shop, shop.orders[order_sn], "order.updated", url)


@pytest.mark.usefixtures("webhook_settings")
def test_a_signed_push_is_accepted_and_the_order_is_fetched_from_shopee_and_applied(
    committed, platform_sandbox, seller
):
    shop = add_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    order_sn = sorted(shop.orders)[1]

    response = post(*push_of(shop, order_sn))

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False}
    [receipt] = receipts(configuration)
    assert (receipt.external_order_id, receipt.topic) == (order_sn, "order_status")
    assert receipt.dedupe_key.startswith("sha256:")
    result = webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)
    assert result.startswith("created 1,")
    assert set(links(configuration)) == {order_sn}
    # The push only named the order: its content came from get_order_detail.
    [detail] = calls(platform_sandbox, shop, "get_order_detail")
    assert detail["query"]["order_sn_list"] == order_sn


@pytest.mark.usefixtures("webhook_settings")
def test_a_push_for_an_updated_order_updates_ours(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=2, generate={"statuses": ["READY_TO_SHIP"]})
    configuration = connect(seller, shop)
    sync(configuration)
    order_sn = sorted(shop.orders)[0]
    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, "status": "TO_CONFIRM_RECEIVE"}])

    assert post(*push_of(shop, order_sn)).status_code == 200
    [receipt] = receipts(configuration)
    result = webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)

    assert result.startswith("created 0, updated 1,")
    link = links(configuration)[order_sn]
    assert (link.platform_status, link.mapped_status) == ("TO_CONFIRM_RECEIVE", "delivered")


@pytest.mark.usefixtures("webhook_settings")
@pytest.mark.parametrize("tampering", ["another key", "another url", "body changed", "no signature"])
def test_a_push_with_a_bad_signature_is_refused_401_and_logged(committed, platform_sandbox, seller, caplog, tampering):
    shop = add_shop(platform_sandbox, count=1)
    configuration = connect(seller, shop)
    order_sn = next(iter(shop.orders))
    headers, body = push_of(shop, order_sn)
    if tampering == "another key":
        headers = {"Authorization": shopee_sandbox.push_authorization("a-key-of-no-one", BASE_URL + PATH, body)}
    elif tampering == "another url":
        headers, body = push_of(shop, order_sn, url="https://elsewhere.example.com" + PATH)
    elif tampering == "body changed":
        body = body.replace(b'"code": 3', b'"code": 3 ')
    else:
        headers = {}

    with caplog.at_level(logging.WARNING, logger="apps.integrations.services.webhooks"):
        response = post(headers, body)

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"
    [refused] = [record for record in caplog.records if record.getMessage() == "integrations.webhook_refused"]
    assert (refused.reason, refused.shop_id, refused.platform) == ("bad signature", shop.shop_id, PLATFORM)
    assert receipts(configuration) == []


@pytest.mark.usefixtures("webhook_settings")
def test_a_push_from_a_shop_we_do_not_know_is_refused_401_and_logged(committed, platform_sandbox, seller, caplog):
    shop = add_shop(platform_sandbox, count=1)  # never connected
    headers, body = push_of(shop, next(iter(shop.orders)))

    with caplog.at_level(logging.WARNING, logger="apps.integrations.services.webhooks"):
        response = post(headers, body)

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"
    [refused] = [record for record in caplog.records if record.getMessage() == "integrations.webhook_refused"]
    assert (refused.reason, refused.shop_id) == ("unknown shop", shop.shop_id)


@pytest.mark.usefixtures("webhook_settings")
def test_a_push_that_names_no_shop_is_refused_401(committed, platform_sandbox, seller):
    response = post({"Authorization": "0" * 64}, b'{"code": 3, "data": {"ordersn": "2601010000ABCD"}}')

    assert response.status_code == 401
    assert post({}, b"not json").status_code == 401


@pytest.mark.usefixtures("webhook_settings")
def test_the_same_delivery_twice_is_applied_once(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=1)
    configuration = connect(seller, shop)
    headers, body = push_of(shop, next(iter(shop.orders)))

    first, second = post(headers, body), post(headers, body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    [receipt] = receipts(configuration)
    assert webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id).startswith("created 1,")
    assert webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id) == "skipped"
    assert len(links(configuration)) == 1
    assert len(calls(platform_sandbox, shop, "get_order_detail")) == 1


def test_the_sandbox_pushes_to_our_running_server_once_the_webhooks_are_registered(
    asgi_server, platform_sandbox, seller, integration_settings, settings
):
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "WEBHOOK_BASE_URL": f"http://{asgi_server}"}
    organization, admin, actor = seller
    shop = add_shop(platform_sandbox, count=2, generate={"statuses": ["PROCESSED"]})
    configuration = connect(seller, shop)
    sync(configuration)
    with tenant_scope(organization.id, user_id=admin.id):
        configuration_register_webhooks(actor=actor, configuration_id=configuration.id)
    assert shop.webhook_urls == [f"http://{asgi_server}{PATH}"]
    [register] = calls(platform_sandbox, shop, "push/set_app_push_config")
    assert register["status"] == 200 and "access_token" not in register["query"]
    order_sn = sorted(shop.orders)[1]

    [sent] = platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, "status": "SHIPPED"}])

    assert sent["status"] == 200, sent
    [receipt] = receipts(configuration)
    assert receipt.external_order_id == order_sn
    assert webhook_apply(receipt_id=receipt.id, organization_id=organization.id).startswith("created 0, updated 1,")
    assert links(configuration)[order_sn].platform_status == "SHIPPED"


@pytest.mark.usefixtures("webhook_settings")
def test_a_push_naming_a_shop_id_that_is_not_a_number_is_refused(committed, platform_sandbox, seller):
    body = b'{"shop_id": "' + new_shop_id().encode() + b'x", "code": 3, "data": {"ordersn": "X"}}'

    assert post({"Authorization": "0" * 64}, body).status_code == 401
