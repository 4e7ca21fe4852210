"""What the Lazada tests share: a seller's shop in the sandbox (a numeric seller id, as Lazada's
are), connecting it through the service, a sync run, and reads of what was imported."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from apps.core.context import tenant_scope
from apps.integrations.models import PlatformConfiguration, PlatformOrderLink, SyncRun, SyncTrigger
from apps.integrations.services import configuration_connect, configuration_sync

PLATFORM = "lazada"


def new_seller_id() -> str:
    return str(100_000_000 + secrets.randbelow(900_000_000))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def lazada_shop(
    platform_sandbox, *, count: int = 0, minutes: int | None = None, statuses: list[str] | None = None, **spec
):
    """A new seller in the sandbox with `count` orders (their Lazada statuses drawn from
    `statuses`); `minutes`: all of them created and updated within the last that many minutes
    (inside a re-sync's overlap), else over the last week."""
    shop_id = new_seller_id()
    generate = {"count": count, "seed": 1, **({"statuses": statuses} if statuses else {})}
    if minutes is not None:
        now = datetime.now(UTC)
        generate.update(start=iso(now - timedelta(minutes=minutes)), end=iso(now - timedelta(seconds=30)))
    platform_sandbox.add_shop(PLATFORM, shop_id, name=f"Lazada seller {shop_id}", generate=generate, **spec)
    return platform_sandbox.shop(PLATFORM, shop_id)


def connect(seller, shop, *, credentials: dict | None = None) -> PlatformConfiguration:
    organization, admin, actor = seller
    with tenant_scope(organization.id, user_id=admin.id):
        return configuration_connect(
            actor=actor,
            platform=PLATFORM,
            shop_id=shop.shop_id,
            name=shop.name,
            credentials=dict(credentials if credentials is not None else shop.credentials),
        )


def sync(configuration: PlatformConfiguration) -> SyncRun:
    run = configuration_sync(
        configuration_id=configuration.id,
        organization_id=configuration.organization_id,
        trigger=SyncTrigger.MANUAL,
    )
    assert run is not None, "the run was not claimed"
    return run


def links(configuration: PlatformConfiguration) -> dict[str, PlatformOrderLink]:
    with tenant_scope(configuration.organization_id):
        return {link.external_id: link for link in PlatformOrderLink.objects.filter(configuration=configuration)}


def reload(configuration: PlatformConfiguration) -> PlatformConfiguration:
    with tenant_scope(configuration.organization_id):
        return PlatformConfiguration.objects.get(pk=configuration.pk)


def calls(platform_sandbox, shop, api_path: str) -> list[dict]:
    """The sandbox's log of the calls on one API path (e.g. "/rest/orders/get")."""
    return [call for call in platform_sandbox.requests(PLATFORM, shop.shop_id) if call["path"].endswith(api_path)]
