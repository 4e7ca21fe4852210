"""The other two-party lists are served by their party indexes in order, as the order list is
(tests/core/test_list_plans.py; the properties in tests/core/plans.py): packages, returns,
offers, escrows and documents, at the first page, a deep page (offset 5,000) and with each filter
their API offers, on tens of thousands of rows a tenant split between its two sides, committed
and analysed (tests/core/list_plan_seeds.py), nothing forced.

What the plans are today (devstack's PostgreSQL 18, on this seed): every first page, filtered or not, is
`Limit → Merge Append → Limit → Index Scan Backward` on the two party indexes (packages and
returns add a nested-loop lookup of their order by primary key, documents of their signer).
A deep page keeps the Merge Append, and each arm sorts its top offset + limit rows: row-level
security's own `client = tenant OR supplier = tenant` lets the planner read the tenant's rows
through the single-column party indexes (a BitmapOr) instead of walking offset + limit entries
(docs/decisions/0004-two-party-lists.md, "Deep pages"). An RFQ's offers and an order's documents
are looked up by `rfq_id` / `order_id` and sorted: a handful of rows."""

from __future__ import annotations

from apps.core.context import tenant_scope
from tests.core import list_plan_seeds as seeds
from tests.core.plans import DEEP, Shape, check_one_side, check_shapes

ORDERS = 25_000  # a tenant's orders, for the lists of what hangs from an order (one or two each)
OFFERS = 30_000

FIRST_AND_DEEP = {"first page": Shape(), "deep page": Shape(offset=DEEP)}


def test_the_package_list_walks_the_party_indexes_in_order_at_any_depth(committed):
    from apps.orders.selectors import package_list

    tenant = seeds.packages(orders=ORDERS)
    with tenant_scope(tenant.id):
        # GET /packages has no filters of its own.
        check_shapes(lambda: package_list(organization_id=tenant.id), FIRST_AND_DEEP)


def test_the_return_list_walks_the_party_indexes_in_order_at_any_depth(committed):
    from apps.orders.selectors import return_list

    tenant = seeds.returns(orders=ORDERS)
    with tenant_scope(tenant.id):
        # GET /returns has no filters of its own.
        check_shapes(lambda: return_list(organization_id=tenant.id), FIRST_AND_DEEP)


def test_the_offer_list_walks_the_party_indexes_in_order_at_any_depth_and_filter(committed):
    from apps.marketplace.selectors import offer_list

    tenant = seeds.offers(offers=OFFERS)
    with tenant_scope(tenant.id):
        offers = offer_list(organization_id=tenant.id)
        own_rfq = offers.filter(shipper_organization_id=tenant.id).values_list("rfq_id", flat=True)[0]
        partner_rfq = offers.filter(carrier_organization_id=tenant.id).values_list("rfq_id", flat=True)[0]
        # The filters of GET /offers (apps/marketplace/api/filters.py OfferFilter).
        shapes = {
            **FIRST_AND_DEEP,
            "status": Shape({"status": "rejected"}),
            "a rarer status": Shape({"status": "accepted"}),
            "status, deep": Shape({"status": "rejected"}, offset=DEEP),
            "an RFQ of the tenant's": Shape({"rfq_id": own_rfq}, bounded_by="rfq_id"),
            "a partner's RFQ": Shape({"rfq_id": partner_rfq}, bounded_by="rfq_id"),
        }
        check_shapes(lambda: offer_list(organization_id=tenant.id), shapes)

        # `?side=`: the filter names one side, so the list runs as written, on that side's index.
        check_one_side(offers.filter(carrier_organization_id=tenant.id), "offer_carrier_created_id_idx")
        check_one_side(offers.filter(shipper_organization_id=tenant.id), "offer_shipper_created_id_idx")


def test_the_escrow_list_walks_the_party_indexes_in_order_at_any_depth_and_filter(committed):
    from apps.escrow.selectors import escrow_list

    tenant = seeds.escrows(orders=ORDERS)
    # `?status=` of GET /escrows (apps/escrow/api/views.py EscrowListView).
    shapes = {
        **FIRST_AND_DEEP,
        "status": Shape({"status": "released"}),
        "a rarer status": Shape({"status": "disputed"}),
    }
    with tenant_scope(tenant.id):
        check_shapes(lambda: escrow_list(organization_id=tenant.id), shapes)


def test_the_document_list_walks_the_party_indexes_in_order_at_any_depth_and_filter(committed):
    from apps.documents.selectors import document_list

    tenant = seeds.documents(orders=ORDERS)
    with tenant_scope(tenant.id):
        documents = document_list(organization_id=tenant.id)
        as_client = documents.filter(client_organization_id=tenant.id).values_list("order_id", flat=True)[0]
        as_supplier = documents.filter(supplier_organization_id=tenant.id).values_list("order_id", flat=True)[0]
        # `?document_type=` and `?order_id=` of GET /documents (apps/documents/api/serializers.py DocumentListQuery).
        shapes = {
            **FIRST_AND_DEEP,
            "document type": Shape({"document_type": "cmr"}),
            "an order of the tenant as the client": Shape({"order_id": as_client}, bounded_by="order_id"),
            "an order of the tenant as the supplier": Shape({"order_id": as_supplier}, bounded_by="order_id"),
        }
        check_shapes(lambda: document_list(organization_id=tenant.id), shapes)
