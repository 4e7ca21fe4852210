"""Lazada pushes through the real endpoint, the token refresh, the fulfilment pushed back, and
credentials kept out of logs, errors and the sync log."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from apps.core.context import tenant_scope
from apps.core.logs import RedactUrlSecretsFilter
from apps.core.services import outbox_relay
from apps.integrations.credentials import credentials_open
from apps.integrations.models import PlatformConfiguration, StatusPush, SyncStatus, WebhookReceipt
from apps.integrations.services import platform_order_ship, status_push_send, webhook_apply
from apps.integrations.services.configurations import CredentialsRejected
from sandboxes.platforms import lazada as lazada_sandbox
from tests.integrations.lazada_support import PLATFORM, calls, connect, lazada_shop, links, reload, sync

pytestmark = pytest.mark.usefixtures("integration_settings")

ENDPOINT = "/api/v1/integrations/webhooks/lazada"


def _post(body: bytes, authorization: str | None):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    return APIClient().post(ENDPOINT, data=body, content_type="application/json", **extra)


def _receipts(configuration) -> list[WebhookReceipt]:
    with tenant_scope(configuration.organization_id):
        return list(WebhookReceipt.objects.filter(configuration_id=configuration.id))


def test_a_signed_push_is_received_and_its_order_fetched_and_applied(committed, seller, platform_sandbox):
    # Given a connected seller and Lazada's push for one of its orders
    shop = lazada_shop(platform_sandbox, count=2)
    configuration = connect(seller, shop)
    order = next(iter(shop.orders.values()))
    headers, body = lazada_sandbox.webhook(shop, order, "order.updated", "")

    # When it reaches the endpoint and the receipt is applied (what the task does)
    response = _post(body, headers["Authorization"])
    (receipt,) = _receipts(configuration)
    result = webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)

    # Then it was accepted, the order was read from Lazada's API and imported
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False}
    assert receipt.external_order_id == order.order_id
    assert result.startswith("created 1")
    assert [call["query"]["order_id"] for call in calls(platform_sandbox, shop, "/rest/order/get")] == [order.order_id]
    assert set(links(configuration)) == {order.order_id}


def test_a_push_with_a_bad_signature_is_refused_and_logged(committed, seller, platform_sandbox, caplog):
    shop = lazada_shop(platform_sandbox, count=1)
    configuration = connect(seller, shop)
    order = next(iter(shop.orders.values()))
    headers, body = lazada_sandbox.webhook(shop, order, "order.updated", "")
    forged = lazada_sandbox.push_signature(shop.credentials["app_key"], "not-the-app-secret", body)

    with caplog.at_level(logging.WARNING, logger="apps.integrations"):
        refused = _post(body, forged)
        tampered = _post(body.replace(b'"message_type":0', b'"message_type":0 '), headers["Authorization"])
        unsigned = _post(body, None)

    for response in (refused, tampered, unsigned):
        assert response.status_code == 401
        assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"
        assert set(response.json()) >= {"error_code", "message", "details", "timestamp", "request_id"}
    logged = [record for record in caplog.records if record.getMessage() == "integrations.webhook_refused"]
    assert len(logged) == 3 and {record.reason for record in logged} == {"bad signature"}
    assert all(record.shop_id == shop.shop_id for record in logged)
    assert _receipts(configuration) == []


def test_a_push_from_an_unknown_seller_is_refused(committed, seller, platform_sandbox, caplog):
    # Given a seller Lazada knows but nobody connected here
    shop = lazada_shop(platform_sandbox, count=1)
    headers, body = lazada_sandbox.webhook(shop, next(iter(shop.orders.values())), "order.updated", "")

    with caplog.at_level(logging.WARNING, logger="apps.integrations"):
        response = _post(body, headers["Authorization"])

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"
    assert [record.reason for record in caplog.records if record.getMessage() == "integrations.webhook_refused"] == [
        "unknown shop"
    ]


def test_the_same_push_delivered_twice_is_applied_once(committed, seller, platform_sandbox):
    shop = lazada_shop(platform_sandbox, count=1)
    configuration = connect(seller, shop)
    order = next(iter(shop.orders.values()))
    headers, body = lazada_sandbox.webhook(shop, order, "order.updated", "")

    first = _post(body, headers["Authorization"])
    second = _post(body, headers["Authorization"])
    for receipt in _receipts(configuration):
        webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)
        webhook_apply(receipt_id=receipt.id, organization_id=configuration.organization_id)  # a task redelivered

    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert len(_receipts(configuration)) == 1
    assert len(calls(platform_sandbox, shop, "/rest/order/get")) == 1
    assert set(links(configuration)) == {order.order_id}


def test_connecting_with_another_sellers_token_or_a_dead_refresh_token_is_refused(committed, seller, platform_sandbox):
    shop = lazada_shop(platform_sandbox)
    other = lazada_shop(platform_sandbox)
    organization, admin, _ = seller

    with pytest.raises(CredentialsRejected) as another_seller:
        connect(seller, other, credentials=shop.credentials)  # refreshed fine, but /seller/get is shop's
    with pytest.raises(CredentialsRejected) as dead_refresh:
        connect(seller, other, credentials={**other.credentials, "refresh_token": "50001-revoked"})

    assert "another Lazada seller" in str(another_seller.value.details)
    assert "IllegalRefreshToken" in str(dead_refresh.value.details)
    with tenant_scope(organization.id, user_id=admin.id):
        assert not PlatformConfiguration.objects.exists()


def test_an_expired_token_is_refreshed_stored_encrypted_and_the_run_succeeds(committed, seller, platform_sandbox):
    # Given a connected seller whose access token Lazada now says expired
    shop = lazada_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    old_token = shop.credentials["access_token"]
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)

    # When the shop is synced
    run = sync(configuration)

    # Then the token was refreshed once, the run read on and succeeded
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 3
    refreshes = calls(platform_sandbox, shop, "/auth/token/refresh")
    assert len(refreshes) == 2  # one when connecting, one now
    assert shop.credentials["access_token"] != old_token
    # And the new tokens are kept, encrypted: the row never holds them in clear
    stored = reload(configuration)
    kept = credentials_open(stored.credentials_encrypted)
    assert kept["access_token"] == shop.credentials["access_token"]
    assert kept["refresh_token"] == shop.credentials["refresh_token"]
    assert shop.credentials["access_token"] not in stored.credentials_encrypted
    assert shop.credentials["refresh_token"] not in stored.credentials_encrypted
    assert stored.access_token_expires_at is not None


def test_shipping_a_lazada_order_pushes_ready_to_ship_with_the_tracking_number(committed, seller, platform_sandbox):
    # Given an imported order Lazada has as pending (ours: confirmed)
    shop = lazada_shop(platform_sandbox, count=1, statuses=["pending"])
    configuration = connect(seller, shop)
    assert sync(configuration).created == 1
    (order_id,) = shop.orders
    link = links(configuration)[order_id]
    organization, admin, actor = seller

    # When the seller ships it from Manifest and the fulfilment push is sent
    with tenant_scope(organization.id, user_id=admin.id):
        platform_order_ship(actor=actor, order_id=link.order_id, tracking_number="LXPH-000123", carrier="LEX PH")
    outbox_relay(organization_id=organization.id)
    with tenant_scope(organization.id):
        push = StatusPush.objects.get(link_id=link.id)
    state = status_push_send(push_id=push.id, organization_id=organization.id)

    # Then Lazada got "ready to ship" for every item, with our carrier and tracking number
    assert state == "SENT"
    (fulfilment,) = platform_sandbox.fulfilments(PLATFORM, shop.shop_id)
    assert fulfilment["order_id"] == order_id
    assert (fulfilment["tracking_number"], fulfilment["shipment_provider"]) == ("LXPH-000123", "LEX PH")
    assert fulfilment["delivery_type"] == "dropship"
    assert len(fulfilment["order_item_ids"]) == sum(item.quantity for item in shop.orders[order_id].items)
    assert shop.orders[order_id].status == "ready_to_ship"


def _secrets_of(shop, *more: dict) -> set[str]:
    values = {shop.credentials["app_secret"], shop.credentials["access_token"], shop.credentials["refresh_token"]}
    for credentials in more:
        values |= {credentials[name] for name in ("app_secret", "access_token", "refresh_token")}
    return values


def _rendered(record: logging.LogRecord) -> str:
    return record.getMessage() + " " + repr(record.__dict__)


# urllib3 logs each request line at DEBUG, and the sandbox (Lazada's side) its access log: Lazada
# wants the token in the query, so those lines carry it until the project's console handler redacts
# it (its filter rewrites the record in place, before caplog's handler sees it; applied again here
# so that the check does not hang on the handlers' order).
REQUEST_LINE_LOGGERS = ("urllib3.connectionpool", "sandboxes.platforms")


def test_credentials_stay_out_of_logs_errors_and_the_sync_log(committed, seller, platform_sandbox, caplog):
    shop = lazada_shop(platform_sandbox, count=3)
    first_credentials = dict(shop.credentials)
    with caplog.at_level(logging.DEBUG):
        # Given a connected seller (its token refreshed on the way)
        configuration = connect(seller, shop)
        # When Lazada's error message echoes the access token back, and later fails for good
        token = shop.credentials["access_token"]
        echo = {"type": "ISV", "code": "InvalidParameter", "message": f"bad access_token {token}", "request_id": "x"}
        platform_sandbox.fault(PLATFORM, shop.shop_id, 200, path="/orders/get", body=echo)
        refused = sync(configuration)
        platform_sandbox.fault(PLATFORM, shop.shop_id, 500, count=10, path="/orders/get")
        unavailable = sync(configuration)
        # And a push with a forged signature arrives
        _, body = lazada_sandbox.webhook(shop, next(iter(shop.orders.values())), "order.updated", "")
        _post(body, "0" * 64)

    secrets = _secrets_of(shop, first_credentials)
    assert (refused.status, refused.error_code) == (SyncStatus.FAILED, "REJECTED")
    assert (unavailable.status, unavailable.error_code) == (SyncStatus.FAILED, "PLATFORM_UNAVAILABLE")
    for run in (refused, unavailable):
        assert not any(secret in run.error for secret in secrets), run.error
    assert "[redacted]" in refused.error
    stored = reload(configuration)
    assert not any(secret in stored.last_error for secret in secrets)
    assert caplog.records, "nothing was logged"
    redact = RedactUrlSecretsFilter()
    for record in caplog.records:
        if record.name.startswith(REQUEST_LINE_LOGGERS):
            redact.filter(record)  # as the console handler writes it
        leaked = [secret for secret in secrets if secret in _rendered(record)]
        assert not leaked, f"{record.name}: {record.getMessage()[:200]}"
