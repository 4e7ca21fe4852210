"""TikTok Shop's access tokens refreshed when they expire, and the fulfilment of an order we ship
pushed back to TikTok with its tracking number (real commits, the sandbox over real HTTP)."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.core.services import outbox_relay
from apps.integrations.credentials import credentials_open
from apps.integrations.models import PushState, StatusPush, SyncStatus
from apps.integrations.services import platform_order_ship, status_push_send
from tests.integrations.tiktok_shop_support import (
    PLATFORM,
    calls,
    connect,
    links,
    platform_orders,
    reload,
    settle,
    sync,
)

SEARCH = "/order/202309/orders/search"
REFRESH = "/auth/api/v2/token/refresh"

pytestmark = pytest.mark.usefixtures("committed", "integration_settings")


def test_connecting_refreshes_the_token_and_keeps_its_expiry(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM)
    given = dict(shop.credentials)

    configuration = connect(seller, shop)

    stored = credentials_open(configuration.credentials_encrypted)
    assert stored["access_token"] == shop.credentials["access_token"] != given["access_token"]
    assert configuration.access_token_expires_at == shop.token_expires_at
    assert [call["status"] for call in calls(platform_sandbox, shop, REFRESH)] == [200]


def test_an_expired_token_is_refreshed_stored_encrypted_and_the_run_succeeds(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 2, "seed": 8})
    configuration = connect(seller, shop)
    before = credentials_open(reload(configuration).credentials_encrypted)
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)

    run = sync(configuration)

    assert (run.status, run.created) == (SyncStatus.SUCCEEDED, 2)
    after = reload(configuration)
    stored = credentials_open(after.credentials_encrypted)
    assert stored["access_token"] == shop.credentials["access_token"] != before["access_token"]
    assert stored["refresh_token"] == shop.credentials["refresh_token"] != before["refresh_token"]
    assert stored["access_token"] not in after.credentials_encrypted
    assert stored["refresh_token"] not in after.credentials_encrypted
    assert after.access_token_expires_at == shop.token_expires_at
    assert [call["status"] for call in calls(platform_sandbox, shop, SEARCH)] == [401, 200]
    assert [call["status"] for call in calls(platform_sandbox, shop, REFRESH)] == [200, 200]


def test_a_refused_refresh_fails_the_run_without_reading(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 2, "seed": 8})
    configuration = connect(seller, shop)
    platform_sandbox.expire_token(PLATFORM, shop.shop_id)
    platform_sandbox.fault(
        PLATFORM, shop.shop_id, 401, path=REFRESH, body={"code": 105003, "message": "Refresh token is invalid."}
    )

    run = sync(configuration)

    assert (run.status, run.error_code, run.created) == (SyncStatus.FAILED, "REJECTED", 0)
    assert "105003" in run.error
    assert platform_orders(seller[0].id) == {}


# The sandbox's id of "J&T Express" among its delivery option's providers (sandboxes/platforms/tiktok_shop.py).
J_AND_T_EXPRESS = "6617675021119438849"


def shop_with_an_order_to_ship(platform_sandbox, seller, *, seed: int):
    """A TikTok shop with one order awaiting shipment, connected and synced: (shop, configuration,
    its external id, its link)."""
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 1, "seed": seed, "statuses": ["AWAITING_SHIPMENT"]})
    configuration = connect(seller, shop)
    sync(configuration)
    ((external_id, link),) = links(configuration).items()
    return shop, configuration, external_id, link


def ship_and_push(seller, link, *, tracking_number: str, carrier: str) -> tuple[StatusPush, str]:
    """Ship our order, relay its event (what the relay task does: order.status_changed makes the
    push), then send the push as the worker would: (the push, the state it ended in)."""
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        platform_order_ship(actor=actor, order_id=link.order_id, tracking_number=tracking_number, carrier=carrier)
    outbox_relay(organization_id=organization.id)
    with tenant_scope(organization.id):
        push = StatusPush.objects.get(link=link)
    state = status_push_send(push_id=push.id, organization_id=organization.id)
    with tenant_scope(organization.id):
        push.refresh_from_db()
    return push, state


def test_shipping_our_order_pushes_the_tracking_number_to_tiktok(platform_sandbox, seller):
    shop, configuration, external_id, link = shop_with_an_order_to_ship(platform_sandbox, seller, seed=12)

    push, state = ship_and_push(seller, link, tracking_number="MY2612345678TT", carrier="J&T Express")

    assert state == PushState.SENT and push.sent_at is not None
    assert [
        (fulfilment["order_id"], fulfilment["tracking_number"], fulfilment["shipping_provider_id"])
        for fulfilment in platform_sandbox.fulfilments(PLATFORM, shop.shop_id)
    ] == [(external_id, "MY2612345678TT", J_AND_T_EXPRESS)]  # TikTok's id for the provider we named
    assert shop.orders[external_id].status == "IN_TRANSIT"

    # TikTok now says IN_TRANSIT too: the next sync records it and asks for no second push.
    settle(shop)
    run = sync(configuration)

    assert run.updated == 1
    assert links(configuration)[external_id].platform_status == "IN_TRANSIT"
    organization = seller[0]
    outbox_relay(organization_id=organization.id)
    with tenant_scope(organization.id):
        assert StatusPush.objects.filter(link=link).count() == 1


def test_tiktok_refusing_the_shipment_fails_the_push_with_its_reason(platform_sandbox, seller):
    shop, _, external_id, link = shop_with_an_order_to_ship(platform_sandbox, seller, seed=13)
    # The buyer cancelled on TikTok after our last read: TikTok refuses to ship it.
    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": external_id, "status": "CANCELLED"}])

    push, state = ship_and_push(seller, link, tracking_number="MY2699", carrier="Pos Laju")

    assert state == PushState.FAILED
    assert "21011001" in push.last_error
    assert platform_sandbox.fulfilments(PLATFORM, shop.shop_id) == []


def test_a_carrier_tiktok_does_not_offer_for_the_order_fails_the_push_naming_those_it_does(platform_sandbox, seller):
    shop, _, external_id, link = shop_with_an_order_to_ship(platform_sandbox, seller, seed=14)

    push, state = ship_and_push(seller, link, tracking_number="MY2700", carrier="Kerry Express")

    assert state == PushState.FAILED
    assert "'Kerry Express'" in push.last_error
    assert "J&T Express, Pos Laju, Ninja Van, DHL eCommerce" in push.last_error
    assert platform_sandbox.fulfilments(PLATFORM, shop.shop_id) == []
    assert shop.orders[external_id].status == "AWAITING_SHIPMENT"
