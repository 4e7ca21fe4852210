"""Shopee rate limits and outages during a sync: 429 with and without Retry-After, Shopee's
in-body throttling error, a Retry-After longer than a run may wait, and a 5xx burst. The
sandbox's call log shows each retry; the HTTP client's `sleep` records each wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.integrations.adapters.base import PlatformHttp
from apps.integrations.models import Health, SyncStatus
from tests.integrations.shopee_support import PLATFORM, RecordingSleep, add_shop, calls, connect, links, reload, sync

pytestmark = pytest.mark.usefixtures("integration_settings")


@pytest.fixture
def connected(committed, platform_sandbox, seller):
    shop = add_shop(platform_sandbox, count=40)
    return shop, connect(seller, shop)


def statuses(platform_sandbox, shop, path_part: str) -> list[int]:
    return [call["status"] for call in calls(platform_sandbox, shop, path_part)]


def test_a_429_with_retry_after_is_waited_out_and_asked_again(platform_sandbox, connected):
    shop, configuration = connected
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after=1, path="get_order_list")
    sleep = RecordingSleep()

    run = sync(configuration, http=PlatformHttp(sleep=sleep))

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 40 and run.retries == 1
    assert sleep.waits == [1.0]
    assert statuses(platform_sandbox, shop, "get_order_list")[:2] == [429, 200]


def test_a_429_without_retry_after_backs_off_with_jitter_and_asks_again(platform_sandbox, connected, settings):
    shop, configuration = connected
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, count=2, path="get_order_detail")
    sleep = RecordingSleep()

    run = sync(configuration, http=PlatformHttp(sleep=sleep))

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 40 and run.retries == 2
    base = settings.INTEGRATIONS["BACKOFF_BASE_SECONDS"]
    # Exponential: the n-th wait is between half of base * 2^n and all of it.
    assert base / 2 <= sleep.waits[0] <= base
    assert base <= sleep.waits[1] <= base * 2
    assert statuses(platform_sandbox, shop, "get_order_detail")[:3] == [429, 429, 200]


def test_shopees_in_body_throttling_error_counts_as_a_429(platform_sandbox, connected):
    shop, configuration = connected
    throttled = {"request_id": "r1", "error": "error_rate_limit", "message": "Too many requests."}
    platform_sandbox.fault(PLATFORM, shop.shop_id, 200, path="get_order_list", body=throttled)
    sleep = RecordingSleep()

    run = sync(configuration, http=PlatformHttp(sleep=sleep))

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 40 and run.retries == 1 and len(sleep.waits) == 1
    assert len(calls(platform_sandbox, shop, "get_order_list")) >= 2


def test_a_retry_after_longer_than_a_run_may_wait_fails_the_run_and_schedules_the_next_after_it(
    platform_sandbox, connected, settings
):
    shop, configuration = connected
    assert settings.INTEGRATIONS["RETRY_AFTER_MAX_SECONDS"] < 120
    platform_sandbox.fault(PLATFORM, shop.shop_id, 429, retry_after=120, path="get_order_list")
    sleep = RecordingSleep()
    started = timezone.now()

    run = sync(configuration, http=PlatformHttp(sleep=sleep))

    assert run.status == SyncStatus.FAILED
    assert run.error_code == "RATE_LIMITED"
    assert sleep.waits == []  # not waited for within the run
    assert statuses(platform_sandbox, shop, "get_order_list") == [429]
    after = reload(configuration)
    assert after.next_sync_at >= started + timedelta(seconds=120)
    assert after.health == Health.DEGRADED and after.consecutive_failures == 1
    assert links(configuration) == {}


def test_a_burst_of_5xx_is_retried_and_the_run_succeeds(platform_sandbox, connected):
    shop, configuration = connected
    platform_sandbox.fault(PLATFORM, shop.shop_id, 503, count=3, path="get_order_detail")

    run = sync(configuration, http=PlatformHttp(sleep=RecordingSleep()))

    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 40 and run.retries == 3
    assert statuses(platform_sandbox, shop, "get_order_detail")[:4] == [503, 503, 503, 200]


def test_a_5xx_burst_longer_than_the_attempts_fails_the_run_as_unavailable(platform_sandbox, connected, settings):
    shop, configuration = connected
    attempts = settings.INTEGRATIONS["REQUEST_ATTEMPTS"]
    platform_sandbox.fault(PLATFORM, shop.shop_id, 502, count=attempts, path="get_order_list")

    run = sync(configuration, http=PlatformHttp(sleep=RecordingSleep()))

    assert run.status == SyncStatus.FAILED and run.error_code == "PLATFORM_UNAVAILABLE"
    assert statuses(platform_sandbox, shop, "get_order_list") == [502] * attempts
    assert reload(configuration).watermark is None
