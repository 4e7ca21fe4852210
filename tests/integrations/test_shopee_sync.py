"""Shopee syncs through `configuration_sync` on committed data, against the sandbox over HTTP:
windows of at most 15 days paged to the end, a re-sync that changes nothing, an order the
platform updated, and a malformed order quarantined then released."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.integrations.models import PlatformConfiguration, QuarantinedOrder, SyncStatus
from apps.orders.models import Order
from sandboxes.platforms.shopee import MAX_WINDOW_SECONDS
from tests.integrations.shopee_support import PLATFORM, add_shop, calls, connect, links, reload, sync

pytestmark = pytest.mark.usefixtures("integration_settings")


def orders_of(configuration) -> dict[str, Order]:
    by_external_id = {external_id: link.order_id for external_id, link in links(configuration).items()}
    with tenant_scope(configuration.organization_id):
        orders = {order.id: order for order in Order.objects.filter(id__in=by_external_id.values())}
    return {external_id: orders[order_id] for external_id, order_id in by_external_id.items()}


def events(configuration, event_type: str) -> list[OutboxEvent]:
    with tenant_scope(configuration.organization_id):
        return list(OutboxEvent.objects.filter(organization_id=configuration.organization_id, event_type=event_type))


def test_a_first_sync_pages_every_window_to_the_end_and_imports_each_order_once(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=250)
    configuration = connect(seller, shop)

    run = sync(configuration)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.fetched, run.created, run.updated, run.quarantined) == (250, 250, 0, 0)
    imported = links(configuration)
    assert set(imported) == set(shop.orders)
    assert len({link.order_id for link in imported.values()}) == 250
    # The 30-day first window was split into windows of at most 15 days, each paged to its end.
    listed = calls(platform_sandbox, shop, "get_order_list")
    windows = {(int(call["query"]["time_from"]), int(call["query"]["time_to"])) for call in listed}
    assert len(windows) >= 2
    assert all(0 <= time_to - time_from <= MAX_WINDOW_SECONDS for time_from, time_to in windows)
    assert all(call["status"] == 200 and int(call["query"]["page_size"]) <= 100 for call in listed)
    assert sum(1 for call in listed if call["query"].get("cursor")) == 2  # 250 orders: pages 2 and 3
    detailed = calls(platform_sandbox, shop, "get_order_detail")
    sizes = [len(call["query"]["order_sn_list"].split(",")) for call in detailed]
    assert max(sizes) <= 50 and sum(sizes) == 250


def test_a_second_full_sync_creates_nothing_and_changes_no_row(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=120)
    configuration = connect(seller, shop)
    first = sync(configuration)
    assert first.created == 120
    before = {external_id: order.updated_at for external_id, order in orders_of(configuration).items()}
    links_before = {external_id: link.changed_at for external_id, link in links(configuration).items()}
    events_before = len(events(configuration, "platform_order.imported")) + len(
        events(configuration, "platform_order.updated")
    )
    # A full re-read: the watermark forgotten, the run reads the whole first window again.
    with tenant_scope(configuration.organization_id):
        PlatformConfiguration.objects.filter(pk=configuration.pk).update(watermark=None)

    second = sync(configuration)

    assert second.status == SyncStatus.SUCCEEDED, second.error
    assert (second.fetched, second.created, second.updated, second.unchanged) == (120, 0, 0, 120)
    assert {external_id: order.updated_at for external_id, order in orders_of(configuration).items()} == before
    assert {external_id: link.changed_at for external_id, link in links(configuration).items()} == links_before
    events_after = len(events(configuration, "platform_order.imported")) + len(
        events(configuration, "platform_order.updated")
    )
    assert events_after == events_before == 120


def test_an_order_the_platform_updated_is_updated_by_the_next_sync_with_its_event(
    committed, platform_sandbox, seller, settings
):
    shop = add_shop(platform_sandbox, count=30, generate={"statuses": ["READY_TO_SHIP"]})
    configuration = connect(seller, shop)
    first = sync(configuration)
    order_sn = sorted(shop.orders)[4]
    assert orders_of(configuration)[order_sn].status == "confirmed"

    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, "status": "SHIPPED"}])
    second = sync(configuration)

    assert second.status == SyncStatus.SUCCEEDED, second.error
    # The window starts before the first run's end (the overlap), and only the changed order changed.
    assert second.window_start == first.window_end - settings.INTEGRATIONS["SYNC_OVERLAP"]
    assert reload(configuration).watermark == second.window_end
    assert (second.created, second.updated) == (0, 1)
    link = links(configuration)[order_sn]
    assert (link.platform_status, link.mapped_status) == ("SHIPPED", "in_transit")
    assert orders_of(configuration)[order_sn].status == "in_transit"
    [updated] = events(configuration, "platform_order.updated")
    assert updated.payload["external_id"] == order_sn
    assert updated.payload["platform_status"] == "SHIPPED" and updated.payload["status"] == "in_transit"
    assert "status" in updated.payload["changed"]


def test_an_order_whose_status_maps_to_none_of_ours_stays_and_keeps_the_raw_status(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=5, generate={"statuses": ["READY_TO_SHIP"]})
    configuration = connect(seller, shop)
    sync(configuration)
    order_sn = sorted(shop.orders)[0]

    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": order_sn, "status": "IN_CANCEL"}])
    run = sync(configuration)

    assert run.updated == 1
    link = links(configuration)[order_sn]
    assert (link.platform_status, link.mapped_status) == ("IN_CANCEL", "")
    assert link.raw_payload["order_status"] == "IN_CANCEL"
    assert orders_of(configuration)[order_sn].status == "confirmed"


def test_a_malformed_order_is_quarantined_whole_and_released_once_sound(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=6)
    broken = sorted(shop.orders)[2]
    platform_sandbox.update_orders(
        PLATFORM, shop.shop_id, [{"order_id": broken, "overrides": {"total_amount": "forty-two"}}]
    )
    configuration = connect(seller, shop)

    run = sync(configuration)

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.created, run.quarantined) == (5, 1)
    assert broken not in links(configuration)
    with tenant_scope(configuration.organization_id):
        quarantined = QuarantinedOrder.objects.get(configuration=configuration, external_id=broken)
        assert Order.objects.filter(metadata__external_id=broken).count() == 0
    assert "total_amount" in quarantined.reason and "forty-two" in quarantined.reason
    assert quarantined.released_at is None
    assert quarantined.raw_payload["total_amount"] == "forty-two"

    platform_sandbox.update_orders(PLATFORM, shop.shop_id, [{"order_id": broken, "overrides": {}}])
    again = sync(configuration)

    assert (again.created, again.quarantined) == (1, 0)
    assert broken in links(configuration)
    with tenant_scope(configuration.organization_id):
        assert QuarantinedOrder.objects.get(pk=quarantined.pk).released_at is not None
