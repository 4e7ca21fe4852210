"""The `platform-sync` scenario (bench/platform_sync.py) on small numbers, against the tests' platform
sandbox over real HTTP: its shops are made by the sandbox, connected through the service, synced
twice; it reports the contract's metrics, a full re-sync of unchanged orders creates and changes
nothing, and its changed-rows count does see a change made on the platform. The test times nothing."""

from __future__ import annotations

import json
import secrets

import pytest

from apps.integrations.models import Platform, SyncRun
from bench import platform_sync as bench_platform_sync
from tests.integrations.conftest import new_shop_id

pytestmark = pytest.mark.usefixtures("integration_settings")

CONTRACT = {"orders_per_s", "resync_new_orders", "resync_changed_rows", "resync_orders_per_s"}
REPORTED = {"orders", "pages", "retries", "resync_pages", "resync_retries", "sync_seconds", "resync_seconds"}


def shops(platform_sandbox, count: int) -> dict:
    return bench_platform_sync.shops_add(
        platform_sandbox.state,
        platforms=("shopify",),
        per_platform=count,
        days=3,
        seed=5,
        label=new_shop_id("bench"),
        number=100_000_000 + secrets.randbelow(800_000_000),
    )


def test_a_tiny_run_imports_every_order_once_and_a_full_resync_creates_and_changes_nothing(committed, platform_sandbox):
    # Given 300 Shopify orders (two pages of 250) and the seller connected to the shop
    prepared = bench_platform_sync.prepare(shops(platform_sandbox, 300), label=new_shop_id("seller"))
    start = bench_platform_sync.snapshot(prepared)

    # When the scenario syncs every shop, then syncs them all again in full
    first = bench_platform_sync.sync_all(prepared, what="first sync")
    before = bench_platform_sync.snapshot(prepared)
    bench_platform_sync.check_first_sync(prepared, first, bench_platform_sync.changed_rows(start, before))
    second = bench_platform_sync.sync_all(prepared, what="full re-sync")
    after = bench_platform_sync.snapshot(prepared)
    lines = [
        json.loads(metric.json_line()) for metric in bench_platform_sync.metrics(prepared, first, second, before, after)
    ]

    # Then every line has the harness's keys and the contract's names
    assert all(set(line) == {"scenario", "metric", "value", "unit"} for line in lines)
    assert {line["scenario"] for line in lines} == {"platform-sync"}
    assert sorted(line["metric"] for line in lines) == sorted(CONTRACT | REPORTED | {"shopify_orders_per_s"})
    values = {line["metric"]: line["value"] for line in lines}
    # ... the first sync imported every order, written rows counted
    assert (values["orders"], values["pages"], values["resync_pages"]) == (300, 2, 2)
    assert before.platform_orders - start.platform_orders == 300
    assert values["orders_per_s"] > 0 and values["shopify_orders_per_s"] > 0 and values["resync_orders_per_s"] > 0
    # ... and the full re-sync read them all again and made nothing new, changed nothing
    assert second.total("fetched") == 300 and second.total("unchanged") == 300
    assert values["resync_new_orders"] == 0
    assert values["resync_changed_rows"] == 0


def test_the_changed_rows_count_sees_an_order_changed_on_the_platform(committed, platform_sandbox):
    # Given a shop synced once
    sandbox_shops = shops(platform_sandbox, 20)
    prepared = bench_platform_sync.prepare(sandbox_shops, label=new_shop_id("seller"))
    bench_platform_sync.sync_all(prepared, what="first sync")
    before = bench_platform_sync.snapshot(prepared)

    # When one order (not cancelled yet) is cancelled on the platform before the full re-sync
    shop = sandbox_shops["shopify"]
    order_id = next(order_id for order_id, order in shop.orders.items() if order.status != "cancelled")
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": order_id, "status": "cancelled"}])
    second = bench_platform_sync.sync_all(prepared, what="full re-sync")
    after = bench_platform_sync.snapshot(prepared)

    # Then the count is not 0: the order and its link were written, and no order was added
    changed = bench_platform_sync.changed_rows(before, after)
    assert second.total("updated") == 1
    assert changed["orders_order"] >= 1 and changed["integrations_platformorderlink"] >= 1, changed
    assert sum(changed.values()) > 0
    assert after.platform_orders == before.platform_orders


def test_every_platform_has_its_own_rate_metric():
    runs = {platform: (2.0, SyncRun(fetched=100, created=100, pages=1, retries=0)) for platform in Platform.values}
    synced = bench_platform_sync.Synced(seconds=8.0, per_platform=runs)
    prepared = bench_platform_sync.Prepared(organization_id=None, configurations={}, orders=dict.fromkeys(runs, 100))
    nothing = bench_platform_sync.Snapshot(platform_orders=400, writes={"orders_order": 7})

    names = {
        metric.metric: metric.value
        for metric in bench_platform_sync.metrics(prepared, synced, synced, nothing, nothing)
    }

    assert (
        set(names)
        >= {
            "shopify_orders_per_s",
            "shopee_orders_per_s",
            "lazada_orders_per_s",
            "tiktok_shop_orders_per_s",
        }
        | CONTRACT
    )
    assert (names["orders_per_s"], names["shopify_orders_per_s"], names["orders"]) == (50.0, 50.0, 400)


def test_an_unknown_platform_is_refused():
    with pytest.raises(SystemExit):
        bench_platform_sync._chosen_platforms("shopify,amazon")
    assert bench_platform_sync._chosen_platforms("shopify, shopee") == ("shopify", "shopee")
