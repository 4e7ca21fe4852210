"""What the Shopee tests share: a sandbox shop with a numeric id (Shopee's shop ids are numbers),
connecting it for the seller, one sync run, and reading back what a run wrote."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from apps.core.context import tenant_scope
from apps.integrations.models import PlatformConfiguration, PlatformOrderLink, SyncRun, SyncTrigger
from apps.integrations.services import configuration_connect, configuration_sync

PLATFORM = "shopee"


def new_shop_id() -> str:
    return str(100_000_000 + secrets.randbelow(900_000_000))


def add_shop(platform_sandbox, *, count: int = 0, seed: int = 7, **spec):
    """A new sandbox shop; `count` orders updated within the last week (before now)."""
    if count:
        end = datetime.now(UTC) - timedelta(minutes=2)
        spec["generate"] = {
            "count": count,
            "seed": seed,
            "start": (end - timedelta(days=6)).isoformat(),
            "end": end.isoformat(),
            **spec.get("generate", {}),
        }
    return platform_sandbox.add_shop(PLATFORM, new_shop_id(), name="Toko Nusantara", **spec)


def connect(seller, shop) -> PlatformConfiguration:
    """The seller connects the shop with the credentials the sandbox gave it (checked against the
    sandbox: a token refresh, then get_shop_info)."""
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return configuration_connect(
            actor=actor,
            platform=PLATFORM,
            shop_id=shop.shop_id,
            name=shop.name,
            credentials=dict(shop.credentials),
        )


def sync(configuration: PlatformConfiguration, *, http=None) -> SyncRun:
    run = configuration_sync(
        configuration_id=configuration.id,
        organization_id=configuration.organization_id,
        trigger=SyncTrigger.MANUAL,
        http=http,
    )
    assert run is not None, "the run was not claimed"
    return run


def links(configuration: PlatformConfiguration) -> dict[str, PlatformOrderLink]:
    with tenant_scope(configuration.organization_id):
        return {link.external_id: link for link in PlatformOrderLink.objects.filter(configuration=configuration)}


def reload(configuration: PlatformConfiguration) -> PlatformConfiguration:
    with tenant_scope(configuration.organization_id):
        return PlatformConfiguration.objects.get(pk=configuration.pk)


def calls(platform_sandbox, shop, path_part: str) -> list[dict]:
    return [call for call in platform_sandbox.requests(PLATFORM, shop.shop_id) if path_part in call["path"]]


class RecordingSleep:
    """PlatformHttp's `sleep`: waits as asked, and keeps each wait for the test to read."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        import time

        self.waits.append(seconds)
        time.sleep(seconds)
