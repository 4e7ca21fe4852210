"""TikTok Shop shops synced through `configuration_sync` against the sandbox over real HTTP, with
real commits: pagination to the end, re-sync idempotence, updates, quarantine, rate limits and
5xx bursts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.integrations.models import Health, QuarantinedOrder, SyncStatus
from tests.integrations.tiktok_shop_support import (
    PLATFORM,
    calls,
    connect,
    links,
    platform_orders,
    recent_window,
    recording_http,
    reload,
    settle,
    sync,
)

SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202309/orders"

pytestmark = pytest.mark.usefixtures("committed", "integration_settings")


def test_sync_pages_to_the_end_and_imports_every_order_once(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 120, "seed": 7})
    configuration = connect(seller, shop)

    run = sync(configuration)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.pages, run.fetched, run.created, run.quarantined) == (3, 120, 120, 0)
    assert set(links(configuration)) == set(shop.orders)
    assert len(platform_orders(configuration.organization_id)) == 120
    searches = calls(platform_sandbox, shop, SEARCH)
    assert [call["query"].get("page_token", "") == "" for call in searches] == [True, False, False]
    assert len({call["query"]["page_token"] for call in searches[1:]}) == 2
    assert all(call["query"]["sort_field"] == "update_time" for call in searches)
    details = calls(platform_sandbox, shop, DETAIL)
    asked = [order_id for call in details for order_id in call["query"]["ids"].split(",")]
    assert sorted(asked) == sorted(shop.orders) and max(len(call["query"]["ids"].split(",")) for call in details) <= 50


def test_status_is_mapped_and_the_raw_status_kept_on_the_link(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(
        PLATFORM, generate={"count": 4, "seed": 2, "statuses": ["ON_HOLD", "AWAITING_COLLECTION", "DELIVERED"]}
    )
    configuration = connect(seller, shop)

    sync(configuration)

    orders = platform_orders(configuration.organization_id)
    expected = {"ON_HOLD": "pending", "AWAITING_COLLECTION": "confirmed", "DELIVERED": "delivered"}
    for external_id, link in links(configuration).items():
        assert link.platform_status == shop.orders[external_id].status
        assert link.mapped_status == expected[link.platform_status]
        assert orders[link.order_id].status == expected[link.platform_status]
        assert link.raw_payload["status"] == link.platform_status


def test_a_second_full_sync_creates_nothing_and_changes_nothing(platform_sandbox, seller):
    # Every order updated within the run's overlap: the second run reads all of them again.
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 30, "seed": 11, **recent_window()})
    configuration = connect(seller, shop)
    first = sync(configuration)
    orders_before = {order_id: order.updated_at for order_id, order in platform_orders(seller[0].id).items()}
    links_before = {external_id: link.changed_at for external_id, link in links(configuration).items()}
    with tenant_scope(seller[0].id):
        events_before = OutboxEvent.objects.count()

    second = sync(configuration)

    assert (first.created, first.fetched) == (30, 30)
    assert second.status == SyncStatus.SUCCEEDED
    assert (second.fetched, second.created, second.updated, second.unchanged) == (30, 0, 0, 30)
    assert {order_id: order.updated_at for order_id, order in platform_orders(seller[0].id).items()} == orders_before
    assert {external_id: link.changed_at for external_id, link in links(configuration).items()} == links_before
    with tenant_scope(seller[0].id):
        assert OutboxEvent.objects.count() == events_before


def test_an_order_updated_on_tiktok_updates_ours_and_publishes_the_update(
    platform_sandbox, seller, integration_settings
):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 5, "seed": 5, "statuses": ["AWAITING_SHIPMENT"]})
    configuration = connect(seller, shop)
    first = sync(configuration)
    changed_id = sorted(shop.orders)[2]
    link = links(configuration)[changed_id]

    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": changed_id, "status": "IN_TRANSIT"}])
    settle(shop)
    run = sync(configuration)

    assert (run.created, run.updated) == (0, 1)
    updated = links(configuration)[changed_id]
    assert (updated.platform_status, updated.mapped_status) == ("IN_TRANSIT", "in_transit")
    assert updated.platform_updated_at > link.platform_updated_at
    assert platform_orders(seller[0].id)[link.order_id].status == "in_transit"
    with tenant_scope(seller[0].id):
        event = OutboxEvent.objects.get(event_type="platform_order.updated", aggregate_id=str(link.order_id))
    assert event.payload["platform_status"] == "IN_TRANSIT" and event.payload["external_id"] == changed_id
    # The window read again from the last watermark minus the overlap.
    assert run.window_start == first.window_end - integration_settings["SYNC_OVERLAP"]


def test_a_malformed_order_is_quarantined_whole_then_released_once_sound(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 9})
    broken_id = sorted(shop.orders)[0]
    platform_sandbox.update_orders(
        PLATFORM, shop.shop_id, [{"order_id": broken_id, "overrides": {"payment.currency": "XYZ"}}]
    )
    configuration = connect(seller, shop)
    settle(shop)

    first = sync(configuration)

    assert (first.status, first.created, first.quarantined) == (SyncStatus.SUCCEEDED, 2, 1)
    assert broken_id not in links(configuration)
    assert all(order.metadata["external_id"] != broken_id for order in platform_orders(seller[0].id).values())
    with tenant_scope(seller[0].id):
        held = QuarantinedOrder.objects.get(configuration=configuration, external_id=broken_id)
    assert held.reason == "Unknown currency 'XYZ'." and held.released_at is None
    assert held.raw_payload["payment"]["currency"] == "XYZ"

    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": broken_id, "overrides": {}}])
    settle(shop)
    second = sync(configuration)

    assert (second.status, second.created, second.quarantined) == (SyncStatus.SUCCEEDED, 1, 0), (
        second.error,
        second.fetched,
        second.window_start,
        second.window_end,
        shop.orders[broken_id].updated_at,
    )
    assert links(configuration)[broken_id].currency == "MYR"
    with tenant_scope(seller[0].id):
        assert QuarantinedOrder.objects.get(pk=held.pk).released_at is not None


def test_429_with_retry_after_is_waited_out_and_retried(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 1})
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after="1", path=SEARCH)
    http, sleep = recording_http()

    run = sync(configuration, http=http)

    assert (run.status, run.created, run.retries) == (SyncStatus.SUCCEEDED, 3, 1)
    assert sleep.waits == [1.0]
    assert [call["status"] for call in calls(platform_sandbox, shop, SEARCH)] == [429, 200]


def test_429_without_retry_after_is_retried_with_backoff(platform_sandbox, seller, integration_settings):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 1})
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, count=2, path=SEARCH)
    http, sleep = recording_http()

    run = sync(configuration, http=http)

    assert (run.status, run.created, run.retries) == (SyncStatus.SUCCEEDED, 3, 2)
    assert len(sleep.waits) == 2 and all(
        0 < wait <= integration_settings["BACKOFF_MAX_SECONDS"] for wait in sleep.waits
    )
    assert [call["status"] for call in calls(platform_sandbox, shop, SEARCH)] == [429, 429, 200]


def test_retry_after_beyond_the_limit_fails_the_run_and_schedules_the_next_after_it(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 1})
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after="120", path=SEARCH)
    http, sleep = recording_http()

    run = sync(configuration, http=http)

    assert (run.status, run.error_code, run.created) == (SyncStatus.FAILED, "RATE_LIMITED", 0)
    assert sleep.waits == []
    assert [call["status"] for call in calls(platform_sandbox, shop, SEARCH)] == [429]
    after = reload(configuration)
    assert after.health == Health.DEGRADED and after.watermark is None
    assert after.next_sync_at >= run.finished_at + timedelta(seconds=120)
    with tenant_scope(seller[0].id):
        assert OutboxEvent.objects.filter(event_type="sync.failed").count() == 1


def test_a_5xx_burst_is_retried_and_the_run_succeeds(platform_sandbox, seller):
    shop = platform_sandbox.add_shop(PLATFORM, generate={"count": 3, "seed": 4})
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 503, count=3, path=SEARCH)

    run = sync(configuration)

    assert (run.status, run.created, run.retries) == (SyncStatus.SUCCEEDED, 3, 3)
    assert [call["status"] for call in calls(platform_sandbox, shop, SEARCH)] == [503, 503, 503, 200]
