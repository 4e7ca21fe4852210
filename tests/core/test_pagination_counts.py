"""`meta.total` without reading the whole tenant (issue 15, item 2; docs/decisions/0005-list-counts.md):
lists count at most LIST_COUNT_LIMIT rows; beyond it `total` is the limit and `totalIsExact`
is false. Through real list endpoints, with a small limit in place of 10,000."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.actors import Actor
from apps.core.context import tenant_scope
from apps.orders import services
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, member

pytestmark = pytest.mark.django_db


def members_url(organization) -> str:
    return f"/api/v1/organizations/{organization.id}/members"


def organization_with_members(count: int):
    """An organization with `count` members, the first its admin (who asks)."""
    organization = OrganizationFactory()
    admin = member(organization)
    MembershipFactory.create_batch(count - 1, organization=organization, role=Role.CARRIER)
    return organization, admin


@pytest.fixture
def parties():
    shipper_org, carrier_org = OrganizationFactory(), OrganizationFactory()
    return {
        "shipper_org": shipper_org,
        "carrier_org": carrier_org,
        "shipper": member(shipper_org, Role.SHIPPER),
        "carrier": member(carrier_org, Role.CARRIER),
    }


def freight_orders(parties, count: int) -> None:
    with tenant_scope(parties["shipper_org"].id, user_id=parties["shipper"].id):
        for _ in range(count):
            services.order_create(
                order_input=services.OrderInput(
                    kind="freight",
                    client_organization_id=parties["shipper_org"].id,
                    supplier_organization_id=parties["carrier_org"].id,
                    currency="EUR",
                    items=[services.ItemInput(name="FTL", quantity=1, unit_price=Decimal("100.00"))],
                    shipping_address={"country": "RU", "city": "Kazan", "line1": "Sibirsky trakt 34"},
                ),
                actor=Actor(user_id=parties["shipper"].id),
            )


def test_the_default_limit_is_ten_thousand():
    from config.settings import base

    assert base.LIST_COUNT_LIMIT == 10_000


def test_under_the_limit_the_total_is_exact(api, settings):
    settings.LIST_COUNT_LIMIT = 5
    organization, admin = organization_with_members(3)

    meta = api(admin).get(members_url(organization), {"limit": 2}).json()["meta"]

    assert meta["total"] == 3
    assert meta["totalIsExact"] is True
    assert meta["totalPages"] == 2


def test_at_the_limit_the_total_is_still_exact(api, settings):
    settings.LIST_COUNT_LIMIT = 4
    organization, admin = organization_with_members(4)

    meta = api(admin).get(members_url(organization)).json()["meta"]

    assert (meta["total"], meta["totalIsExact"], meta["totalPages"]) == (4, True, 1)


def test_above_the_limit_the_total_is_the_limit_and_says_it_is_not_exact(api, settings):
    settings.LIST_COUNT_LIMIT = 4
    organization, admin = organization_with_members(7)
    client = api(admin)

    meta = client.get(members_url(organization), {"limit": 2}).json()["meta"]

    assert meta["total"] == 4
    assert meta["totalIsExact"] is False
    assert meta["totalPages"] == 2
    # Pages past the capped total are served while they have rows; past the rows, 404.
    beyond = client.get(members_url(organization), {"limit": 2, "page": 4})
    assert beyond.status_code == 200
    assert len(beyond.json()["data"]) == 1
    assert beyond.json()["meta"]["page"] == 4
    assert client.get(members_url(organization), {"limit": 2, "page": 5}).status_code == 404


def test_the_last_page_counts_exactly_to_find_the_end(api, settings):
    settings.LIST_COUNT_LIMIT = 4
    organization, admin = organization_with_members(7)

    body = api(admin).get(members_url(organization), {"limit": 2, "page": "last"}).json()

    assert body["meta"]["page"] == 4
    assert (body["meta"]["total"], body["meta"]["totalIsExact"]) == (7, True)
    assert len(body["data"]) == 1


def test_under_the_limit_pages_past_the_last_are_404_as_before(api, settings):
    settings.LIST_COUNT_LIMIT = 100
    organization, admin = organization_with_members(3)

    assert api(admin).get(members_url(organization), {"limit": 2, "page": 3}).status_code == 404


def test_an_empty_list_has_its_first_page(api, parties):
    body = api(parties["carrier"], parties["carrier_org"]).get("/api/v1/orders").json()

    assert body["data"] == []
    assert body["meta"] == {"total": 0, "totalIsExact": True, "page": 1, "limit": 20, "totalPages": 0, "next": None}


def test_the_order_list_caps_its_count_in_the_same_number_of_queries(api, parties, settings, django_assert_num_queries):
    settings.LIST_COUNT_LIMIT = 3
    freight_orders(parties, 2)
    client = api(parties["carrier"], parties["carrier_org"])
    client.get("/api/v1/orders?limit=1")

    # As tests/orders/test_orders_api.py pins it: savepoint, user scope, user with memberships,
    # tenant scope, page, count, release, restore. A full page (one row of `limit=1`, more
    # behind it) needs the count; the capped count replaces the count.
    with django_assert_num_queries(8):
        meta = client.get("/api/v1/orders?limit=1").json()["meta"]
    assert (meta["total"], meta["totalIsExact"], meta["totalPages"]) == (2, True, 2)
    freight_orders(parties, 3)
    with django_assert_num_queries(8):
        meta = client.get("/api/v1/orders?limit=1").json()["meta"]
    assert (meta["total"], meta["totalIsExact"]) == (3, False)


def test_a_page_that_holds_the_end_of_the_list_counts_it_without_a_count_query(
    api, parties, settings, django_assert_num_queries
):
    freight_orders(parties, 5)
    client = api(parties["carrier"], parties["carrier_org"])
    client.get("/api/v1/orders")

    with django_assert_num_queries(7):  # the page alone: it is shorter than `limit`
        first = client.get("/api/v1/orders").json()["meta"]
    with django_assert_num_queries(7):  # the last page of two: the rows before it plus its own
        last = client.get("/api/v1/orders?limit=3&page=2").json()["meta"]
    with django_assert_num_queries(8):  # a full first page: more may follow, so it counts
        full = client.get("/api/v1/orders?limit=3").json()["meta"]

    assert (first["total"], first["totalIsExact"], first["totalPages"]) == (5, True, 1)
    assert (last["total"], last["totalIsExact"], last["totalPages"], last["page"]) == (5, True, 2, 2)
    assert (full["total"], full["totalIsExact"], full["totalPages"]) == (5, True, 2)
    assert client.get("/api/v1/orders?limit=3&page=3").status_code == 404


def test_the_count_reads_at_most_the_limit_plus_one_row_unordered(api, parties, settings):
    settings.LIST_COUNT_LIMIT = 3
    freight_orders(parties, 2)
    client = api(parties["carrier"], parties["carrier_org"])
    client.get("/api/v1/orders?limit=1")

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/orders?limit=1")

    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 4" in counts[0]
    assert "ORDER BY" not in counts[0].upper()


def test_the_schema_documents_the_new_meta_fields_and_the_cursor_parameter():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/orders"]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert {"page", "limit", "cursor"} <= parameters
    envelope = operation["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in envelope:
        envelope = schema["components"]["schemas"][envelope["$ref"].rsplit("/", 1)[1]]
    meta = envelope["properties"]["meta"]
    assert set(meta["required"]) == {"total", "totalIsExact", "page", "limit", "totalPages", "next"}
    assert meta["properties"]["totalIsExact"]["type"] == "boolean"
    assert meta["properties"]["next"]["nullable"] is True
