"""What the TikTok Shop tests share: connecting a sandbox shop the way an org admin does, one
sync run, and reading back what it wrote."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from apps.core.context import tenant_scope
from apps.integrations.adapters.base import PlatformHttp
from apps.integrations.models import PlatformConfiguration, PlatformOrderLink, SyncRun, SyncTrigger
from apps.integrations.services import configuration_connect, configuration_sync
from apps.orders.models import Order

PLATFORM = "tiktok_shop"


def connect(seller, shop) -> PlatformConfiguration:
    """The shop connected by the seller's admin with the credentials the sandbox gave it."""
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return configuration_connect(
            actor=actor,
            platform=PLATFORM,
            shop_id=shop.shop_id,
            name=f"TikTok {shop.shop_id}",
            credentials=dict(shop.credentials),
        )


def sync(configuration: PlatformConfiguration, *, http=None) -> SyncRun:
    """One "sync now" run of the shop, to its end."""
    run = configuration_sync(
        configuration_id=configuration.id,
        organization_id=configuration.organization_id,
        trigger=SyncTrigger.MANUAL,
        http=http,
    )
    assert run is not None, "the run was not claimed"
    return run


def reload(configuration: PlatformConfiguration) -> PlatformConfiguration:
    with tenant_scope(configuration.organization_id):
        return PlatformConfiguration.objects.get(pk=configuration.pk)


def links(configuration: PlatformConfiguration) -> dict[str, PlatformOrderLink]:
    with tenant_scope(configuration.organization_id):
        return {link.external_id: link for link in PlatformOrderLink.objects.filter(configuration=configuration)}


def platform_orders(organization_id) -> dict:
    """Our platform orders of the organization, by id."""
    with tenant_scope(organization_id):
        return {
            order.id: order for order in Order.objects.filter(kind="platform", client_organization_id=organization_id)
        }


def calls(platform_sandbox, shop, path: str) -> list[dict]:
    """The sandbox's log of the calls on `path` (oldest first)."""
    return [call for call in platform_sandbox.requests(PLATFORM, shop.shop_id) if call["path"] == path]


def recent_window(minutes: int = 5) -> dict:
    """A generation window that ends a minute ago: every order in it is within the next run's overlap."""
    end = datetime.now(UTC) - timedelta(minutes=1)
    return {"start": (end - timedelta(minutes=minutes)).isoformat(), "end": end.isoformat()}


def settle(shop) -> None:
    """Wait until the clock has passed every update of the shop: the sandbox moves an order
    updated twice within a second one second ahead (its updates never go back), and a run reads
    up to its own start."""
    latest = max(order.updated_at for order in shop.orders.values())
    while datetime.now(UTC) <= latest:
        time.sleep(0.05)


class RecordingSleep:
    """PlatformHttp's sleep that keeps what it was asked to wait (and waits it)."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


def recording_http() -> tuple[PlatformHttp, RecordingSleep]:
    sleep = RecordingSleep()
    return PlatformHttp(sleep=sleep), sleep
