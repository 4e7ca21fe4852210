"""Orders through the API: the freight lifecycle, who may make each move, cancelling, history,
both parties and nobody else, filters, and warehouses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.orders import services
from apps.orders.models import Order
from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, OrganizationFactory, member
from tests.shipments import COMPLETE_SHIPMENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def parties():
    """A shipper and a carrier organization, each with the members who act in a freight order."""
    shipper_org, carrier_org = OrganizationFactory(name="Baltic Shippers"), OrganizationFactory(name="Volga Carriers")
    return {
        "shipper_org": shipper_org,
        "carrier_org": carrier_org,
        "shipper": member(shipper_org, Role.SHIPPER),
        "carrier": member(carrier_org, Role.CARRIER),
    }


def freight_order(parties, *, items=None, currency="EUR") -> Order:
    """What the marketplace's award will do: create the order through the service, acting
    for the shipper."""
    with tenant_scope(parties["shipper_org"].id, user_id=parties["shipper"].id):
        return _freight_order(parties, items=items, currency=currency)


def _freight_order(parties, *, items, currency) -> Order:
    return services.order_create(
        order_input=services.OrderInput(
            kind="freight",
            client_organization_id=parties["shipper_org"].id,
            supplier_organization_id=parties["carrier_org"].id,
            currency=currency,
            items=items or [services.ItemInput(name="FTL Hamburg → Kazan", quantity=1, unit_price=Decimal("2450.00"))],
            shipping_address={"country": "RU", "city": "Kazan", "line1": "Sibirsky trakt 34"},
            shipment=COMPLETE_SHIPMENT,
        ),
        actor=Actor(user_id=parties["shipper"].id),
    )


def move(api, user, organization, order, status, note=""):
    return api(user, organization).post(
        f"/api/v1/orders/{order.id}/status", {"status": status, "note": note}, format="json"
    )


def test_a_freight_order_goes_through_its_lifecycle_and_history_records_each_step(api, parties):
    order = freight_order(parties)
    shipper, carrier = (parties["shipper"], parties["shipper_org"]), (parties["carrier"], parties["carrier_org"])

    steps = [
        (shipper, "pending"),
        (carrier, "confirmed"),
        (carrier, "in_transit"),
        (carrier, "delivered"),
        (shipper, "completed"),
    ]
    for (user, organization), status in steps:
        response = move(api, user, organization, order, status)
        assert response.status_code == 200, (status, response.json())
        assert response.json()["status"] == status

    history = api(*shipper).get(f"/api/v1/orders/{order.id}/history").json()["data"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "draft"),
        ("draft", "pending"),
        ("pending", "confirmed"),
        ("confirmed", "in_transit"),
        ("in_transit", "delivered"),
        ("delivered", "completed"),
    ]
    with system_scope(reason="test", audit=False):
        changes = list(OutboxEvent.objects.filter(event_type="order.status_changed", aggregate_id=str(order.id)))
    assert len(changes) == 5
    # each change is owned by the organization that made it and names both parties
    assert {e.organization_id for e in changes} == {parties["shipper_org"].id, parties["carrier_org"].id}
    assert {tuple(e.payload["party_organization_ids"]) for e in changes} == {
        tuple(sorted([str(parties["shipper_org"].id), str(parties["carrier_org"].id)]))
    }


def test_the_order_number_is_per_client_organization_and_year(parties):
    first, second = freight_order(parties), freight_order(parties)

    assert first.number.startswith("FR-") and first.number.endswith("-000001")
    assert second.number.endswith("-000002")


def test_the_total_is_the_sum_of_the_items(api, parties):
    order = freight_order(
        parties,
        items=[
            services.ItemInput(name="Pallet", quantity=3, unit_price=Decimal("19.99")),
            services.ItemInput(name="Loading", quantity=1, unit_price=Decimal("40.00")),
        ],
    )

    body = api(parties["shipper"], parties["shipper_org"]).get(f"/api/v1/orders/{order.id}").json()

    assert body["total_amount"] == "99.97"
    assert [(i["name"], i["quantity"]) for i in body["items"]] == [("Pallet", 3), ("Loading", 1)]


def test_the_client_cannot_confirm_in_the_carriers_place(api, parties):
    order = freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], order, "pending")

    response = move(api, parties["shipper"], parties["shipper_org"], order, "confirmed")

    assert response.status_code == 403
    assert api(parties["shipper"], parties["shipper_org"]).get(f"/api/v1/orders/{order.id}").json()["status"] == (
        "pending"
    )


def test_a_role_without_the_permission_cannot_move_the_order(api, parties):
    order = freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], order, "pending")
    expert = member(parties["carrier_org"], Role.EXPERT)

    response = move(api, expert, parties["carrier_org"], order, "confirmed")

    assert response.status_code == 403


def test_skipping_a_step_is_an_invalid_transition(api, parties):
    order = freight_order(parties)

    response = move(api, parties["shipper"], parties["shipper_org"], order, "delivered")

    assert response.status_code == 422
    assert response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_either_party_cancels_before_transit_with_a_reason(api, parties):
    order = freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], order, "pending")

    without_reason = api(parties["carrier"], parties["carrier_org"]).post(
        f"/api/v1/orders/{order.id}/cancel", {}, format="json"
    )
    cancelled = api(parties["carrier"], parties["carrier_org"]).post(
        f"/api/v1/orders/{order.id}/cancel", {"reason": "No truck that week."}, format="json"
    )

    assert without_reason.status_code == 400
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation_reason"] == "No truck that week."


def test_cancelling_in_transit_is_refused(api, parties):
    order = freight_order(parties)
    for user, organization, status in [
        (parties["shipper"], parties["shipper_org"], "pending"),
        (parties["carrier"], parties["carrier_org"], "confirmed"),
        (parties["carrier"], parties["carrier_org"], "in_transit"),
    ]:
        move(api, user, organization, order, status)

    response = api(parties["shipper"], parties["shipper_org"]).post(
        f"/api/v1/orders/{order.id}/cancel", {"reason": "Changed our minds."}, format="json"
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "ORDER_CANNOT_BE_CANCELLED"
    with system_scope(reason="test", audit=False):
        assert Order.objects.get(pk=order.pk).status == "in_transit"


def test_a_third_organization_sees_nothing_of_the_order(api, parties):
    order = freight_order(parties)
    outsider_org = OrganizationFactory()
    outsider = member(outsider_org, Role.ORG_ADMIN)
    client = api(outsider, outsider_org)

    assert client.get(f"/api/v1/orders/{order.id}").status_code == 404
    assert client.get(f"/api/v1/orders/{order.id}/history").status_code == 404
    assert client.post(f"/api/v1/orders/{order.id}/cancel", {"reason": "x"}, format="json").status_code == 404
    assert client.get("/api/v1/orders").json()["meta"]["total"] == 0


def test_both_parties_list_the_order_and_filter_by_their_side(api, parties):
    order = freight_order(parties)

    as_shipper = api(parties["shipper"], parties["shipper_org"]).get("/api/v1/orders?party=client").json()
    as_carrier = api(parties["carrier"], parties["carrier_org"]).get("/api/v1/orders?party=supplier").json()
    carrier_as_client = api(parties["carrier"], parties["carrier_org"]).get("/api/v1/orders?party=client").json()

    assert [o["id"] for o in as_shipper["data"]] == [str(order.id)]
    assert [o["id"] for o in as_carrier["data"]] == [str(order.id)]
    assert carrier_as_client["meta"]["total"] == 0
    assert as_carrier["data"][0]["client_organization"]["name"] == "Baltic Shippers"


def test_orders_are_searched_by_number_and_filtered_by_status(api, parties):
    first, second = freight_order(parties), freight_order(parties)
    move(api, parties["shipper"], parties["shipper_org"], second, "pending")
    client = api(parties["shipper"], parties["shipper_org"])

    by_number = client.get(f"/api/v1/orders?search={first.number[-6:]}").json()["data"]
    pending = client.get("/api/v1/orders?status=pending").json()["data"]
    bad = client.get("/api/v1/orders?status=lost")

    assert [o["number"] for o in by_number] == [first.number]
    assert [o["number"] for o in pending] == [second.number]
    assert bad.status_code == 400
    assert "status" in bad.json()["details"]


def test_a_customer_sees_only_their_own_orders(api):
    forwarder = OrganizationFactory()
    customer, other_customer = member(forwarder, Role.CUSTOMER), member(forwarder, Role.CUSTOMER)

    def order_for(user):
        with tenant_scope(forwarder.id, user_id=user.id):
            return _self_purchase(user)

    def _self_purchase(user):
        return services.order_create(
            order_input=services.OrderInput(
                kind="self_purchase",
                client_organization_id=forwarder.id,
                supplier_organization_id=forwarder.id,
                currency="EUR",
                customer_id=user.id,
                items=[services.ItemInput(name="Sneakers", quantity=1, unit_price=Decimal("89.00"))],
            ),
            actor=Actor(user_id=user.id),
        )

    mine, theirs = order_for(customer), order_for(other_customer)

    listed = api(customer, forwarder).get("/api/v1/orders").json()["data"]
    assert [o["id"] for o in listed] == [str(mine.id)]
    assert api(customer, forwarder).get(f"/api/v1/orders/{theirs.id}").status_code == 404


def test_the_order_list_runs_the_same_number_of_queries_for_1_or_8_orders(api, parties, django_assert_num_queries):
    freight_order(parties)
    client = api(parties["carrier"], parties["carrier_org"])
    client.get("/api/v1/orders")

    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    with django_assert_num_queries(7) as few:
        assert client.get("/api/v1/orders").json()["meta"]["total"] == 1
    expected = len(few.captured_queries)
    for _ in range(7):
        freight_order(parties)
    with django_assert_num_queries(expected):
        assert client.get("/api/v1/orders").json()["meta"]["total"] == 8


def test_order_options_follow_the_feature_flags(api):
    forwarder = OrganizationFactory()
    FeatureFactory(organization=forwarder, name="assisted_purchase", is_entitled=True, is_enabled=True)
    FeatureFactory(organization=forwarder, name="self_purchase", is_entitled=True, is_enabled=False)

    body = api(member(forwarder, Role.CUSTOMER), forwarder).get("/api/v1/orders/options").json()

    assert body == {"kinds": ["assisted_purchase"]}


# --- Warehouses ------------------------------------------------------------------------------


WAREHOUSE = {
    "name": "Hamburg hub",
    "code": "ham-1",
    "country": "de",
    "city": "Hamburg",
    "address_line1": "Am Kaiserkai 1",
    "timezone": "Europe/Berlin",
}


def test_an_org_admin_adds_a_warehouse_and_another_tenant_cannot_see_it(api):
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)

    created = api(admin, organization).post("/api/v1/warehouses", WAREHOUSE, format="json")
    stranger_org = OrganizationFactory()
    stranger = member(stranger_org, Role.ORG_ADMIN)

    assert created.status_code == 201, created.json()
    assert created.json()["country"] == "DE"
    warehouse_id = created.json()["id"]
    assert api(stranger, stranger_org).get(f"/api/v1/warehouses/{warehouse_id}").status_code == 404
    assert api(stranger, stranger_org).get("/api/v1/warehouses").json()["meta"]["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"), [("country", "Germany"), ("timezone", "Mars/Olympus"), ("name", ""), ("code", "no spaces!")]
)
def test_a_warehouse_with_bad_data_is_refused(api, field, value):
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)

    response = api(admin, organization).post("/api/v1/warehouses", {**WAREHOUSE, field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]


def test_a_duplicate_warehouse_code_is_refused(api):
    organization = OrganizationFactory()
    client = api(member(organization, Role.ORG_ADMIN), organization)
    client.post("/api/v1/warehouses", WAREHOUSE, format="json")

    response = client.post("/api/v1/warehouses", WAREHOUSE, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["details"]


def test_a_shipper_cannot_add_warehouses(api):
    organization = OrganizationFactory()

    response = api(member(organization, Role.SHIPPER), organization).post("/api/v1/warehouses", WAREHOUSE)

    assert response.status_code == 403
