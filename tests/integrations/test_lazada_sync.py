"""Lazada sync through the synchronizer, against the sandbox over real HTTP: pagination to the end
(across Lazada's offset cap), re-sync idempotence, updates, quarantine, rate limits and 5xx."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.integrations.models import QuarantinedOrder, SyncStatus
from apps.orders.models import Order
from tests.integrations.lazada_support import PLATFORM, calls, connect, lazada_shop, links, reload, sync

pytestmark = pytest.mark.usefixtures("integration_settings")


def test_syncing_past_the_offset_cap_moves_the_window_and_imports_every_order_once(committed, seller, platform_sandbox):
    # Given a seller with more orders in the window than offsets 0..5,000 reach (51 pages of 100)
    shop = lazada_shop(platform_sandbox, count=5_250)
    configuration = connect(seller, shop)

    # When the shop is synced to the end
    run = sync(configuration)

    # Then every order was imported once; those read again at the window's move were applied once
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.created, run.updated, run.quarantined) == (5_250, 0, 0)
    assert run.fetched - run.created == run.unchanged < 100
    assert set(links(configuration)) == set(shop.orders)
    # And no page was refused for its offset: past 5,000 the window moved up, from offset 0 again
    listing = calls(platform_sandbox, shop, "/rest/orders/get")
    assert all(call["status"] == 200 for call in listing)
    assert all(int(call["query"]["limit"]) == 100 for call in listing)
    offsets = [int(call["query"]["offset"]) for call in listing]
    assert max(offsets) == 5_000
    moved = offsets.index(5_000) + 1
    assert offsets[moved] == 0
    assert listing[moved]["query"]["update_after"] > listing[0]["query"]["update_after"]
    assert listing[moved]["query"]["update_before"] == listing[0]["query"]["update_before"]
    batches = calls(platform_sandbox, shop, "/rest/orders/items/get")
    assert all(len(call["query"]["order_ids"].strip("[]").split(",")) <= 50 for call in batches)


def test_a_full_sync_imports_every_order_once_and_a_second_changes_nothing(committed, seller, platform_sandbox):
    # Given a seller with two and a half pages of orders, all inside a re-sync's overlap
    shop = lazada_shop(platform_sandbox, count=250, minutes=8)
    configuration = connect(seller, shop)

    # When the shop is synced
    first = sync(configuration)

    # Then every order is imported once
    assert first.status == SyncStatus.SUCCEEDED, first.error
    assert (first.fetched, first.created, first.updated, first.quarantined) == (250, 250, 0, 0)
    assert first.pages == 3
    imported = links(configuration)
    assert set(imported) == set(shop.orders)
    with tenant_scope(configuration.organization_id):
        stamps = dict(
            Order.objects.filter(id__in=[link.order_id for link in imported.values()]).values_list("id", "updated_at")
        )
    assert len(stamps) == 250

    # When it is synced again (the overlap reads all of them again)
    second = sync(configuration)

    # Then nothing is created and nothing changed, not even an order's updated_at
    assert second.status == SyncStatus.SUCCEEDED, second.error
    assert second.fetched == 250
    assert (second.created, second.updated, second.unchanged) == (0, 0, 250)
    with tenant_scope(configuration.organization_id):
        assert dict(Order.objects.filter(id__in=list(stamps)).values_list("id", "updated_at")) == stamps
    assert {link.changed_at for link in links(configuration).values()} == {
        link.changed_at for link in imported.values()
    }


def test_an_order_updated_on_lazada_is_updated_by_the_next_sync(committed, seller, platform_sandbox):
    # Given an imported order Lazada still has as pending
    shop = lazada_shop(platform_sandbox, count=20, statuses=["pending"])
    configuration = connect(seller, shop)
    assert sync(configuration).created == 20
    order_id = next(iter(shop.orders))
    link = links(configuration)[order_id]
    assert (link.platform_status, link.mapped_status) == ("pending", "confirmed")

    # When Lazada ships it and the shop is synced (its window starts before the last one ended)
    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_id, "status": "shipped"}])
    run = sync(configuration)

    # Then ours follows, with the raw status kept, and platform_order.updated is published
    assert run.window_start < reload(configuration).watermark - timedelta(minutes=5)
    assert (run.created, run.updated) == (0, 1)
    link = links(configuration)[order_id]
    assert (link.platform_status, link.mapped_status) == ("shipped", "in_transit")
    with tenant_scope(configuration.organization_id):
        assert Order.objects.get(id=link.order_id).status == "in_transit"
        event = OutboxEvent.objects.get(event_type="platform_order.updated", aggregate_id=str(link.order_id))
    assert event.payload["platform_status"] == "shipped"
    assert "platform_status" in event.payload["changed"]


def test_a_malformed_order_is_quarantined_whole_and_released_once_sound(committed, seller, platform_sandbox):
    # Given an order whose item rows are in two currencies
    shop = lazada_shop(platform_sandbox, count=30)
    broken = next(order for order in shop.orders.values() if sum(item.quantity for item in order.items) >= 2)
    platform_sandbox.update_orders(
        PLATFORM, shop.shop_id, [{"order_id": broken.order_id, "overrides": {"order_items": [{}, {"currency": "USD"}]}}]
    )
    configuration = connect(seller, shop)

    # When the shop is synced
    run = sync(configuration)

    # Then that order is quarantined with its reason and nothing of it is imported
    assert (run.status, run.created, run.quarantined) == (SyncStatus.SUCCEEDED, 29, 1)
    assert broken.order_id not in links(configuration)
    with tenant_scope(configuration.organization_id):
        quarantined = QuarantinedOrder.objects.get(configuration=configuration, external_id=broken.order_id)
        assert Order.objects.filter(metadata__external_id=broken.order_id).count() == 0
    assert "2 currencies" in quarantined.reason and "USD" in quarantined.reason
    assert quarantined.released_at is None

    # When Lazada sends it sound and the shop is synced again
    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": broken.order_id, "overrides": {}}])
    again = sync(configuration)

    # Then it is imported and released from quarantine
    assert (again.created, again.quarantined) == (1, 0)
    assert links(configuration)[broken.order_id].currency == "PHP"
    with tenant_scope(configuration.organization_id):
        assert QuarantinedOrder.objects.get(pk=quarantined.pk).released_at is not None


def test_a_429_with_and_without_retry_after_is_asked_again(committed, seller, platform_sandbox):
    # Given Lazada throttles the listing twice, once saying when to come back and once not
    shop = lazada_shop(platform_sandbox, count=5)
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after="1", path="/orders/get")
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, path="/orders/get")

    # When the shop is synced
    started = time.monotonic()
    run = sync(configuration)

    # Then both were retried (the first after the second it asked for) and the run succeeded
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.retries == 2 and run.created == 5
    assert [call["status"] for call in calls(platform_sandbox, shop, "/rest/orders/get")] == [429, 429, 200]
    assert time.monotonic() - started >= 1


def test_lazadas_in_body_call_limit_counts_as_a_429(committed, seller, platform_sandbox):
    # Given Lazada answers one call 200 with its ApiCallLimit code, as it does
    shop = lazada_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    body = {"type": "ISV", "code": "ApiCallLimit", "message": "The request has exceeded the limit.", "request_id": "x"}
    platform_sandbox.fault(PLATFORM, shop.shop_id, 200, path="/orders/items/get", body=body)

    # When the shop is synced, then the call was asked again and the run succeeded
    run = sync(configuration)
    assert (run.status, run.retries, run.created) == (SyncStatus.SUCCEEDED, 1, 3)


def test_a_retry_after_beyond_the_maximum_fails_the_run_and_schedules_the_next_after_it(
    committed, seller, platform_sandbox
):
    # Given Lazada asks us to come back in ten minutes (beyond RETRY_AFTER_MAX_SECONDS)
    shop = lazada_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after="600", path="/orders/get")

    # When the shop is synced
    before = timezone.now()
    run = sync(configuration)

    # Then the run failed as rate limited, without waiting, and the next one is due after it
    assert (run.status, run.error_code) == (SyncStatus.FAILED, "RATE_LIMITED")
    assert len(calls(platform_sandbox, shop, "/rest/orders/get")) == 1
    assert reload(configuration).next_sync_at >= before + timedelta(seconds=600)
    assert links(configuration) == {}


def test_a_burst_of_5xx_is_retried_with_backoff(committed, seller, platform_sandbox):
    # Given Lazada fails three times in a row
    shop = lazada_shop(platform_sandbox, count=4)
    configuration = connect(seller, shop)
    platform_sandbox.fault(PLATFORM, shop.shop_id, 503, count=3, path="/orders/get")

    # When the shop is synced, then each was asked again and the run succeeded
    run = sync(configuration)
    assert (run.status, run.retries, run.created) == (SyncStatus.SUCCEEDED, 3, 4)
    assert [call["status"] for call in calls(platform_sandbox, shop, "/rest/orders/get")] == [503, 503, 503, 200]
