"""What the syncs found, through the API: quarantined orders with their reason, probable duplicates,
billing records and platform orders (each with its billing records and fulfilment pushes), each
list filtered and run in a constant number of queries; shipping a platform order moves it to
in_transit and its fulfilment reaches the platform with the tracking number."""

from __future__ import annotations

import uuid

import pytest

from apps.core.context import tenant_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from apps.integrations import services
from apps.integrations.models import DuplicateFlag, StatusPush
from apps.orders.models import Order
from apps.tenancy.roles import Role
from tests.factories import member
from tests.integrations.api_support import (
    BASE,
    PLATFORM_ORDERS,
    connect,
    links_of,
    query_count,
    shopify_shop,
    sync,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("integration_settings")]

QUARANTINE = f"{BASE}/quarantine"
DUPLICATES = f"{BASE}/duplicates"
BILLING = f"{BASE}/billing-records"


@pytest.fixture
def shop_and_configuration(platform_sandbox, seller):
    """A shop of four orders, synced: the first is paid and waits to ship, the last comes with a
    currency nobody has (quarantined)."""
    shop = shopify_shop(platform_sandbox, count=4)
    first, *_, last = sorted(shop.orders)
    platform_sandbox.update_orders(
        "shopify",
        shop.shop_id,
        [{"order_id": first, "status": "paid/unfulfilled"}, {"order_id": last, "overrides": {"currency": "XYZ"}}],
    )
    configuration = connect(seller, shop)
    run = sync(configuration)
    assert (run.status, run.created, run.quarantined) == ("SUCCEEDED", 3, 1), run.error
    return shop, configuration


def flag(organization, link, other_link) -> DuplicateFlag:
    """A probable duplicate, as the binder flags it."""
    with tenant_scope(organization.id):
        return DuplicateFlag.objects.create(
            organization_id=organization.id,
            link=link,
            other_link=other_link,
            reasons=["same customer", "same items", "same amount", "within 2 days, 0:00:00"],
        )


# --- quarantine ---------------------------------------------------------------------------------


def test_a_malformed_order_is_listed_with_its_reason(api, seller, shop_and_configuration):
    _, admin, _ = seller
    shop, configuration = shop_and_configuration
    client = api(admin)
    malformed = max(shop.orders)

    listed = client.get(QUARANTINE).json()
    of_the_shop = client.get(QUARANTINE, {"configuration": str(configuration.id), "released": "false"}).json()
    of_another = client.get(QUARANTINE, {"configuration": str(uuid.uuid4())}).json()
    released = client.get(QUARANTINE, {"released": "true"}).json()

    [row] = listed["data"]
    assert (row["external_id"], row["configuration_id"], row["times_seen"]) == (malformed, str(configuration.id), 1)
    assert "XYZ" in row["reason"] and row["released_at"] is None
    assert row["raw_payload"]["currency"] == "XYZ"
    assert [item["id"] for item in of_the_shop["data"]] == [row["id"]]
    assert of_another["data"] == [] and released["data"] == []
    assert client.get(QUARANTINE, {"released": "maybe"}).status_code == 400


# --- platform orders ----------------------------------------------------------------------------


def test_platform_orders_are_listed_newest_first_and_filtered(api, seller, shop_and_configuration):
    organization, admin, _ = seller
    shop, configuration = shop_and_configuration
    client = api(admin)
    links = links_of(organization)

    listed = client.get(PLATFORM_ORDERS).json()
    by_id = client.get(PLATFORM_ORDERS, {"external_id": links[0].external_id}).json()
    of_the_shop = client.get(PLATFORM_ORDERS, {"platform": "shopify", "configuration": str(configuration.id)}).json()
    on_lazada = client.get(PLATFORM_ORDERS, {"platform": "lazada"}).json()

    assert listed["meta"]["total"] == 3
    created = [row["platform_created_at"] for row in listed["data"]]
    assert created == sorted(created, reverse=True)
    row = next(row for row in listed["data"] if row["external_id"] == links[0].external_id)
    order = shop.orders[links[0].external_id]
    assert (row["order_id"], row["order_number"], row["configuration_id"]) == (
        str(links[0].order_id),
        links[0].order_number,
        str(configuration.id),
    )
    assert (row["platform"], row["shop_id"], row["platform_status"], row["mapped_status"]) == (
        "shopify",
        shop.shop_id,
        "paid/unfulfilled",
        "confirmed",
    )
    assert (row["total_amount"], row["currency"]) == (f"{order.total:.2f}", "USD")
    assert "raw_payload" not in row
    assert [item["id"] for item in by_id["data"]] == [row["id"]]
    assert len(of_the_shop["data"]) == 3 and on_lazada["data"] == []


def test_a_platform_order_is_read_by_our_order_id_with_its_billing_records(api, seller, shop_and_configuration):
    organization, admin, _ = seller
    link = links_of(organization)[0]

    response = api(admin).get(f"{PLATFORM_ORDERS}/{link.order_id}")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["order_number"], body["pushes"]) == (str(link.id), link.order_number, [])
    kinds = {record["kind"]: record for record in body["billing_records"]}
    assert set(kinds) == {"INVOICE", "PAYMENT"}  # imported paid
    assert kinds["INVOICE"]["amount"] == body["total_amount"] and kinds["INVOICE"]["status"] == "ISSUED"
    assert api(admin).get(f"{PLATFORM_ORDERS}/{uuid.uuid4()}").status_code == 404


def test_shipping_a_platform_order_pushes_its_tracking_number_to_the_platform(
    api, seller, shop_and_configuration, platform_sandbox
):
    organization, admin, _ = seller
    shop, _ = shop_and_configuration
    link = links_of(organization)[0]
    client = api(admin)

    response = client.post(
        f"{PLATFORM_ORDERS}/{link.order_id}/ship", {"tracking_number": "JNE-0042", "carrier": "JNE"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["tracking_number"], response.json()["carrier"]) == ("JNE-0042", "JNE")
    with tenant_scope(organization.id):
        assert Order.objects.get(pk=link.order_id).status == "in_transit"
        shipped = OutboxEvent.objects.filter(event_type="order.status_changed", aggregate_id=str(link.order_id))
        event_ids = list(shipped.values_list("id", flat=True))
    # The outbox relay hands order.status_changed to integrations: one push, then the worker sends it.
    assert outbox_relay(organization_id=organization.id, event_ids=event_ids) == len(event_ids) == 1
    [push] = client.get(f"{PLATFORM_ORDERS}/{link.order_id}").json()["pushes"]
    assert (push["status"], push["tracking_number"], push["carrier"], push["state"]) == (
        "in_transit",
        "JNE-0042",
        "JNE",
        "PENDING",
    )
    assert services.status_push_send(push_id=uuid.UUID(push["id"]), organization_id=organization.id) == "SENT"
    assert platform_sandbox.fulfilments("shopify", shop.shop_id) == [
        {"order_id": link.external_id, "tracking_number": "JNE-0042", "carrier": "JNE"}
    ]
    with tenant_scope(organization.id):
        assert StatusPush.objects.get(pk=push["id"]).sent_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"carrier": "JNE"}, "tracking_number"),
        ({"tracking_number": "has spaces", "carrier": "JNE"}, "tracking_number"),
        ({"tracking_number": "JNE-1", "carrier": ""}, "carrier"),
    ],
    ids=["no tracking number", "a tracking number with spaces", "no carrier"],
)
def test_shipping_without_a_sound_tracking_is_400_and_moves_nothing(api, seller, shop_and_configuration, body, field):
    organization, admin, _ = seller
    link = links_of(organization)[0]

    response = api(admin).post(f"{PLATFORM_ORDERS}/{link.order_id}/ship", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    with tenant_scope(organization.id):
        assert Order.objects.get(pk=link.order_id).status == "confirmed"


def test_a_member_without_order_update_cannot_ship(api, seller, shop_and_configuration):
    organization, _, _ = seller
    link = links_of(organization)[0]
    qc = api(member(organization, role=Role.QC_INSPECTOR))

    response = qc.post(
        f"{PLATFORM_ORDERS}/{link.order_id}/ship", {"tracking_number": "X1", "carrier": "JNE"}, format="json"
    )

    assert response.status_code == 403


# --- billing records and duplicates ---------------------------------------------------------------


def test_billing_records_are_filtered_by_order_and_kind(api, seller, shop_and_configuration):
    organization, admin, _ = seller
    client = api(admin)
    link = links_of(organization)[0]

    invoices = client.get(BILLING, {"kind": "INVOICE"}).json()
    of_the_order = client.get(BILLING, {"order_id": str(link.order_id)}).json()

    assert invoices["meta"]["total"] == 3
    assert {row["kind"] for row in invoices["data"]} == {"INVOICE"}
    assert {row["number"][:3] for row in invoices["data"]} == {"INV"}
    assert {(row["kind"], row["order_id"], row["platform_order_id"]) for row in of_the_order["data"]} == {
        ("INVOICE", str(link.order_id), str(link.id)),
        ("PAYMENT", str(link.order_id), str(link.id)),
    }
    assert client.get(BILLING, {"kind": "WIRE"}).status_code == 400


def test_probable_duplicates_are_read_with_both_orders_and_filtered_by_status(api, seller, shop_and_configuration):
    organization, admin, _ = seller
    first, second, _ = links_of(organization)
    flagged = flag(organization, second, first)
    client = api(admin)

    listed = client.get(DUPLICATES).json()
    open_ones = client.get(DUPLICATES, {"status": "OPEN"}).json()
    confirmed = client.get(DUPLICATES, {"status": "DUPLICATE"}).json()

    [row] = listed["data"]
    assert (row["id"], row["status"], row["reviewed_at"]) == (str(flagged.id), "OPEN", None)
    assert (row["link"]["order_id"], row["other_link"]["order_id"]) == (str(second.order_id), str(first.order_id))
    assert row["link"]["order_number"] == second.order_number and "same customer" in row["reasons"]
    assert [item["id"] for item in open_ones["data"]] == [row["id"]] and confirmed["data"] == []
    assert client.post(DUPLICATES, {}, format="json").status_code == 405  # read-only for the organization


# --- query counts ---------------------------------------------------------------------------------


def test_every_list_runs_the_same_queries_for_few_or_many_rows(
    api, seller, platform_sandbox, django_assert_num_queries
):
    organization, admin, _ = seller
    client = api(admin)
    shop = shopify_shop(platform_sandbox, count=3)
    first_ids = sorted(shop.orders)
    platform_sandbox.update_orders(
        "shopify", shop.shop_id, [{"order_id": first_ids[0], "overrides": {"currency": "XYZ"}}]
    )
    configuration = connect(seller, shop)
    sync(configuration)
    links = links_of(organization)
    flag(organization, links[1], links[0])
    urls = (QUARANTINE, DUPLICATES, BILLING, PLATFORM_ORDERS)
    client.get(PLATFORM_ORDERS)  # warm what is cached per process
    few = {url: query_count(client, url) for url in urls}
    assert all(len(body["data"]) >= 1 for _, body in few.values())

    platform_sandbox.generate("shopify", shop.shop_id, count=4, seed=12)
    more = sorted(set(shop.orders) - set(first_ids))
    platform_sandbox.update_orders(
        "shopify", shop.shop_id, [{"order_id": order_id, "overrides": {"currency": "XYZ"}} for order_id in more[:2]]
    )
    sync(configuration, full=True)
    known = {links[0].id, links[1].id}
    for link in links_of(organization):
        if link.id not in known:
            flag(organization, link, links[0])

    for url, (count, body) in few.items():
        with django_assert_num_queries(count):
            grown = client.get(url).json()
        assert len(grown["data"]) > len(body["data"]), url
