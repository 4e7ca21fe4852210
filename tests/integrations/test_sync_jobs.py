"""The sync and push jobs as they run in production: the beat job fans out due shops, a shop is
synced by one run at a time (the lease), and a shipped order's fulfilment reaches the platform
through the outbox and a real Celery worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.integrations import services, tasks
from apps.integrations.models import PlatformConfiguration, StatusPush, SyncRun, SyncStatus
from apps.integrations.services import sync as sync_services
from apps.orders.models import Order
from tests.beat import run_beat_job
from tests.integrations.test_shopify import connect, make_shop

pytestmark = pytest.mark.usefixtures("integration_settings")


def test_the_beat_job_syncs_the_due_shops_only(committed, platform_sandbox, seller):
    due = connect(seller, make_shop(platform_sandbox, count=2))
    later = connect(seller, make_shop(platform_sandbox, count=2))
    paused = connect(seller, make_shop(platform_sandbox, count=2))
    with tenant_scope(seller[0].id):
        PlatformConfiguration.objects.filter(pk=later.pk).update(next_sync_at=timezone.now() + timedelta(minutes=5))
        PlatformConfiguration.objects.filter(pk=paused.pk).update(is_active=False)
    results = run_beat_job(tasks.integrations_sync_due)
    assert results == [SyncStatus.SUCCEEDED]
    with system_scope(reason="test"):
        assert list(SyncRun.objects.values_list("configuration_id", flat=True)) == [due.id]
        due.refresh_from_db()
    # Done: not due again before its interval.
    assert due.next_sync_at >= timezone.now() + timedelta(seconds=due.sync_interval - 5)
    assert run_beat_job(tasks.integrations_sync_due) == []


def test_a_shop_is_synced_by_one_run_at_a_time(committed, platform_sandbox, seller):
    configuration = connect(seller, make_shop(platform_sandbox, count=2))
    now = timezone.now()
    with tenant_scope(configuration.organization_id):
        claim = sync_services._claim(configuration.id, trigger="MANUAL", now=now, full=False)
    assert claim is not None
    # While the first run holds its lease, neither a manual nor a scheduled run starts.
    assert (
        services.configuration_sync(
            configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
        )
        is None
    )
    with system_scope(reason="test"):
        assert sync_services.configurations_due() == []
        assert SyncRun.objects.count() == 1
    # A run that died is taken over once its lease ends.
    later = now + timedelta(minutes=11)
    run = services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL", now=later
    )
    assert run is not None and run.status == SyncStatus.SUCCEEDED
    with system_scope(reason="test"):
        abandoned = SyncRun.objects.get(pk=claim.run_id)
    assert (abandoned.status, abandoned.error_code) == (SyncStatus.FAILED, "ABANDONED")


def test_shipping_a_platform_order_pushes_the_fulfilment_through_the_outbox(
    committed, celery_worker, platform_sandbox, seller
):
    shop = make_shop(platform_sandbox, count=1, generate={"statuses": ["paid/unfulfilled"]})
    configuration = connect(seller, shop)
    services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
    )
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        order = Order.objects.get()
        services.platform_order_ship(actor=actor, order_id=order.id, tracking_number="SPX0001", carrier="SPX")
    deadline = time.monotonic() + 30
    while not platform_sandbox.fulfilments("shopify", shop.shop_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert platform_sandbox.fulfilments("shopify", shop.shop_id) == [
        {"order_id": next(iter(shop.orders)), "tracking_number": "SPX0001", "carrier": "SPX"}
    ]
    with tenant_scope(organization.id):
        deadline = time.monotonic() + 10
        while StatusPush.objects.get().state != "SENT" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert StatusPush.objects.get().state == "SENT"
    # The platform now says shipped: the next sync follows it without pushing anything again.
    services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
    )
    with tenant_scope(organization.id):
        assert Order.objects.get().status == "in_transit"
        assert StatusPush.objects.count() == 1


def test_a_shop_of_an_organization_with_integrations_off_is_not_synced(committed, platform_sandbox, seller):
    from apps.tenancy.models import OrganizationFeature

    configuration = connect(seller, make_shop(platform_sandbox, count=2))
    with system_scope(reason="test"):
        OrganizationFeature.objects.filter(organization=seller[0], name="platform_integrations").update(
            is_enabled=False
        )
    from django.core.cache import cache

    cache.clear()  # feature states are cached per organization
    assert (
        services.configuration_sync(
            configuration_id=configuration.id, organization_id=configuration.organization_id, trigger="MANUAL"
        )
        is None
    )
    with system_scope(reason="test"):
        assert not SyncRun.objects.exists()
