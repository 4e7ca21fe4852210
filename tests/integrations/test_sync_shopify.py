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
from apps.integrations.models import (
    BillingRecord,
    Health,
    PlatformConfiguration,
    PlatformOrderLink,
    SyncRun,
    SyncStatus,
)
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
    order_id = next(iter(shop.orders))
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": order_id, "status": "cancelled"}])
    run = sync(configuration)
    organization = seller[0]
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
