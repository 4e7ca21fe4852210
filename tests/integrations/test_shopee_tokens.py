"""Shopee's 4-hour access tokens (refreshed, kept encrypted), the fulfilment pushed back with its
tracking number, and the credentials kept out of logs, errors and the sync log."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import PlatformRejected
from apps.integrations.credentials import credentials_open
from apps.integrations.models import PushState, StatusPush, SyncRun, SyncStatus
from apps.integrations.services import platform_order_ship, status_push_send
from apps.orders.models import Order
from tests.integrations.shopee_support import PLATFORM, add_shop, calls, connect, links, reload, sync

pytestmark = pytest.mark.usefixtures("integration_settings")


def stored_credentials(configuration) -> dict:
    return credentials_open(reload(configuration).credentials_encrypted)


def test_connecting_refreshes_the_token_and_keeps_the_new_ones_encrypted(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox)
    given = dict(shop.credentials)

    configuration = connect(seller, shop)

    kept = stored_credentials(configuration)
    assert kept["access_token"] == shop.credentials["access_token"] != given["access_token"]
    assert kept["refresh_token"] == shop.credentials["refresh_token"] != given["refresh_token"]
    sealed = reload(configuration).credentials_encrypted
    assert all(value not in sealed for value in (*kept.values(), *given.values()))
    expires_in = reload(configuration).access_token_expires_at - timezone.now()
    assert timedelta(hours=3, minutes=59) < expires_in <= timedelta(hours=4)
    [refresh] = calls(platform_sandbox, shop, "access_token/get")
    assert refresh["method"] == "POST" and "access_token" not in refresh["query"]


def test_an_expired_access_token_is_refreshed_stored_and_the_run_succeeds(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=12)
    configuration = connect(seller, shop)
    before = stored_credentials(configuration)
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)

    run = sync(configuration)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 12
    served = [(call["path"].removeprefix("/api/v2/"), call["status"]) for call in calls(platform_sandbox, shop, "/")]
    refused = served.index(("order/get_order_list", 403))
    assert served[refused + 1] == ("auth/access_token/get", 200)
    assert served[refused + 2] == ("order/get_order_list", 200)
    after = stored_credentials(configuration)
    assert after["access_token"] == shop.credentials["access_token"] != before["access_token"]
    assert after["refresh_token"] == shop.credentials["refresh_token"] != before["refresh_token"]
    assert after["partner_key"] == before["partner_key"]
    assert after["access_token"] not in reload(configuration).credentials_encrypted


def test_a_refused_refresh_fails_the_run_for_good(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)
    refused = {"request_id": "r2", "error": "error_auth", "message": "Invalid refresh_token."}
    platform_sandbox.fault(PLATFORM, shop.shop_id, 403, path="access_token/get", body=refused)

    run = sync(configuration)

    assert run.status == SyncStatus.FAILED
    assert run.error_code == "REJECTED"
    assert "refresh token" in run.error
    assert links(configuration) == {}


def test_shipping_an_order_pushes_the_fulfilment_with_its_tracking_number(committed, platform_sandbox, seller):
    organization, admin, actor = seller
    shop = add_shop(platform_sandbox, count=3, generate={"statuses": ["READY_TO_SHIP"]})
    configuration = connect(seller, shop)
    sync(configuration)
    order_sn = sorted(shop.orders)[1]
    link = links(configuration)[order_sn]

    with tenant_scope(organization.id, user_id=admin.id):
        platform_order_ship(actor=actor, order_id=link.order_id, tracking_number="SPXSG0123456789", carrier="SPX")
    outbox_relay(organization_id=organization.id)  # order.status_changed reaches integrations
    with tenant_scope(organization.id):
        [push] = StatusPush.objects.filter(link_id=link.id)
    sent = status_push_send(push_id=push.id, organization_id=organization.id)

    assert sent == PushState.SENT
    [fulfilment] = platform_sandbox.fulfilments(PLATFORM, shop.shop_id)
    assert (fulfilment["order_id"], fulfilment["tracking_number"]) == (order_sn, "SPXSG0123456789")
    assert shop.orders[order_sn].status == "SHIPPED"
    [ship_call] = calls(platform_sandbox, shop, "logistics/ship_order")
    assert ship_call["method"] == "POST" and ship_call["status"] == 200
    with tenant_scope(organization.id):
        assert Order.objects.get(pk=link.order_id).status == "in_transit"
    # The platform now says SHIPPED too: the next sync records it and moves nothing.
    run = sync(configuration)
    assert run.updated == 1
    assert links(configuration)[order_sn].platform_status == "SHIPPED"


def test_shopee_refusing_the_shipment_leaves_the_push_failed_with_the_reason(committed, platform_sandbox, seller):
    organization, admin, actor = seller
    shop = add_shop(platform_sandbox, count=1, generate={"statuses": ["READY_TO_SHIP"]})
    configuration = connect(seller, shop)
    sync(configuration)
    [(order_sn, link)] = links(configuration).items()
    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, "status": "CANCELLED"}])

    with tenant_scope(organization.id, user_id=admin.id):
        platform_order_ship(actor=actor, order_id=link.order_id, tracking_number="SPXSG1", carrier="SPX")
    outbox_relay(organization_id=organization.id)
    with tenant_scope(organization.id):
        [push] = StatusPush.objects.filter(link_id=link.id)
    sent = status_push_send(push_id=push.id, organization_id=organization.id)

    assert sent == PushState.FAILED
    with tenant_scope(organization.id):
        assert "REJECTED" in StatusPush.objects.get(pk=push.id).last_error
    assert platform_sandbox.fulfilments(PLATFORM, shop.shop_id) == []


def test_credentials_never_reach_logs_errors_or_the_sync_log(committed, platform_sandbox, seller, caplog):
    caplog.set_level(logging.DEBUG)
    shop = add_shop(platform_sandbox, count=4)
    secrets_seen = {shop.credentials[name] for name in ("partner_key", "access_token", "refresh_token")}
    configuration = connect(seller, shop)
    sync(configuration)
    secrets_seen |= {shop.credentials["access_token"], shop.credentials["refresh_token"]}
    # Failures: the token expires and Shopee refuses the refresh, echoing the refresh token back.
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)
    echoed = {"error": "error_param", "message": f"refresh_token {shop.credentials['refresh_token']} is invalid"}
    platform_sandbox.fault(PLATFORM, shop.shop_id, 403, path="access_token/get", body=echoed)
    failed = sync(configuration)
    assert failed.status == SyncStatus.FAILED
    errors = []
    for credentials in (
        {**shop.credentials, "partner_key": "wrong-partner-key"},
        {**shop.credentials, "access_token": "0" * 32},
    ):
        try:
            adapter_for(platform=PLATFORM, shop_id=shop.shop_id, credentials=credentials).validate_credentials()
        except Exception as error:  # every kind of failure is looked at
            errors.append(error)
    assert isinstance(errors[0], PlatformRejected) and len(errors) == 2
    secrets_seen |= {"wrong-partner-key", "0" * 32}

    written = [f"{record.getMessage()} {record.__dict__}" for record in caplog.records]
    assert written, "the run logged nothing at DEBUG"
    with tenant_scope(configuration.organization_id):
        written += [f"{run.error} {run.error_code}" for run in SyncRun.objects.filter(configuration=configuration)]
        written += [str(event.payload) for event in OutboxEvent.objects.filter(event_type="sync.failed")]
    configuration = reload(configuration)
    written += [configuration.last_error, *(str(error) for error in errors), *(repr(error) for error in errors)]
    leaks = {secret for secret in secrets_seen for line in written if secret in line}
    assert leaks == set()
