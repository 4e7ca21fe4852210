"""The shops API (/api/v1/integrations/configurations) against the Shopify sandbox: connecting a shop
checks its credentials with the platform and never answers them back; bad input, a refusal or the
platform away create nothing; a shop is renamed, re-timed, paused, synced now, given webhooks; its
sync log is paged newest first. Reads need integration:read, changes integration:manage, the
feature on; another organization's shop is 404."""

from __future__ import annotations

import uuid

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.integrations.models import PlatformConfiguration
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.integrations.api_support import (
    CONFIGURATIONS,
    PLATFORM_ORDERS,
    connect,
    query_count,
    shopify_shop,
    sync,
    synced_shop,
)
from tests.integrations.conftest import with_integrations

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("integration_settings")]


def connect_body(shop, **overrides) -> dict:
    return {
        "platform": "shopify",
        "shop_id": shop.shop_id,
        "name": "Main shop",
        "credentials": dict(shop.credentials),
        **overrides,
    }


def configurations_of(organization) -> list[PlatformConfiguration]:
    with tenant_scope(organization.id):
        return list(PlatformConfiguration.objects.all())


def sandbox_paths(platform_sandbox, shop) -> list[str]:
    return [call["path"] for call in platform_sandbox.requests("shopify", shop.shop_id)]


# --- connecting ---------------------------------------------------------------------------------


def test_connecting_a_shop_checks_its_credentials_and_never_answers_them(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)

    response = api(admin).post(CONFIGURATIONS, connect_body(shop, sync_interval=600), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["platform"], body["shop_id"], body["name"], body["sync_interval"]) == (
        "shopify",
        shop.shop_id,
        "Main shop",
        600,
    )
    assert (body["health"], body["is_active"], body["last_sync_at"], body["watermark"]) == (
        "UNVERIFIED",
        True,
        None,
        None,
    )
    assert body["next_sync_at"] is not None  # the first run is due at once
    assert body["credentials"] == {"access_token": "••••", "api_secret": "••••"}
    assert sandbox_paths(platform_sandbox, shop) == ["shop.json"]  # asked the platform first
    listed = api(admin).get(CONFIGURATIONS)
    detail = api(admin).get(f"{CONFIGURATIONS}/{body['id']}")
    [stored] = configurations_of(organization)
    for secret in shop.credentials.values():
        assert secret not in response.content.decode()
        assert secret not in listed.content.decode() and secret not in detail.content.decode()
        assert secret not in stored.credentials_encrypted
    assert [row["id"] for row in listed.json()["data"]] == [body["id"]]
    assert detail.json() == body


CONNECT_MISTAKES = {
    "no platform": lambda shop: {key: value for key, value in connect_body(shop).items() if key != "platform"},
    "an unknown platform": lambda shop: connect_body(shop, platform="ebay"),
    "a shop id that is a number": lambda shop: connect_body(shop, shop_id=12345),
    "no name": lambda shop: {key: value for key, value in connect_body(shop).items() if key != "name"},
    "credentials that are not an object": lambda shop: connect_body(shop, credentials="shpat_x"),
    "a credential that is not a string": lambda shop: connect_body(
        shop, credentials={**shop.credentials, "access_token": 12345}
    ),
    "a required credential missing": lambda shop: connect_body(
        shop, credentials={"access_token": shop.credentials["access_token"]}
    ),
    "a credential Shopify has not": lambda shop: connect_body(shop, credentials={**shop.credentials, "password": "x"}),
    "a sync interval under a minute": lambda shop: connect_body(shop, sync_interval=10),
}


@pytest.mark.parametrize("mistake", sorted(CONNECT_MISTAKES))
def test_bad_input_is_400_and_creates_nothing(api, seller, platform_sandbox, mistake):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)

    response = api(admin).post(CONFIGURATIONS, CONNECT_MISTAKES[mistake](shop), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"].startswith("VALIDATION_")
    assert configurations_of(organization) == []
    assert sandbox_paths(platform_sandbox, shop) == []  # refused before asking the platform


def test_a_shop_the_platform_does_not_know_is_400_on_the_credentials(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)

    response = api(admin).post(CONFIGURATIONS, connect_body(shop, shop_id="no-such-shop.myshopify.com"), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "credentials" in response.json()["details"]
    assert configurations_of(organization) == []


def test_credentials_the_platform_refuses_are_400_and_never_echoed(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    wrong = {"access_token": "shpat_not-the-shops-token", "api_secret": "shpss_not-the-shops-secret"}

    response = api(admin).post(CONFIGURATIONS, connect_body(shop, credentials=wrong), format="json")

    assert "shpat_not-the-shops-token" not in response.content.decode()
    assert configurations_of(organization) == []
    assert response.status_code == 400, response.json()
    assert "credentials" in response.json()["details"]


def test_the_platform_away_is_503_and_creates_nothing(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    platform_sandbox.fault("shopify", shop.shop_id, 503, count=20, path="shop.json")

    response = api(admin).post(CONFIGURATIONS, connect_body(shop), format="json")

    assert response.status_code == 503, response.json()
    assert response.json()["error_code"] == "EXTERNAL_SERVICE_UNAVAILABLE"
    assert configurations_of(organization) == []
    for secret in shop.credentials.values():
        assert secret not in response.content.decode()


def test_a_shop_connected_already_is_400_for_its_organization_and_any_other(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    connect(seller, shop)
    other_admin = member(with_integrations(OrganizationFactory(name="Rival Goods")), role=Role.ORG_ADMIN)

    again = api(admin).post(CONFIGURATIONS, connect_body(shop), format="json")
    elsewhere = api(other_admin).post(CONFIGURATIONS, connect_body(shop), format="json")

    assert (again.status_code, elsewhere.status_code) == (400, 400)
    assert "shop_id" in again.json()["details"] and "shop_id" in elsewhere.json()["details"]
    assert len(configurations_of(organization)) == 1


def test_the_same_idempotency_key_replays_the_connection(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    client = api(admin)

    first = client.post(CONFIGURATIONS, connect_body(shop), format="json", HTTP_IDEMPOTENCY_KEY="connect-1")
    second = client.post(CONFIGURATIONS, connect_body(shop), format="json", HTTP_IDEMPOTENCY_KEY="connect-1")

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert len(configurations_of(organization)) == 1


# --- changing -----------------------------------------------------------------------------------


def test_a_shop_is_renamed_re_timed_and_paused(api, seller, platform_sandbox):
    organization, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox))

    response = api(admin).patch(
        f"{CONFIGURATIONS}/{configuration.id}",
        {"name": "Outlet", "sync_interval": 900, "is_active": False},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["sync_interval"], response.json()["is_active"]) == (
        "Outlet",
        900,
        False,
    )
    [stored] = configurations_of(organization)
    assert (stored.name, stored.sync_interval, stored.is_active) == ("Outlet", 900, False)


def test_new_credentials_are_checked_with_the_platform_before_they_are_kept(api, seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    configuration = connect(seller, shop)
    before = configurations_of(organization)[0].credentials_encrypted
    calls = len(sandbox_paths(platform_sandbox, shop))

    incomplete = api(admin).patch(
        f"{CONFIGURATIONS}/{configuration.id}",
        {"credentials": {"access_token": shop.credentials["access_token"]}},
        format="json",
    )
    renewed = api(admin).patch(
        f"{CONFIGURATIONS}/{configuration.id}", {"credentials": dict(shop.credentials)}, format="json"
    )

    assert incomplete.status_code == 400 and "credentials" in incomplete.json()["details"]
    assert renewed.status_code == 200, renewed.json()
    assert sandbox_paths(platform_sandbox, shop)[calls:] == ["shop.json"]  # the complete ones were checked
    assert renewed.json()["credentials"] == {"access_token": "••••", "api_secret": "••••"}
    assert configurations_of(organization)[0].credentials_encrypted != before  # sealed anew


def test_an_empty_change_is_400(api, seller, platform_sandbox):
    _, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox))

    response = api(admin).patch(f"{CONFIGURATIONS}/{configuration.id}", {}, format="json")

    assert response.status_code == 400


def test_sync_now_queues_a_run_after_commit_and_answers_202(
    api, seller, platform_sandbox, django_capture_on_commit_callbacks
):
    _organization, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox))

    with django_capture_on_commit_callbacks() as queued:
        response = api(admin).post(f"{CONFIGURATIONS}/{configuration.id}/sync")

    assert response.status_code == 202, response.json()
    assert response.json()["id"] == str(configuration.id)
    assert len(queued) == 1  # the sync task, sent once the request commits
    with system_scope(reason="test reads the audit log", audit=False):
        assert AuditLog.objects.filter(
            action="integration.sync_requested", resource_id=str(configuration.id), actor_id=admin.id
        ).exists()


def test_sync_now_of_a_deactivated_shop_is_refused(api, seller, platform_sandbox, django_capture_on_commit_callbacks):
    _, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox))
    client = api(admin)
    client.patch(f"{CONFIGURATIONS}/{configuration.id}", {"is_active": False}, format="json")

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"{CONFIGURATIONS}/{configuration.id}/sync")

    assert response.status_code == 422
    assert queued == []


def test_registering_webhooks_subscribes_the_shop_to_our_endpoint(api, seller, platform_sandbox, settings):
    _, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    configuration = connect(seller, shop)

    response = api(admin).post(f"{CONFIGURATIONS}/{configuration.id}/webhooks")

    assert response.status_code == 200, response.json()
    assert response.json()["webhooks_registered_at"] is not None
    base = settings.INTEGRATIONS["WEBHOOK_BASE_URL"]
    assert platform_sandbox.shop("shopify", shop.shop_id).webhook_urls == [
        f"{base}/api/v1/integrations/webhooks/shopify"
    ]


def test_registering_webhooks_while_the_platform_is_away_is_503(api, seller, platform_sandbox):
    _, admin, _ = seller
    shop = shopify_shop(platform_sandbox)
    configuration = connect(seller, shop)
    platform_sandbox.fault("shopify", shop.shop_id, 503, count=20, path="webhooks.json")

    response = api(admin).post(f"{CONFIGURATIONS}/{configuration.id}/webhooks")

    assert response.status_code == 503
    assert api(admin).get(f"{CONFIGURATIONS}/{configuration.id}").json()["webhooks_registered_at"] is None


# --- the sync log -------------------------------------------------------------------------------


def test_the_sync_log_lists_runs_newest_first_page_by_page(api, seller, platform_sandbox):
    _, admin, _ = seller
    _shop, configuration = synced_shop(platform_sandbox, seller, count=3)
    second = sync(configuration, full=True)
    client = api(admin)

    page = client.get(f"{CONFIGURATIONS}/{configuration.id}/runs").json()
    first_page = client.get(f"{CONFIGURATIONS}/{configuration.id}/runs", {"limit": 1}).json()
    next_page = client.get(
        f"{CONFIGURATIONS}/{configuration.id}/runs", {"limit": 1, "cursor": first_page["meta"]["next"]}
    ).json()

    assert [run["id"] for run in page["data"]] == [str(second.id), page["data"][1]["id"]]
    newest, oldest = page["data"]
    assert (oldest["trigger"], oldest["status"], oldest["fetched"], oldest["created"]) == ("MANUAL", "SUCCEEDED", 3, 3)
    assert (newest["fetched"], newest["created"], newest["updated"], newest["unchanged"]) == (3, 0, 0, 3)
    assert [run["id"] for run in first_page["data"]] == [newest["id"]]
    assert [run["id"] for run in next_page["data"]] == [oldest["id"]]
    assert next_page["meta"]["next"] is None


# --- who may ------------------------------------------------------------------------------------


def test_an_operator_reads_shops_but_changes_nothing(api, seller, platform_sandbox):
    organization, _, _ = seller
    shop = shopify_shop(platform_sandbox)
    configuration = connect(seller, shop)
    operator = api(member(organization, role=Role.OPERATOR))
    other = shopify_shop(platform_sandbox)

    reads = [operator.get(CONFIGURATIONS), operator.get(f"{CONFIGURATIONS}/{configuration.id}/runs")]
    writes = [
        operator.post(CONFIGURATIONS, connect_body(other), format="json"),
        operator.patch(f"{CONFIGURATIONS}/{configuration.id}", {"name": "Mine"}, format="json"),
        operator.post(f"{CONFIGURATIONS}/{configuration.id}/sync"),
        operator.post(f"{CONFIGURATIONS}/{configuration.id}/webhooks"),
    ]

    assert [response.status_code for response in reads] == [200, 200]
    assert [response.status_code for response in writes] == [403, 403, 403, 403]
    assert {response.json()["error_code"] for response in writes} == {"RBAC_PERMISSION_DENIED"}
    assert len(configurations_of(organization)) == 1


def test_a_customer_reads_no_shop(api, seller):
    organization, _, _ = seller

    response = api(member(organization, role=Role.CUSTOMER)).get(CONFIGURATIONS)

    assert response.status_code == 403 and response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_without_platform_integrations_the_api_is_refused(api):
    admin = member(OrganizationFactory(name="Plain Trading"), role=Role.ORG_ADMIN)

    response = api(admin).get(CONFIGURATIONS)

    assert response.status_code == 403 and response.json()["error_code"] == "FEATURE_DISABLED"


def test_another_organizations_shop_and_platform_orders_are_404_on_every_verb(api, seller, platform_sandbox):
    _shop, configuration = synced_shop(platform_sandbox, seller, count=2)
    organization = seller[0]
    with tenant_scope(organization.id):
        order_id = configuration.links.values_list("order_id", flat=True).first()
    outsider = api(member(with_integrations(OrganizationFactory(name="Outsider Goods")), role=Role.ORG_ADMIN))
    base = f"{CONFIGURATIONS}/{configuration.id}"

    statuses = {
        "GET shop": outsider.get(base).status_code,
        "PATCH shop": outsider.patch(base, {"name": "Mine"}, format="json").status_code,
        "POST sync": outsider.post(f"{base}/sync").status_code,
        "POST webhooks": outsider.post(f"{base}/webhooks").status_code,
        "GET runs": outsider.get(f"{base}/runs").status_code,
        "GET platform order": outsider.get(f"{PLATFORM_ORDERS}/{order_id}").status_code,
        "POST ship": outsider.post(
            f"{PLATFORM_ORDERS}/{order_id}/ship", {"tracking_number": "TRK1", "carrier": "JNE"}, format="json"
        ).status_code,
    }

    assert statuses == dict.fromkeys(statuses, 404)
    assert outsider.get(CONFIGURATIONS).json()["data"] == []
    assert outsider.get(PLATFORM_ORDERS).json()["data"] == []
    assert outsider.get(f"{CONFIGURATIONS}/{uuid.uuid4()}").status_code == 404


# --- query counts -------------------------------------------------------------------------------


def test_the_shop_list_and_the_sync_log_run_the_same_queries_for_few_or_many_rows(
    api, seller, platform_sandbox, django_assert_num_queries
):
    _, admin, _ = seller
    client = api(admin)
    configuration = connect(seller, shopify_shop(platform_sandbox, count=1))
    sync(configuration)
    runs = f"{CONFIGURATIONS}/{configuration.id}/runs"
    client.get(CONFIGURATIONS)  # warm what is cached per process
    few = {url: query_count(client, url)[0] for url in (CONFIGURATIONS, runs)}

    for _ in range(3):
        connect(seller, shopify_shop(platform_sandbox, count=1))
        sync(configuration, full=True)

    for url, count in few.items():
        with django_assert_num_queries(count):
            body = client.get(url).json()
        assert len(body["data"]) == 4
