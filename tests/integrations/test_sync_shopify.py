"""The synchronizer end to end against the Shopify sandbox: a first sync imports every order once,
a second changes nothing, an update is picked up, failures back off and open the circuit."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.integrations import services
from apps.integrations.adapters import adapter_for
from apps.integrations.models import (
    BillingRecord,
    Health,
    PlatformConfiguration,
    PlatformOrderLink,
    SyncRun,
    SyncStatus,
)
from apps.integrations.services.binder import orders_apply
from apps.orders.models import Order
from tests.integrations.conftest import new_shop_id

pytestmark = pytest.mark.usefixtures("integration_settings")


def shopify_shop(platform_sandbox, count=30, **spec):
    shop_id = f"{new_shop_id('s')}.myshopify.com"
    now = timezone.now()
    generate = {
        "count": count,
        "seed": 7,
        "start": (now - timedelta(days=2)).isoformat(),
        "end": (now - timedelta(minutes=5)).isoformat(),
    }
    return platform_sandbox.add_shop("shopify", shop_id, generate=generate, **spec)


def connect(seller, shop):
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return services.configuration_connect(
            actor=actor, platform="shopify", shop_id=shop.shop_id, name="Demo shop", credentials=dict(shop.credentials)
        )


def sync(configuration, **kwargs):
    return services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL", **kwargs
    )


def test_a_first_sync_imports_every_order_once_and_a_second_changes_nothing(
    committed, platform_sandbox, seller, caplog
):
    shop = shopify_shop(platform_sandbox, count=300)  # two pages of 250
    configuration = connect(seller, shop)
    with caplog.at_level(logging.INFO, logger="apps.integrations"):  # as production logs
        run = sync(configuration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert "integrations.sync_succeeded" in [record.msg for record in caplog.records]
    organization = seller[0]
    with tenant_scope(organization.id):
        run.refresh_from_db()
        assert (run.fetched, run.created, run.pages) == (300, 300, 2)
        assert PlatformOrderLink.objects.count() == 300
        assert Order.objects.filter(kind="platform").count() == 300
        stamps = dict(Order.objects.values_list("id", "updated_at"))
        events = OutboxEvent.objects.filter(event_type="platform_order.imported").count()
        assert events == 300
        assert BillingRecord.objects.filter(kind="INVOICE").count() == 300
    second = sync(configuration, full=True)
    with tenant_scope(organization.id):
        second.refresh_from_db()
        assert second.status == SyncStatus.SUCCEEDED
        assert (second.fetched, second.created, second.updated, second.unchanged) == (300, 0, 0, 300)
        assert dict(Order.objects.values_list("id", "updated_at")) == stamps
        assert OutboxEvent.objects.filter(event_type__startswith="platform_order.").count() == 300


def test_an_order_updated_on_the_platform_is_updated_here(committed, platform_sandbox, seller):
    shop = shopify_shop(platform_sandbox, count=5)
    configuration = connect(seller, shop)
    assert sync(configuration).status == SyncStatus.SUCCEEDED
    organization = seller[0]
    order_id = _not_cancelled(organization)
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": order_id, "status": "cancelled"}])
    run = sync(configuration)
    with tenant_scope(organization.id):
        run.refresh_from_db()
        assert (run.updated, run.created) == (1, 0)
        link = PlatformOrderLink.objects.get(external_id=order_id)
        assert link.platform_status.endswith("/cancelled")
        assert Order.objects.get(pk=link.order_id).status in ("cancelled", "in_transit")
        assert OutboxEvent.objects.filter(event_type="platform_order.updated").count() == 1


def test_failures_back_off_then_open_the_circuit(committed, platform_sandbox, seller, settings):
    settings.INTEGRATIONS = {**settings.INTEGRATIONS, "CIRCUIT_FAILURES": 2, "REQUEST_ATTEMPTS": 2}
    shop = shopify_shop(platform_sandbox, count=3)
    configuration = connect(seller, shop)
    platform_sandbox.fault("shopify", shop.shop_id, 503, count=10, path="orders.json")
    first = sync(configuration)
    organization = seller[0]
    with tenant_scope(organization.id):
        configuration.refresh_from_db()
        assert first.status == SyncStatus.FAILED and first.error_code == "PLATFORM_UNAVAILABLE"
        assert configuration.health == Health.DEGRADED and configuration.next_sync_at > timezone.now()
        assert configuration.watermark is None
    second = sync(configuration)
    with tenant_scope(organization.id):
        configuration.refresh_from_db()
        assert second.status == SyncStatus.FAILED
        assert configuration.health == Health.PAUSED
        failed = OutboxEvent.objects.filter(event_type="sync.failed").order_by("created_at")
        assert [event.payload["paused"] for event in failed] == [False, True]
    with system_scope(reason="test"):
        assert SyncRun.objects.filter(configuration_id=configuration.id).count() == 2
        assert PlatformConfiguration.objects.get(pk=configuration.id).lease_until is None


def test_an_update_that_only_moves_the_platform_time_writes_nothing(committed, platform_sandbox, seller):
    shop = shopify_shop(platform_sandbox, count=5)
    configuration = connect(seller, shop)
    assert sync(configuration).status == SyncStatus.SUCCEEDED
    organization = seller[0]
    with tenant_scope(organization.id):
        before = {
            link.external_id: (link.platform_updated_at, link.changed_at) for link in PlatformOrderLink.objects.all()
        }
        stamps = dict(Order.objects.values_list("id", "updated_at"))
    # when the platform touches every order without changing any (its update time moves)
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": order_id} for order_id in shop.orders])
    run = sync(configuration, full=True)
    with tenant_scope(organization.id):
        run.refresh_from_db()
        assert (run.fetched, run.created, run.updated, run.unchanged) == (5, 0, 0, 5)
        after = {
            link.external_id: (link.platform_updated_at, link.changed_at) for link in PlatformOrderLink.objects.all()
        }
        assert after == before
        assert dict(Order.objects.values_list("id", "updated_at")) == stamps
        assert not OutboxEvent.objects.filter(event_type="platform_order.updated").exists()


def test_a_copy_older_than_the_one_applied_does_not_take_the_order_back(committed, platform_sandbox, seller):
    # given an order imported, then cancelled on the platform and synced again
    shop = shopify_shop(platform_sandbox, count=5)
    configuration = connect(seller, shop)
    assert sync(configuration).status == SyncStatus.SUCCEEDED
    organization = seller[0]
    order_id = _not_cancelled(organization)
    with tenant_scope(organization.id):
        old_copy = PlatformOrderLink.objects.get(external_id=order_id).raw_payload
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": order_id, "status": "cancelled"}])
    assert sync(configuration).status == SyncStatus.SUCCEEDED
    with tenant_scope(organization.id):
        link = PlatformOrderLink.objects.get(external_id=order_id)
        assert link.platform_status.endswith("/cancelled")
        state = (link.platform_status, link.platform_updated_at, link.changed_at, link.content_hash)
        status = Order.objects.get(pk=link.order_id).status
        events = OutboxEvent.objects.count()
    # when the copy read before the cancellation is applied after it (a sync's page behind a webhook)
    adapter = adapter_for(platform="shopify", shop_id=shop.shop_id, credentials=dict(shop.credentials))
    with tenant_scope(organization.id):
        configuration.refresh_from_db()
        result = orders_apply(configuration=configuration, adapter=adapter, raws=[old_copy])
        link.refresh_from_db()
        # then it is not applied: the order keeps the platform's newer state, and nothing is told
        assert (result.updated, result.unchanged) == (0, 1)
        assert (link.platform_status, link.platform_updated_at, link.changed_at, link.content_hash) == state
        assert Order.objects.get(pk=link.order_id).status == status
        assert OutboxEvent.objects.count() == events


def _not_cancelled(organization) -> str:
    """An imported order the platform has not cancelled (the generated orders' statuses vary)."""
    with tenant_scope(organization.id):
        links = PlatformOrderLink.objects.exclude(platform_status__endswith="/cancelled").order_by("external_id")
        external_id = links.values_list("external_id", flat=True).first()
    assert external_id is not None, "every generated order is cancelled: change the seed"
    return external_id
