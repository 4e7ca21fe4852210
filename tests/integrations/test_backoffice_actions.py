"""The back-office's "Sync now" and "Full re-sync" on real parts: the admin's action commits, a real
Celery worker runs the sync against the Shopify sandbox, and the sync log shows the run (a full
re-sync reads the whole initial look-back again and changes nothing that did not change)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from apps.core.context import tenant_scope
from apps.integrations import services
from apps.integrations.models import SyncRun
from tests.integrations.api_support import connect, shopify_shop
from tests.support import admin_client, wait_until

pytestmark = pytest.mark.usefixtures("integration_settings", "celery_worker")

SHOPS = reverse("admin:integrations_platformconfiguration_changelist")


def runs_of(configuration) -> list[SyncRun]:
    with tenant_scope(configuration.organization_id):
        return list(SyncRun.objects.filter(configuration_id=configuration.id).order_by("started_at"))


def finished_runs(configuration, count: int) -> list[SyncRun]:
    wait_until(lambda: len([run for run in runs_of(configuration) if run.finished_at]) >= count, timeout=60)
    return runs_of(configuration)


def act(user, action: str, rows):
    data = {"action": action, "_selected_action": [str(row.pk) for row in rows]}
    return admin_client(user).post(SHOPS, data, follow=True)


def test_sync_now_and_a_full_re_sync_run_on_the_worker_and_fill_the_sync_log(seller, platform_sandbox, settings):
    _organization, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox, count=5))

    synced = act(admin, "sync_now", [configuration])
    [first] = finished_runs(configuration, 1)
    resynced = act(admin, "full_resync", [configuration])
    first, second = finished_runs(configuration, 2)

    assert "Sync queued for 1 shop(s): see the sync log." in [str(m) for m in synced.context["messages"]]
    assert "Full re-sync queued for 1 shop(s): see the sync log." in [str(m) for m in resynced.context["messages"]]
    assert (first.trigger, first.status, first.created) == ("MANUAL", "SUCCEEDED", 5), first.error
    assert (second.trigger, second.status, second.fetched, second.created, second.updated) == (
        "MANUAL",
        "SUCCEEDED",
        5,
        0,
        0,
    )
    # Full: from the initial look-back, not from the watermark the first run left.
    lookback = settings.INTEGRATIONS["INITIAL_LOOKBACK"]
    assert second.window_start <= second.started_at - lookback + timedelta(seconds=1)
    assert second.window_start < first.window_end - settings.INTEGRATIONS["SYNC_OVERLAP"]
    log = admin_client(admin).get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert log.count("Succeeded") >= 2


def test_a_deactivated_shop_is_not_synced_and_the_page_says_so(seller, platform_sandbox):
    organization, admin, actor = seller
    configuration = connect(seller, shopify_shop(platform_sandbox, count=1))
    with tenant_scope(organization.id, user_id=admin.id):
        services.configuration_update(actor=actor, configuration_id=configuration.id, is_active=False)

    synced = act(admin, "sync_now", [configuration])
    resynced = act(admin, "full_resync", [configuration])

    for response in (synced, resynced):
        assert any("deactivated" in str(message) for message in response.context["messages"])
    assert runs_of(configuration) == []
