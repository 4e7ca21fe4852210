"""A two-party list is served by its party indexes in the list's order (apps/core/visibility.py,
docs/decisions/0004-two-party-lists.md): at the first page, a deep page and with the list's
filters, PostgreSQL walks `(party column, created_at, id)` of each side and merges the two
walks, with no Sort over the tenant's rows, and the page holds the same rows the `OR` filter
gives.

The data is the orders-list benchmark's seed, smaller: 50,000 orders a tenant (60 % as the
client, 40 % as the supplier), committed and analysed (`VACUUM (ANALYZE)`) as autovacuum
would have, so the planner chooses on real statistics and nothing is forced. The plan
properties are tests/core/plans.py's; the other two-party lists are held to them in
tests/core/test_list_plans_more.py."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.visibility import party_page
from apps.orders import selectors
from apps.orders.models import Order
from bench import orders_list as bench_orders
from tests.core.plans import DEEP, PAGE, Shape, check_one_side, check_shapes

ORDERS = 50_000


@pytest.fixture
def tenant(committed):
    tenants, _admins = bench_orders._seed(tenants=2, orders=ORDERS)
    return tenants[0]


# One seed for every shape (seeding is most of the time): first page, deep page, the list's filters.
SHAPES = {
    "first page": Shape(),
    "deep page": Shape(offset=DEEP),
    "status": Shape({"status": "completed"}),
    "kind": Shape({"kind": "assisted_purchase"}),
    "kind and status": Shape({"kind": "freight", "status": "in_transit"}),
    "date range": Shape({"created_at__gte": timezone.now() - timedelta(days=30), "created_at__lt": timezone.now()}),
}


def test_the_order_list_walks_the_party_indexes_in_order_at_any_depth_and_filter(tenant):
    with tenant_scope(tenant.id):
        check_shapes(lambda: selectors.order_list(organization_id=tenant.id), SHAPES)

        # `?party=client`: the filter names one side, so the list runs as written, on that side's index.
        orders = selectors.order_list(organization_id=tenant.id)
        check_one_side(orders.filter(client_organization_id=tenant.id), "order_client_created_id_idx")

        # An organization on both sides of an order (its own) sees it once.
        own = Order.objects.filter(client_organization_id=tenant.id).order_by("-created_at").first()
        Order.objects.filter(pk=own.pk).update(supplier_organization_id=tenant.id, created_at=timezone.now())
        ids = [order.id for order in selectors.order_list(organization_id=tenant.id)[:PAGE]]
    assert ids[0] == own.pk and len(set(ids)) == PAGE


# --- Every two-party list has an index per side in its order ---------------------------------------
# (what a list added later needs first; its plans are then proven as in test_list_plans_more.py)


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
