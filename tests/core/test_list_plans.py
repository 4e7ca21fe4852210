"""A two-party list is served by its party indexes in the list's order (apps/core/visibility.py,
docs/decisions/0004-two-party-lists.md): at the first page, a deep page and with the list's
filters, PostgreSQL walks `(party column, created_at, id)` of each side and merges the two
walks, with no Sort over the tenant's rows, and the page holds the same rows the `OR` filter
gives.

The data is the orders-list benchmark's seed, smaller: 50,000 orders a tenant (60 % as the
client, 40 % as the supplier), committed and analysed (`VACUUM (ANALYZE)`) as autovacuum
would have, so the planner chooses on real statistics and nothing is forced."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.visibility import party_page
from apps.orders import selectors
from apps.orders.models import Order
from bench import orders_list as bench_orders

ORDERS = 50_000
PAGE = 20
PARTY_INDEXES = {"order_client_created_id_idx", "order_supplier_created_id_idx"}


@pytest.fixture
def tenant(committed):
    tenants, _admins = bench_orders._seed(tenants=2, orders=ORDERS)
    return tenants[0]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plan(queryset) -> list[dict]:
    sql, params = queryset.query.get_compiler(using="default").as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return list(_nodes(cursor.fetchone()[0][0]["Plan"]))


def _served_by_the_party_indexes(nodes: list[dict]) -> None:
    kinds = [node["Node Type"] for node in nodes]
    scans = [node for node in nodes if node.get("Relation Name") == Order._meta.db_table]
    assert "Sort" not in kinds and "Incremental Sort" not in kinds, kinds
    assert scans and all(node["Node Type"] == "Index Scan" for node in scans), kinds
    assert {node["Index Name"] for node in scans} <= PARTY_INDEXES
    assert all(node["Scan Direction"] == "Backward" for node in scans)


def _merged_page_only(nodes: list[dict]) -> None:
    """A deep page: the arms are merged in order (Merge Append, no Sort above it); an arm may
    take a top-N sort of its own side when the planner finds that cheaper than walking
    offset + limit index entries (bounded by the window; `?cursor=` is the answer for depth)."""
    kinds = [node["Node Type"] for node in nodes]
    assert kinds[:2] == ["Limit", "Merge Append"], kinds
    assert "Seq Scan" not in kinds, kinds


def _check(organization_id, queryset, offset: int) -> None:
    window = queryset[offset : offset + PAGE]
    page = party_page(window)
    assert page is not None and page.query.combinator == "union"
    nodes = _plan(page)
    if offset >= 5_000:
        _merged_page_only(nodes)
    else:
        _served_by_the_party_indexes(nodes)
    # The same rows, in the same order, as the plain `OR` filter (values() is not rewritten).
    expected = list(queryset.values_list("id", flat=True)[offset : offset + PAGE])
    assert len(expected) == PAGE
    assert [order.id for order in window] == expected


# One seed for every shape (seeding is most of the time): first page, deep page, the list's filters.
SHAPES = {
    "first page": ({}, 0),
    "deep page": ({}, 5_000),
    "status": ({"status": "completed"}, 0),
    "kind": ({"kind": "assisted_purchase"}, 0),
    "kind and status": ({"kind": "freight", "status": "in_transit"}, 0),
    "date range": ({"created_at__gte": timezone.now() - timedelta(days=30), "created_at__lt": timezone.now()}, 0),
}


def test_the_order_list_walks_the_party_indexes_in_order_at_any_depth_and_filter(tenant):
    with tenant_scope(tenant.id):
        for name, (filters, offset) in SHAPES.items():
            try:
                _check(tenant.id, selectors.order_list(organization_id=tenant.id).filter(**filters), offset)
            except AssertionError as error:
                raise AssertionError(f"{name}: {error}") from error

        # `?party=client`: the filter names one side, so the list runs as written, on that side's index.
        window = selectors.order_list(organization_id=tenant.id).filter(client_organization_id=tenant.id)[:PAGE]
        assert party_page(window) is None
        nodes = _plan(window)
        _served_by_the_party_indexes(nodes)
        assert {node["Index Name"] for node in nodes if "Index Name" in node} == {"order_client_created_id_idx"}

        # An organization on both sides of an order (its own) sees it once.
        own = Order.objects.filter(client_organization_id=tenant.id).order_by("-created_at").first()
        Order.objects.filter(pk=own.pk).update(supplier_organization_id=tenant.id, created_at=timezone.now())
        ids = [order.id for order in selectors.order_list(organization_id=tenant.id)[:PAGE]]
    assert ids[0] == own.pk and len(set(ids)) == PAGE


# --- Every two-party list has an index per side in its order ---------------------------------------


def _lists():
    from apps.documents.selectors import document_list
    from apps.escrow.selectors import escrow_list
    from apps.marketplace.selectors import offer_list

    organization_id = uuid4()
    return {
        "orders": selectors.order_list(organization_id=organization_id),
        "packages": selectors.package_list(organization_id=organization_id),
        "returns": selectors.return_list(organization_id=organization_id),
        "offers": offer_list(organization_id=organization_id),
        "escrows": escrow_list(organization_id=organization_id),
        "documents": document_list(organization_id=organization_id),
    }


@pytest.mark.parametrize("name", list(_lists()))
def test_every_two_party_list_pages_by_an_index_per_side_in_its_order(name):
    queryset = _lists()[name]
    model = queryset.model
    assert party_page(queryset[:PAGE]) is not None, "the page is not the UNION ALL of its sides"
    ordering = [term.removeprefix("-") for term in queryset.query.order_by]
    indexed = {
        tuple(model._meta.get_field(field).column for field in index.fields)
        for index in model._meta.indexes
        if not index.condition
    }
    missing = [column for column in model.row_visibility.party_columns if (column, *ordering) not in indexed]
    assert missing == [], f"{model._meta.label}: no index ({missing[0]}, {', '.join(ordering)})"
