"""Parcel forwarding through the API: assisted and self purchase, feature flags, receiving
parcels at a warehouse (matched, unmatched, twice), warehouse assignment, packages."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.orders.models import Order, Package, Product, UnmatchedArrival
from apps.tenancy.models import OrganizationFeature
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.orders.conftest import ADDRESS, pdf_file

pytestmark = pytest.mark.django_db


def assisted(api, forwarder, **overrides):
    body = {
        "product_url": "https://www.amazon.de/dp/B0TEST",
        "quantity": 2,
        "notes": "Blue",
        "shipping_address": ADDRESS,
    }
    return api(forwarder["customer"], forwarder["org"]).post(
        "/api/v1/orders/assisted-purchase", {**body, **overrides}, format="json"
    )


def self_purchase(api, forwarder, tracking="1Z 999 AA1", **overrides):
    import json

    body = {
        "tracking_number": tracking,
        "declared_value": "120.50",
        "currency": "eur",
        "description": "Running shoes",
        "invoice": pdf_file(),
        "shipping_address": json.dumps(ADDRESS),
    }
    return api(forwarder["customer"], forwarder["org"]).post(
        "/api/v1/orders/self-purchase", {**body, **overrides}, format="multipart"
    )


def receive(api, forwarder, tracking, *, user="staff", warehouse=None):
    warehouse = warehouse or forwarder["warehouse"]
    return api(forwarder[user], forwarder["org"]).post(
        f"/api/v1/warehouses/{warehouse.id}/receive",
        {"tracking_number": tracking, "weight_g": 1200, "dimensions_cm": {"length": 30, "width": 20, "height": 10}},
        format="json",
    )


def assign(api, forwarder, user, warehouse=None):
    warehouse = warehouse or forwarder["warehouse"]
    return api(forwarder["admin"], forwarder["org"]).post(
        f"/api/v1/warehouses/{warehouse.id}/staff", {"user_id": str(user.id)}, format="json"
    )


def move(api, user, forwarder, order_id, status):
    return api(user, forwarder["org"]).post(f"/api/v1/orders/{order_id}/status", {"status": status}, format="json")


# --- Assisted purchase -------------------------------------------------------------------------


def test_an_assisted_purchase_goes_from_request_to_completion_through_the_api(api, forwarder):
    # given a customer's request, assigned to the only purchase agent
    created = assisted(api, forwarder)
    assert created.status_code == 201, created.json()
    body = created.json()
    order_id = body["order"]["id"]
    assert body["order"]["status"] == "requested"
    assert body["order"]["purchase_agent"] == str(forwarder["agent"].id)
    assert body["product"]["source_platform"] == "amazon_de"
    assert body["order"]["shipping_address"]["country"] == "RU"
    agent = api(forwarder["agent"], forwarder["org"])

    # when the agent quotes, the customer pays, the agent buys, the warehouse receives, and it ships
    quoted = agent.post(f"/api/v1/orders/{order_id}/quote", {"price": "19.99", "currency": "eur"}, format="json")
    paid = move(api, forwarder["customer"], forwarder, order_id, "paid")
    bought = agent.post(f"/api/v1/orders/{order_id}/purchase", {"tracking_number": "amz-777"}, format="json")
    received = receive(api, forwarder, "AMZ-777", user="manager")
    steps = [
        move(api, forwarder["manager"], forwarder, order_id, status)
        for status in ("pending", "confirmed", "in_transit", "delivered")
    ]
    completed = move(api, forwarder["customer"], forwarder, order_id, "completed")

    # then each step answered, the price is the quote times the quantity, and history has it all
    assert quoted.status_code == 200, quoted.json()
    assert (quoted.json()["total_amount"], quoted.json()["currency"]) == ("39.98", "EUR")
    assert paid.status_code == 200 and bought.status_code == 200, (paid.json(), bought.json())
    assert received.status_code == 201, received.json()
    assert received.json()["order"]["status"] == "received_at_warehouse"
    assert [step.status_code for step in steps] == [200] * 4
    assert completed.json()["status"] == "completed"
    history = api(forwarder["customer"], forwarder["org"]).get(f"/api/v1/orders/{order_id}/history").json()["data"]
    assert [h["to_status"] for h in history] == [
        "requested", "quoted", "paid", "purchased", "received_at_warehouse",
        "pending", "confirmed", "in_transit", "delivered", "completed",
    ]  # fmt: skip


def test_the_request_goes_to_the_agent_with_fewest_open_assisted_orders(api, forwarder):
    second_agent = member(forwarder["org"], Role.PURCHASE_AGENT)

    first, second, third = (assisted(api, forwarder).json() for _ in range(3))

    assert first["order"]["purchase_agent"] == str(forwarder["agent"].id)
    assert second["order"]["purchase_agent"] == str(second_agent.id)
    assert third["order"]["purchase_agent"] == str(forwarder["agent"].id)


def test_without_a_purchase_agent_the_request_waits_unassigned_and_says_so(api):
    organization = OrganizationFactory()
    from tests.factories import FeatureFactory

    FeatureFactory(organization=organization, name="assisted_purchase")
    forwarder = {"org": organization, "customer": member(organization, Role.CUSTOMER)}

    response = assisted(api, forwarder)

    assert response.status_code == 201
    assert response.json()["purchase_agent_assigned"] is False
    assert response.json()["order"]["purchase_agent"] is None
    assert "unassigned" in response.json()["message"]


def test_a_customer_cannot_quote_their_own_request(api, forwarder):
    order_id = assisted(api, forwarder).json()["order"]["id"]

    response = api(forwarder["customer"], forwarder["org"]).post(
        f"/api/v1/orders/{order_id}/quote", {"price": "1.00", "currency": "EUR"}, format="json"
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_url", "ftp://shop.example/x"),
        ("product_url", "javascript:alert(1)"),
        ("quantity", 0),
        ("quantity", 11),
        ("shipping_address", {**ADDRESS, "country": "Russia"}),
        ("shipping_address", {**ADDRESS, "phone": "call me"}),
        ("shipping_address", {k: v for k, v in ADDRESS.items() if k != "city"}),
    ],
)
def test_a_bad_assisted_purchase_is_refused_and_nothing_is_stored(api, forwarder, field, value):
    response = assisted(api, forwarder, **{field: value})

    assert response.status_code == 400
    assert field in response.json()["details"]
    with system_scope(reason="test", audit=False):
        assert not Order.objects.exists() and not Product.objects.exists()


@pytest.mark.parametrize("kind", ["assisted_purchase", "self_purchase"])
def test_a_switched_off_purchase_kind_is_feature_disabled(api, forwarder, kind):
    with system_scope(reason="test", audit=False):
        OrganizationFeature.objects.filter(organization=forwarder["org"], name=kind).update(is_enabled=False)

    response = assisted(api, forwarder) if kind == "assisted_purchase" else self_purchase(api, forwarder)

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


# --- Self purchase and receiving ---------------------------------------------------------------


def test_a_self_purchase_is_received_matched_and_shipped(api, forwarder):
    # given a self purchase announced with its invoice
    created = self_purchase(api, forwarder)
    assert created.status_code == 201, created.json()
    order = created.json()
    assert (order["status"], order["external_tracking_number"], order["declared_value"]) == (
        "pending",
        "1Z999AA1",
        "120.50",
    )
    assert order["purchase_invoice_filename"] == "invoice.pdf"
    assign(api, forwarder, forwarder["staff"])

    # when warehouse staff scan it (spaces and case as printed) and the forwarder ships it
    received = receive(api, forwarder, "1z999aa1")
    shipped = move(api, forwarder["manager"], forwarder, order["id"], "in_transit")

    # then a package exists at the warehouse and the order is confirmed, then in transit
    assert received.status_code == 201, received.json()
    body = received.json()
    assert body["outcome"] == "matched"
    assert body["order"]["status"] == "confirmed"
    assert body["package"]["current_warehouse"] == str(forwarder["warehouse"].id)
    assert body["package"]["dimensions_cm"] == {"length": 30, "width": 20, "height": 10}
    assert shipped.json()["status"] == "in_transit"
    with system_scope(reason="test", audit=False):
        assert OutboxEvent.objects.filter(event_type="package.received").count() == 1


def test_receiving_the_same_parcel_twice_changes_nothing_the_second_time(api, forwarder):
    order_id = self_purchase(api, forwarder).json()["id"]
    first = receive(api, forwarder, "1Z999AA1", user="manager")

    second = receive(api, forwarder, "1Z999AA1", user="manager")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["outcome"] == "already_received"
    assert second.json()["package"]["id"] == first.json()["package"]["id"]
    with system_scope(reason="test", audit=False):
        assert Package.objects.count() == 1
        assert Order.objects.get(pk=order_id).status_changes.count() == 3  # draft, pending, confirmed


def test_an_unknown_parcel_is_kept_for_staff_and_answered_202(api, forwarder):
    first = receive(api, forwarder, "NOBODY-1", user="manager")
    again = receive(api, forwarder, "NOBODY-1", user="manager")

    assert first.status_code == 202
    assert first.json()["outcome"] == "unmatched"
    assert first.json()["unmatched_arrival"]["tracking_number"] == "NOBODY-1"
    assert again.status_code == 202
    listed = api(forwarder["manager"], forwarder["org"]).get("/api/v1/warehouses/unmatched-arrivals").json()
    assert [a["tracking_number"] for a in listed["data"]] == ["NOBODY-1"]
    with system_scope(reason="test", audit=False):
        assert UnmatchedArrival.objects.count() == 1
        assert not Package.objects.exists()


def test_a_parcel_for_a_cancelled_order_is_kept_unmatched_not_dropped(api, forwarder):
    order_id = self_purchase(api, forwarder).json()["id"]
    api(forwarder["customer"], forwarder["org"]).post(
        f"/api/v1/orders/{order_id}/cancel", {"reason": "Ordered twice"}, format="json"
    )

    response = receive(api, forwarder, "1Z999AA1", user="manager")

    assert response.status_code == 202
    assert "cancelled" in response.json()["unmatched_arrival"]["note"]


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("invoice.pdf", b"", "application/pdf"),
        ("invoice.pdf", b"<html><body>not a pdf</body></html>", "application/pdf"),
        ("invoice.pdf", b"PK\x03\x04zipzipzip", "application/pdf"),
    ],
)
def test_a_bad_invoice_is_refused_and_nothing_is_stored(api, forwarder, name, data, content_type):
    response = self_purchase(api, forwarder, invoice=pdf_file(name, data, content_type))

    assert response.status_code == 400
    assert "invoice" in response.json()["details"]
    with system_scope(reason="test", audit=False):
        assert not Order.objects.exists()


def test_a_tracking_number_another_order_expects_is_refused(api, forwarder):
    self_purchase(api, forwarder)

    response = self_purchase(api, forwarder, tracking="1z999aa1")

    assert response.status_code == 400
    assert "tracking_number" in response.json()["details"]


def test_bad_measurements_are_refused(api, forwarder):
    response = api(forwarder["manager"], forwarder["org"]).post(
        f"/api/v1/warehouses/{forwarder['warehouse'].id}/receive",
        {"tracking_number": "X", "weight_g": -5, "dimensions_cm": {"length": 1}},
        format="json",
    )

    assert response.status_code == 400
    assert {"weight_g", "dimensions_cm"} <= set(response.json()["details"])


# --- Warehouse assignment ----------------------------------------------------------------------


def test_unassigned_warehouse_staff_neither_see_nor_receive_at_the_warehouse(api, forwarder):
    staff = api(forwarder["staff"], forwarder["org"])
    warehouse_id = forwarder["warehouse"].id

    assert staff.get("/api/v1/warehouses").json()["meta"]["total"] == 0
    assert staff.get(f"/api/v1/warehouses/{warehouse_id}").status_code == 404
    assert receive(api, forwarder, "ANY-1").status_code == 404
    with system_scope(reason="test", audit=False):
        assert not UnmatchedArrival.objects.exists()


def test_assigned_staff_see_and_receive_only_at_their_warehouse(api, forwarder):
    other = api(forwarder["admin"], forwarder["org"]).post(
        "/api/v1/warehouses",
        {"name": "Riga", "code": "rix-1", "country": "LV", "city": "Riga", "address_line1": "Osta 2"},
        format="json",
    )
    assert assign(api, forwarder, forwarder["staff"]).status_code == 204

    listed = api(forwarder["staff"], forwarder["org"]).get("/api/v1/warehouses").json()["data"]

    assert [w["code"] for w in listed] == ["ham-1"]
    assert receive(api, forwarder, "ANY-1").status_code == 202
    elsewhere = api(forwarder["staff"], forwarder["org"]).post(
        f"/api/v1/warehouses/{other.json()['id']}/receive",
        {"tracking_number": "ANY-2", "weight_g": 1, "dimensions_cm": {"length": 1, "width": 1, "height": 1}},
        format="json",
    )
    assert elsewhere.status_code == 404


def test_only_org_admins_assign_and_only_warehouse_roles_are_assigned(api, forwarder):
    by_staff = api(forwarder["staff"], forwarder["org"]).post(
        f"/api/v1/warehouses/{forwarder['warehouse'].id}/staff", {"user_id": str(forwarder["staff"].id)}, format="json"
    )
    a_customer = assign(api, forwarder, forwarder["customer"])
    stranger = assign(api, forwarder, member(OrganizationFactory(), Role.WAREHOUSE_STAFF))

    assert by_staff.status_code == 403
    assert a_customer.status_code == 400
    assert stranger.status_code == 404


def test_another_tenant_cannot_receive_or_assign_at_the_warehouse(api, forwarder):
    outsider_org = OrganizationFactory()
    outsider = api(member(outsider_org, Role.ORG_ADMIN), outsider_org)
    warehouse_id = forwarder["warehouse"].id

    received = outsider.post(
        f"/api/v1/warehouses/{warehouse_id}/receive",
        {"tracking_number": "X-1", "weight_g": 1, "dimensions_cm": {"length": 1, "width": 1, "height": 1}},
        format="json",
    )
    assigned = outsider.post(
        f"/api/v1/warehouses/{warehouse_id}/staff", {"user_id": str(forwarder["staff"].id)}, format="json"
    )

    assert (received.status_code, assigned.status_code) == (404, 404)


# --- Packages ---------------------------------------------------------------------------------


def test_packages_are_listed_for_the_customer_and_hidden_from_other_tenants(api, forwarder):
    self_purchase(api, forwarder)
    package_id = receive(api, forwarder, "1Z999AA1", user="manager").json()["package"]["id"]
    outsider_org = OrganizationFactory()
    outsider = api(member(outsider_org, Role.ORG_ADMIN), outsider_org)
    other_customer = api(member(forwarder["org"], Role.CUSTOMER), forwarder["org"])

    mine = api(forwarder["customer"], forwarder["org"]).get("/api/v1/packages").json()

    assert [p["id"] for p in mine["data"]] == [package_id]
    assert mine["data"][0]["order"]["kind"] == "self_purchase"
    assert api(forwarder["customer"], forwarder["org"]).get(f"/api/v1/packages/{package_id}").status_code == 200
    assert other_customer.get("/api/v1/packages").json()["meta"]["total"] == 0
    assert other_customer.get(f"/api/v1/packages/{package_id}").status_code == 404
    assert outsider.get(f"/api/v1/packages/{package_id}").status_code == 404
    assert outsider.get("/api/v1/packages").json()["meta"]["total"] == 0


@pytest.mark.parametrize("path", ["/api/v1/packages", "/api/v1/warehouses", "/api/v1/warehouses/unmatched-arrivals"])
def test_new_lists_run_the_same_number_of_queries_for_1_or_6_rows(api, forwarder, path, django_assert_num_queries):
    def add(index):
        self_purchase(api, forwarder, tracking=f"T-{index}")
        receive(api, forwarder, f"T-{index}", user="manager")
        receive(api, forwarder, f"NONE-{index}", user="manager")
        assign(api, forwarder, forwarder["staff"])

    add(0)
    client = api(forwarder["staff"] if path == "/api/v1/warehouses" else forwarder["manager"], forwarder["org"])
    client.get(path)
    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    # (warehouse staff: guardian's grants are a subquery of the page's query, not a query)
    with django_assert_num_queries(7):
        client.get(path)
    for index in range(1, 6):
        add(index)
    with django_assert_num_queries(7):
        response = client.get(path)
    assert response.status_code == 200
