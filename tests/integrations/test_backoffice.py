"""Platform integrations in the back-office: an organization admin connects a shop through the
platform's credential form (checked with the platform, never shown back), changes and pauses it,
and reads its health, sync log, quarantine, billing records and pushes, their own organization's
only; staff see every organization's shops and review probable duplicates. Every write is a
service call. (The "Sync now" and "Full re-sync" actions run on a real worker:
test_backoffice_actions.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.context import system_scope, tenant_scope
from apps.integrations.models import DuplicateFlag, PlatformConfiguration
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.integrations.api_support import connect, links_of, shopify_shop, sync
from tests.integrations.conftest import with_integrations
from tests.support import admin_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("integration_settings")]

SHOPS = reverse("admin:integrations_platformconfiguration_changelist")
ADD = reverse("admin:integrations_platformconfiguration_add")
RUNS = reverse("admin:integrations_syncrun_changelist")
QUARANTINE = reverse("admin:integrations_quarantinedorder_changelist")
BILLING = reverse("admin:integrations_billingrecord_changelist")
PUSHES = reverse("admin:integrations_statuspush_changelist")
DUPLICATES = reverse("admin:integrations_duplicateflag_changelist")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def rival(platform_sandbox):
    """Another seller (integrations on) with a connected shop: (organization, admin, configuration)."""
    organization = with_integrations(OrganizationFactory(name="Rival Goods"))
    admin = member(organization, Role.ORG_ADMIN)
    with tenant_scope(organization.id, user_id=admin.id):
        actor = Actor.of(Membership.objects.get(user=admin, organization=organization), user_id=admin.id)
    configuration = connect((organization, admin, actor), shopify_shop(platform_sandbox), name="Rival shop")
    return organization, admin, configuration


def page_of(row) -> str:
    return reverse(f"admin:integrations_{row._meta.model_name}_change", args=[row.pk])


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def configurations_of(organization) -> list[PlatformConfiguration]:
    with tenant_scope(organization.id):
        return list(PlatformConfiguration.objects.all())


def shop_form(shop, **overrides) -> dict:
    return {
        "name": "Main shop",
        "shop_id": shop.shop_id,
        "sync_interval": "600",
        "credential_access_token": shop.credentials["access_token"],
        "credential_api_secret": shop.credentials["api_secret"],
        **overrides,
    }


# --- connecting a shop --------------------------------------------------------------------------


def test_an_organization_admin_connects_a_shop_through_the_platforms_credential_form(seller, platform_sandbox):
    organization, admin, _ = seller
    client = admin_client(admin)
    shop = shopify_shop(platform_sandbox)

    chooser = client.get(ADD)
    form_page = client.get(ADD, {"platform": "shopify"})
    response = client.post(f"{ADD}?platform=shopify", shop_form(shop), follow=True)

    assert chooser.status_code == 200 and 'href="?platform=shopify"' in chooser.content.decode()
    form_html = form_page.content.decode()
    assert 'type="password" name="credential_access_token"' in form_html
    assert 'name="credential_api_secret"' in form_html and 'name="credential_api_key"' in form_html
    assert response.status_code == 200, shown_messages(response)
    [configuration] = configurations_of(organization)
    assert (configuration.platform, configuration.shop_id, configuration.name, configuration.sync_interval) == (
        "shopify",
        shop.shop_id,
        "Main shop",
        600,
    )
    assert configuration.created_by_id == admin.id
    assert [call["path"] for call in platform_sandbox.requests("shopify", shop.shop_id)] == ["shop.json"]
    page = client.get(page_of(configuration)).content.decode()
    assert "access_token ••••" in page and "api_secret ••••" in page
    for secret in shop.credentials.values():
        assert secret not in page and secret not in response.content.decode()
        assert secret not in configuration.credentials_encrypted


def test_a_shop_the_platform_refuses_is_not_connected_and_the_page_says_why(seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)

    response = admin_client(admin).post(
        f"{ADD}?platform=shopify", shop_form(shop, shop_id="nobody-here.myshopify.com"), follow=True
    )

    assert "Shopify refused the credentials." in shown_messages(response)
    assert configurations_of(organization) == []
    assert shop.credentials["access_token"] not in response.content.decode()


def test_the_connect_form_wants_every_required_credential(seller, platform_sandbox):
    organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox)

    response = admin_client(admin).post(f"{ADD}?platform=shopify", shop_form(shop, credential_api_secret=""))

    assert response.status_code == 200
    assert "credential_api_secret" in response.context["adminform"].form.errors
    assert configurations_of(organization) == []
    assert platform_sandbox.requests("shopify", shop.shop_id) == []


def test_an_organization_admin_renames_and_pauses_a_shop_keeping_its_credentials(seller, platform_sandbox):
    organization, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox))
    before = configuration.credentials_encrypted

    response = admin_client(admin).post(
        page_of(configuration), {"name": "Outlet", "sync_interval": "900", "credential_access_token": ""}, follow=True
    )

    assert response.status_code == 200
    [stored] = configurations_of(organization)
    assert (stored.name, stored.sync_interval, stored.is_active) == ("Outlet", 900, False)  # unticked: paused
    assert stored.credentials_encrypted == before


# --- what an organization admin sees ------------------------------------------------------------


def test_an_organization_admin_sees_their_shops_and_their_records_only(seller, platform_sandbox, rival):
    _organization, admin, _ = seller
    shop = shopify_shop(platform_sandbox, count=3)
    malformed = max(shop.orders)
    platform_sandbox.update_orders("shopify", shop.shop_id, [{"order_id": malformed, "overrides": {"currency": "XYZ"}}])
    configuration = connect(seller, shop)
    run = sync(configuration)
    sync(rival[2])
    client = admin_client(admin)

    shops = client.get(SHOPS)
    runs = client.get(RUNS, {"configuration__id__exact": str(configuration.pk)})
    quarantine = client.get(QUARANTINE)
    billing = client.get(BILLING)
    page = client.get(page_of(configuration)).content.decode()

    assert [row.pk for row in listed(shops)] == [configuration.pk]
    assert "Rival shop" not in shops.content.decode() and "Healthy" in shops.content.decode()
    assert [row.pk for row in listed(runs)] == [run.pk]
    assert [row.external_id for row in listed(quarantine)] == [malformed]
    assert "XYZ" in quarantine.content.decode()
    assert {row.link.configuration_id for row in listed(billing)} == {configuration.pk}
    assert len(listed(billing)) >= 2
    assert client.get(PUSHES).status_code == 200
    assert client.get(page_of(rival[2])).status_code in (302, 404)
    assert f"{RUNS}?configuration__id__exact={configuration.pk}" in page


def test_platform_integrations_off_hides_the_pages_from_the_organization_admin(staff):
    client = admin_client(member(OrganizationFactory(name="Plain Trading"), Role.ORG_ADMIN))

    index = client.get(reverse("admin:index")).content.decode()

    assert "Platform integrations" not in index
    for changelist in (SHOPS, RUNS, QUARANTINE, BILLING, PUSHES, DUPLICATES):
        assert client.get(changelist).status_code == 403
    assert client.get(ADD).status_code == 403
    assert "Platform integrations" in admin_client(staff).get(reverse("admin:index")).content.decode()


# --- what staff see and do ----------------------------------------------------------------------


def test_staff_see_every_organizations_shops_with_their_health_but_do_not_connect_or_change_them(
    staff, seller, platform_sandbox, rival
):
    configuration = connect(seller, shopify_shop(platform_sandbox))
    client = admin_client(staff)

    response = client.get(SHOPS)
    page = client.get(page_of(configuration))

    assert {row.pk for row in listed(response)} == {configuration.pk, rival[2].pk}
    body = response.content.decode()
    assert "Nusantara Goods" in body and "Rival Goods" in body and "Not synced yet" in body
    assert page.status_code == 200 and 'name="credential_access_token"' not in page.content.decode()
    assert client.get(ADD).status_code == 403


def test_staff_confirm_or_dismiss_probable_duplicates_and_a_reviewed_one_stays_reviewed(
    staff, seller, platform_sandbox
):
    organization, admin, _ = seller
    configuration = connect(seller, shopify_shop(platform_sandbox, count=3))
    sync(configuration)
    first, second, third = links_of(organization)
    with tenant_scope(organization.id):
        one = DuplicateFlag.objects.create(organization_id=organization.id, link=second, other_link=first)
        two = DuplicateFlag.objects.create(organization_id=organization.id, link=third, other_link=first)
    client = admin_client(staff)

    queue = client.get(DUPLICATES, {"status__exact": "OPEN"})
    confirmed = client.post(DUPLICATES, {"action": "confirm_duplicate", "_selected_action": [str(one.pk)]}, follow=True)
    dismissed = client.post(DUPLICATES, {"action": "not_duplicate", "_selected_action": [str(two.pk)]}, follow=True)
    again = client.post(DUPLICATES, {"action": "not_duplicate", "_selected_action": [str(one.pk)]}, follow=True)

    assert {row.pk for row in listed(queue)} == {one.pk, two.pk}
    assert second.order_number in queue.content.decode() and "Nusantara Goods" in queue.content.decode()
    assert "1 flag(s) reviewed: confirmed duplicate." in shown_messages(confirmed)
    assert "1 flag(s) reviewed: not a duplicate." in shown_messages(dismissed)
    assert any("reviewed already" in message for message in shown_messages(again))
    with system_scope(reason="test reads the flags", audit=False):
        stored = {flag.pk: flag for flag in DuplicateFlag.objects.all()}
    assert (stored[one.pk].status, stored[one.pk].reviewed_by_id) == ("DUPLICATE", staff.id)
    assert stored[two.pk].status == "NOT_DUPLICATE"
    org_view = admin_client(admin).get(DUPLICATES)
    assert {row.pk for row in listed(org_view)} == {one.pk, two.pk}
    assert "confirm_duplicate" not in org_view.content.decode()  # the review is staff's
