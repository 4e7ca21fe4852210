"""Connecting a shop in the platform-integrations back-office, in headless Chromium
(integrations_admin_check.mjs): a seller's organization admin goes from the shops list through
"add" and the platform chooser to Shopify's credential form, connects a shop the platform sandbox
holds, and lands on the list showing it; the shop's page and its sync log open; the credential
values are in no page's HTML. With a wrong access token the form page says the platform refused
and no shop is kept. No CSP violation, console error or failed request on the way. Needs what
test_pages_in_chromium.py needs (`make browser-check`), and the platform sandbox
(tests/integrations/conftest.py), which the server thread reaches through `integration_settings`."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from django.urls import reverse

from apps.core.context import tenant_scope
from apps.integrations.models import PlatformConfiguration
from tests.browser.test_pages_in_chromium import CHROMIUM, HERE, NODE, PASSWORD, REPORTS, _missing, server  # noqa: F401
from tests.integrations.api_support import shopify_shop
from tests.integrations.conftest import integration_settings, platform_sandbox, seller  # noqa: F401

REQUIRED = os.environ.get("MANIFEST_BROWSER_CHECK") == "1"
pytestmark = [
    pytest.mark.skipif(not REQUIRED and _missing() is not None, reason=_missing() or ""),
    # The in-process server reads the same settings object: it reaches the sandbox too.
    pytest.mark.usefixtures("integration_settings"),
]

SHOPS = reverse("admin:integrations_platformconfiguration_changelist")
ADD = reverse("admin:integrations_platformconfiguration_add")
RUNS = reverse("admin:integrations_syncrun_changelist")


@pytest.fixture
def shop_admin(committed, seller, platform_sandbox):  # noqa: F811
    """(organization, its admin, a Shopify shop in the sandbox): committed first, so the seller's
    rows are real commits the server thread reads."""
    organization, admin, _ = seller
    return organization, admin, shopify_shop(platform_sandbox)


def configurations_of(organization) -> list[PlatformConfiguration]:
    with tenant_scope(organization.id):
        return list(PlatformConfiguration.objects.all())


def run_check(base: str, *, email: str, shop_id: str, credentials: dict, open_shop: bool, label: str) -> dict:
    environment = {
        **os.environ,
        "BASE_URL": base,
        "ADMIN_EMAIL": email,
        "ADMIN_PASSWORD": PASSWORD,
        "LIST_PATH": SHOPS,
        "PLATFORM": "shopify",
        "SHOP_NAME": "Main shop",
        "SHOP_ID": shop_id,
        "SYNC_INTERVAL": "600",
        # Typed into the form by the script, and searched for in every page's HTML.
        "SECRETS": json.dumps({f"credential_{name}": value for name, value in credentials.items()}),
        "OPEN_SHOP": "1" if open_shop else "",
        "CHROMIUM": CHROMIUM,
        "SCREENSHOT": str(REPORTS / f"integrations-admin-{label}.png"),
    }
    REPORTS.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [NODE, str(HERE / "integrations_admin_check.mjs")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.stdout, result.stderr
    (REPORTS / f"integrations-admin-{label}.json").write_text(result.stdout)  # to read after a failure
    return json.loads(result.stdout)


def test_an_organization_admin_connects_a_shop_and_opens_its_page_and_sync_log(
    server,  # noqa: F811
    shop_admin,
    platform_sandbox,  # noqa: F811
):
    assert _missing() is None, _missing()
    organization, admin, shop = shop_admin
    credentials = dict(shop.credentials)

    report = run_check(
        server, email=admin.email, shop_id=shop.shop_id, credentials=credentials, open_shop=True, label="connect"
    )

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    assert checks["signedIn"] is True
    assert checks["listedBefore"] == []
    assert checks["chooserPath"] == ADD
    assert checks["platformsOffered"] == ["Shopee", "Lazada", "Shopify", "TikTok Shop"]
    assert checks["formPath"] == f"{ADD}?platform=shopify"
    assert checks["passwordInputs"] == ["credential_access_token", "credential_api_secret", "credential_api_key"]
    # Sent: back on the list, which says so and shows the new shop, not synced yet.
    assert checks["landedPath"] == SHOPS
    assert checks["messages"]["error"] == []
    [added] = checks["messages"]["success"]
    assert "Main shop" in added and "added successfully" in added
    assert checks["formStillShown"] is False
    assert checks["listedAfter"] == [shop.shop_id]
    assert checks["healthListed"] == ["Not synced yet"]
    [configuration] = configurations_of(organization)
    assert (configuration.platform, configuration.shop_id, configuration.name, configuration.sync_interval) == (
        "shopify",
        shop.shop_id,
        "Main shop",
        600,
    )
    assert configuration.created_by_id == admin.id
    # The platform was asked once, with the typed credentials (the sandbox answers only those).
    calls = platform_sandbox.requests("shopify", shop.shop_id)
    assert [(call["path"], call["status"]) for call in calls] == [("shop.json", 200)]
    shop_page = checks["shopPage"]
    assert shop_page["path"] == reverse("admin:integrations_platformconfiguration_change", args=[configuration.pk])
    assert "access_token ••••" in shop_page["credentials"] and "api_secret ••••" in shop_page["credentials"]
    assert shop_page["health"] == "Not synced yet"
    assert shop_page["credentialInputsFilled"] == 0
    # The sync log, filtered to this shop: no run yet (connecting queues none; the schedule does).
    assert checks["syncLog"]["path"] == f"{RUNS}?configuration__id__exact={configuration.pk}"
    assert checks["syncLog"]["rows"] == 0 and checks["syncLog"]["paginator"].startswith("0 ")
    # Sign-in, list, chooser, form, list after sending, list again, shop's page, sync log.
    assert checks["pagesChecked"] == 9, report["visited"]
    assert checks["secretsSearched"] == 2 and checks["secretsSeen"] == []
    # The same search finds the shop's id where it is shown: it reads the pages' HTML.
    assert checks["shopIdSeen"] == [SHOPS, SHOPS, shop_page["path"]]


def test_a_wrong_access_token_is_refused_on_the_form_page_and_no_shop_is_kept(
    server,  # noqa: F811
    shop_admin,
    platform_sandbox,  # noqa: F811
):
    assert _missing() is None, _missing()
    organization, admin, shop = shop_admin
    credentials = {**shop.credentials, "access_token": "shpat_not-this-shops-token"}

    report = run_check(
        server, email=admin.email, shop_id=shop.shop_id, credentials=credentials, open_shop=False, label="refused"
    )

    assert report["problems"] == [], json.dumps(report["problems"], indent=1)
    checks = report["checks"]
    # Back on the shop's form, which says why; the list still shows no shop.
    assert checks["landedPath"] == f"{ADD}?platform=shopify"
    assert checks["messages"] == {"success": [], "error": ["Shopify refused the credentials."]}
    assert checks["formStillShown"] is True
    assert checks["listedBefore"] == [] and checks["listedAfter"] == []
    assert configurations_of(organization) == []
    # The platform was asked, and said no (the sandbox answers a wrong token with a 401).
    calls = platform_sandbox.requests("shopify", shop.shop_id)
    assert [(call["path"], call["status"]) for call in calls] == [("shop.json", 401)]
    assert checks["pagesChecked"] == 7, report["visited"]
    assert checks["secretsSearched"] == 2 and checks["secretsSeen"] == []
