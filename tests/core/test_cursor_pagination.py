"""`?cursor=` beside `?page=` on every list (issue 15, item 1; docs/decisions/0005-list-counts.md):
`meta.next` continues after the last row of a page with a keyset condition, so a walk visits
every row once, in the list's order, rows added meanwhile are not repeated, and a deep page
reads only its own rows. Through real list endpoints."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.context import system_scope
from apps.orders.models import Order
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role
from tests.core.test_pagination_counts import freight_orders, members_url, organization_with_members, parties  # noqa: F401
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def walk(client, url, *, limit: int, **filters) -> tuple[list[str], list[dict]]:
    """Every row id the cursor walk visits from page 1, and each page's meta."""
    body = client.get(url, {"limit": limit, **filters}).json()
    ids, metas = [row["id"] for row in body["data"]], [body["meta"]]
    while body["meta"]["next"] is not None:
        response = client.get(url, {"limit": limit, "cursor": body["meta"]["next"], **filters})
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["data"]]
        metas.append(body["meta"])
        assert len(metas) < 50
    return ids, metas


def test_a_cursor_walk_of_the_members_visits_every_row_once_in_order(api):
    organization, admin = organization_with_members(7)
    client = api(admin)
    everything = [row["id"] for row in client.get(members_url(organization), {"limit": 100}).json()["data"]]

    ids, metas = walk(client, members_url(organization), limit=2)

    assert ids == everything
    assert len(ids) == 7
    assert [meta["page"] for meta in metas] == [1, None, None, None]
    assert all(meta["total"] == 7 and meta["totalIsExact"] for meta in metas)


def test_rows_tied_on_the_ordering_column_are_told_apart_by_id(api):
    organization, admin = organization_with_members(6)
    with system_scope(reason="test: ties on created_at", audit=False):
        Membership.objects.filter(organization=organization).update(created_at=timezone.now())
    client = api(admin)
    everything = [row["id"] for row in client.get(members_url(organization), {"limit": 100}).json()["data"]]

    ids, _ = walk(client, members_url(organization), limit=4)

    assert ids == everything
    assert len(set(ids)) == 6


def test_a_cursor_walk_of_the_orders_visits_every_row_once_newest_first(api, parties):  # noqa: F811
    freight_orders(parties, 5)
    client = api(parties["carrier"], parties["carrier_org"])
    everything = [row["id"] for row in client.get("/api/v1/orders", {"limit": 100}).json()["data"]]

    ids, metas = walk(client, "/api/v1/orders", limit=2)

    assert ids == everything
    assert len(ids) == 5
    assert metas[-1]["next"] is None
    created = [row["created_at"] for row in client.get("/api/v1/orders", {"limit": 100}).json()["data"]]
    assert created == sorted(created, reverse=True)


def test_a_cursor_walk_honours_the_lists_filters(api, parties):  # noqa: F811
    freight_orders(parties, 4)
    client = api(parties["carrier"], parties["carrier_org"])
    with system_scope(reason="test: one order cancelled", audit=False):
        Order.objects.filter(id=Order.objects.order_by("created_at").first().id).update(status="cancelled")

    status = client.get("/api/v1/orders").json()["data"][0]["status"]
    assert status != "cancelled"

    ids, metas = walk(client, "/api/v1/orders", limit=1, status=status)

    assert len(ids) == len(set(ids)) == 3
    assert metas[0]["total"] == 3


def test_rows_added_during_a_walk_are_not_repeated(api, parties):  # noqa: F811
    freight_orders(parties, 4)
    client = api(parties["carrier"], parties["carrier_org"])
    first = client.get("/api/v1/orders", {"limit": 2}).json()

    freight_orders(parties, 3)  # newer: before the cursor in a newest-first list
    rest = client.get("/api/v1/orders", {"limit": 2, "cursor": first["meta"]["next"]}).json()
    seen = [row["id"] for row in first["data"] + rest["data"]]

    assert len(set(seen)) == 4
    assert rest["meta"]["next"] is None
    # Page numbers, by contrast, shift: page 2 now repeats rows of page 1.
    second_by_number = client.get("/api/v1/orders", {"limit": 2, "page": 2}).json()
    assert {row["id"] for row in second_by_number["data"]} & {row["id"] for row in first["data"]}


def test_members_added_during_a_walk_come_at_its_end_once(api):
    organization, admin = organization_with_members(3)
    client = api(admin)
    first = client.get(members_url(organization), {"limit": 2}).json()
    added = MembershipFactory(organization=organization, role=Role.SHIPPER)

    rest = client.get(members_url(organization), {"limit": 2, "cursor": first["meta"]["next"]}).json()

    seen = [row["id"] for row in first["data"] + rest["data"]]
    assert len(seen) == len(set(seen)) == 4
    assert seen[-1] == str(added.id)


@pytest.mark.parametrize("cursor", ["", "garbage", "eyJvIjpbXX0:1:abc", "a" * 500])
def test_a_bad_cursor_is_400_naming_the_parameter(api, cursor):
    organization, admin = organization_with_members(3)

    response = api(admin).get(members_url(organization), {"cursor": cursor})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert list(body["details"]) == ["cursor"]


def test_a_tampered_cursor_is_400(api):
    organization, admin = organization_with_members(3)
    client = api(admin)
    cursor = client.get(members_url(organization), {"limit": 1}).json()["meta"]["next"]
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")

    response = client.get(members_url(organization), {"limit": 1, "cursor": tampered})

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"


def test_a_cursor_of_another_list_is_400(api, parties):  # noqa: F811
    freight_orders(parties, 2)
    orders_cursor = api(parties["carrier"], parties["carrier_org"]).get("/api/v1/orders", {"limit": 1}).json()
    organization, admin = organization_with_members(3)

    response = api(admin).get(members_url(organization), {"cursor": orders_cursor["meta"]["next"]})

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["cursor"]


def test_a_cursor_and_a_page_together_are_400(api):
    organization, admin = organization_with_members(3)
    client = api(admin)
    cursor = client.get(members_url(organization), {"limit": 1}).json()["meta"]["next"]

    response = client.get(members_url(organization), {"limit": 1, "cursor": cursor, "page": 2})

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["cursor"]


def test_a_cursor_page_runs_the_queries_of_a_numbered_page_with_a_keyset_condition(
    api,
    parties,  # noqa: F811
    django_assert_num_queries,
):
    freight_orders(parties, 5)
    client = api(parties["carrier"], parties["carrier_org"])
    cursor = client.get("/api/v1/orders", {"limit": 2}).json()["meta"]["next"]

    # savepoint, user scope, user with memberships, tenant scope, count, page, release, restore
    with django_assert_num_queries(8), CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/orders", {"limit": 2, "cursor": cursor}).status_code == 200

    page = next(
        query["sql"]
        for query in queries.captured_queries
        if 'FROM "orders_order"' in query["sql"] and "COUNT(" not in query["sql"].upper()
    )
    assert '("orders_order"."created_at", "orders_order"."id") < (' in page
    assert "OFFSET" not in page.upper()


def test_the_invitations_mixed_order_is_walked_too(api):
    """Invitations are newest first, ties by ascending id: the keyset of mixed directions."""
    from tests.tenancy.test_invitations import invite

    organization, admin = organization_with_members(1)
    for number in range(5):
        assert invite(api, admin, organization, f"walk{number}@example.test").status_code == 201
    stamp = timezone.now() - datetime.timedelta(days=1)
    from apps.tenancy.models import Invitation

    with system_scope(reason="test: ties on created_at", audit=False):
        Invitation.objects.filter(
            organization=organization, email__in=["walk1@example.test", "walk2@example.test"]
        ).update(created_at=stamp)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/invitations"
    everything = [row["id"] for row in client.get(url, {"limit": 100}).json()["data"]]

    ids, _ = walk(client, url, limit=2)

    assert ids == everything
    assert len(set(ids)) == 5
