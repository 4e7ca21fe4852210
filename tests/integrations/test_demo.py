"""The platform integrations' part of `make run`: the demo seller with its demo shops connected once
(without asking the platform, which is not running during seed_demo), the very shops and
credentials the platform sandbox serves with --demo (a sync against it imports their orders), the
sandbox as `make run` starts it (demo orders flowing in, a clean stop), and the environment that
points web, worker and beat at it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from django.core.management import call_command

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import ValidationFailed
from apps.integrations import demo, services
from apps.integrations.models import Platform, PlatformConfiguration, PlatformOrderLink, SyncStatus, SyncTrigger
from apps.tenancy import demo as tenancy_demo
from apps.tenancy.models import Membership, OrganizationFeature
from devstack import __main__ as devstack_main
from devstack import services as devstack_services
from sandboxes.platforms.demo import DEMO_ORDERS, DEMO_SHOPS, DemoFlow, demo_shop, demo_shops_add
from tests.integrations.conftest import PlatformSandbox, new_shop_id
from tests.support import free_port


def test_the_demo_password_and_platform_admin_are_tenancys():
    assert (demo.DEMO_PASSWORD, demo.ADMIN_EMAIL) == (tenancy_demo.DEMO_PASSWORD, tenancy_demo.ADMIN_EMAIL)


def test_every_platform_has_one_demo_shop_in_its_own_shop_id_form():
    assert sorted(shop.platform for shop in DEMO_SHOPS) == sorted(Platform.values)
    assert demo_shop("shopify").shop_id.endswith(".myshopify.com")
    assert all(shop.shop_id.isdigit() for shop in DEMO_SHOPS if shop.platform != "shopify")


@pytest.mark.django_db
def test_seeding_twice_connects_each_demo_shop_once_for_the_demo_seller(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    banner = capsys.readouterr().out

    with system_scope(reason="test: the demo shops", audit=False):
        configurations = list(PlatformConfiguration.objects.select_related("organization"))
        feature = OrganizationFeature.objects.get(organization__slug="nusantara-goods", name="platform_integrations")
        admin = Membership.objects.select_related("organization", "user").get(user__email=demo.SELLER_ADMIN_EMAIL)
    shops = [(configuration.platform, configuration.shop_id) for configuration in configurations]
    assert len(shops) == len(set(shops))  # once each
    assert ("shopify", demo_shop("shopify").shop_id) in shops
    assert {configuration.organization.slug for configuration in configurations} == {"nusantara-goods"}
    assert all(configuration.sync_interval == demo.SYNC_INTERVAL_SECONDS for configuration in configurations)
    assert all(configuration.next_sync_at is not None for configuration in configurations)  # due at once
    assert (feature.is_entitled, feature.is_enabled) == (True, True)
    assert (admin.organization.slug, admin.role) == ("nusantara-goods", "org_admin")
    assert admin.user.check_password(demo.DEMO_PASSWORD)
    # Every platform is named in the banner: connected, or said not to be.
    for platform in Platform:
        assert platform.label in banner
    assert demo.SELLER_ADMIN_EMAIL in banner and "/admin/integrations/" in banner


@pytest.mark.parametrize("platform", Platform.values)
def test_a_demo_shop_seeded_while_the_sandbox_is_down_syncs_against_the_demo_sandbox(
    platform, committed, platform_sandbox, integration_settings, caplog
):
    caplog.set_level(logging.INFO)  # as `make run` logs: every record is made, its extra fields checked
    # Given the demo seeder's work, done without any platform call
    lines = demo.seed()
    with system_scope(reason="test: the demo shop", audit=False):
        configuration = PlatformConfiguration.objects.filter(platform=platform).first()
    assert configuration is not None, "\n".join(lines)
    shop = demo_shop(platform)
    assert configuration.shop_id == shop.shop_id
    # When the sandbox starts with its demo shops, and the scheduled sync runs
    shops, failures = demo_shops_add(platform_sandbox.state)
    assert platform not in failures, failures.get(platform)
    assert platform_sandbox.requests(platform, shop.shop_id) == []  # seeding asked nothing of the platform
    run = services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger=SyncTrigger.SCHEDULE
    )

    # Then the demo orders are imported
    assert run is not None and run.status == SyncStatus.SUCCEEDED, run and f"{run.error_code} {run.error}"
    assert run.created == DEMO_ORDERS
    with tenant_scope(configuration.organization_id):
        assert PlatformOrderLink.objects.filter(configuration_id=configuration.id).count() == DEMO_ORDERS

    # And an order the demo flow adds arrives with the next run
    [sandbox_shop] = [candidate for candidate in shops if candidate.platform == platform]
    DemoFlow(platform_sandbox.state, [sandbox_shop], interval=0).tick()
    again = services.configuration_sync(
        configuration_id=configuration.id, organization_id=configuration.organization_id, trigger=SyncTrigger.MANUAL
    )
    assert again.status == SyncStatus.SUCCEEDED and again.created == 1


@pytest.mark.django_db
def test_a_trusted_connection_makes_the_same_checks_but_asks_the_platform_nothing(platform_sandbox, seller):
    organization, admin, actor = seller
    shop = platform_sandbox.add_shop("shopify", f"{new_shop_id('t')}.myshopify.com")
    with tenant_scope(organization.id, user_id=admin.id):
        with pytest.raises(ValidationFailed) as unknown_field:
            services.configuration_connect_trusted(
                actor=actor,
                platform="shopify",
                shop_id=shop.shop_id,
                name="Shop",
                credentials={**shop.credentials, "password": "hunter2"},
            )
        configuration = services.configuration_connect_trusted(
            actor=actor, platform="shopify", shop_id=shop.shop_id, name="Shop", credentials=dict(shop.credentials)
        )
        with pytest.raises(ValidationFailed) as taken:
            services.configuration_connect_trusted(
                actor=actor, platform="shopify", shop_id=shop.shop_id, name="Again", credentials=dict(shop.credentials)
            )

    assert "password" in unknown_field.value.details["credentials"]
    assert "hunter2" not in str(unknown_field.value.details)
    assert taken.value.details == {"shop_id": ["Connected to an organization already."]}
    assert (configuration.health, configuration.access_token_expires_at) == ("UNVERIFIED", None)
    assert platform_sandbox.requests("shopify", shop.shop_id) == []


def test_make_run_points_every_platform_at_the_sandbox_and_its_webhooks_at_the_web_server():
    ports = {variable: int(default) for variable, default in devstack_main.PORTS.items()}
    ports.update(PORT=8100, PLATFORM_SANDBOX_PORT=9014)

    environment = devstack_main._platform_environment(ports)

    # The tests' own settings (tests/integrations/conftest.py) are the reference.
    reference_sandbox = PlatformSandbox("http://127.0.0.1:9014", state=None)
    reference = reference_sandbox.platform_settings()
    reference_sandbox.close()
    assert environment["SHOPIFY_API_URL"] == reference["shopify"]["BASE_URL"]
    assert environment["SHOPEE_API_URL"] == reference["shopee"]["BASE_URL"]
    assert environment["LAZADA_API_URL"] == reference["lazada"]["BASE_URL"]
    assert environment["LAZADA_AUTH_URL"] == reference["lazada"]["AUTH_URL"]
    assert environment["TIKTOK_SHOP_API_URL"] == reference["tiktok_shop"]["BASE_URL"]
    assert environment["TIKTOK_SHOP_AUTH_URL"] == reference["tiktok_shop"]["AUTH_URL"]
    assert environment["INTEGRATIONS_WEBHOOK_BASE_URL"] == "http://127.0.0.1:8100"
    assert devstack_main.PORTS["PLATFORM_SANDBOX_PORT"] == "8014"


def _shopify_orders(base: str) -> list[dict]:
    shop = demo_shop("shopify")
    response = httpx.get(
        f"{base}/shopify/{shop.shop_id}/admin/api/2024-07/orders.json",
        params={"status": "any", "limit": 250},
        headers={"X-Shopify-Access-Token": shop.credentials["access_token"]},
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["orders"]


def test_the_platform_sandbox_as_make_run_starts_it_serves_the_demo_shops_with_orders_flowing_in():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.platforms", "--port", str(port), "--demo", "--demo-interval", "0.3"],
        cwd=devstack_services.ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                assert httpx.get(f"{base}/health", timeout=1).json() == {"status": "ok"}
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        first = _shopify_orders(base)
        time.sleep(1.5)
        later = _shopify_orders(base)
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=10)
        log = process.stderr.read()

    assert len(first) >= DEMO_ORDERS
    assert len(later) > len(first)  # the demo flow added orders
    assert exit_code == 0, log
    assert "listening on" in log
