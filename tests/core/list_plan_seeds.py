"""Seeds for the list-plan tests (tests/core/test_list_plans_more.py): many rows of one kind for a
tenant, split between its two sides, written with set-based SQL on the owner's connection in the
bypass scope as bench/orders_list.py writes orders, then `VACUUM (ANALYZE)`d as autovacuum would
have (outside any transaction, as VACUUM must be), so the planner chooses on real statistics.

The rows that hang from an order (packages, returns, escrows, documents) are made from the orders
of the orders-list seed, one or two per order: they share its parties (the tenant the client in
60 %, the supplier in 40 %, over two tenants and a handful of partners) and its spread in time.
Offers are made on RFQs: the tenant's own (it is the shipper, partners make the offers) and the
partners' (the tenant is the carrier)."""

from __future__ import annotations

from django.db import connections

from apps.core.context import system_scope
from bench import orders_list as bench_orders

TENANTS = 2
PARTNERS = 8


def _vacuum(*models) -> None:
    with connections["owner"].cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def _from_orders(model, expressions: dict[str, str], source: str = "FROM orders_order o", *, joined=()) -> None:
    """Rows of `model` from the seeded orders; `joined`: the other tables its list reads, analysed too."""
    with system_scope(reason="list plan seed", using="owner", audit=False):
        sql, params = bench_orders._insert_select(model, expressions, source, connections["owner"])
        with connections["owner"].cursor() as cursor:
            cursor.execute(sql, params)
    _vacuum(model, *joined)


def _orders(orders: int):
    tenants, _admins = bench_orders._seed(tenants=TENANTS, orders=orders)
    return tenants[0]


def _array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{value}'" for value in values) + "]"


def _pick(values, key: str) -> str:
    """One of `values`, turning with the integer SQL expression `key`."""
    return f"({_array(values)})[1 + ({key}) %% {len(values)}]"


# A number in [0, 2^30) of the order, for spreading values over the seed (orders carry no counter).
ORDINAL = "(hashtext(o.id::text) & 1073741823)"


def packages(*, orders: int):
    """A package per order, received an hour after the order; returns the first tenant."""
    from apps.orders.models import Package

    tenant = _orders(orders)
    _from_orders(
        Package,
        {
            "id": "gen_random_uuid()",
            "order_id": "o.id",
            "client_organization_id": "o.client_organization_id",
            "supplier_organization_id": "o.supplier_organization_id",
            # Unique within the forwarder: the order's id is unique everywhere.
            "tracking_number": "'TRK-' || upper(replace(o.id::text, '-', ''))",
            "weight_g": f"500 + {ORDINAL} %% 30000",
            "length_cm": "60",
            "width_cm": "40",
            "height_cm": "40",
            "status": _pick(["at_warehouse", "in_transit", "in_transit", "delivered", "delivered"], ORDINAL),
            "received_at": "o.created_at + interval '1 hour'",
            "created_at": "o.created_at + interval '1 hour'",
            "updated_at": "o.created_at + interval '1 hour'",
        },
    )
    return tenant


def returns(*, orders: int):
    """A return per order, asked for an hour after the order; returns the first tenant."""
    from apps.orders.models import OrderReturn

    tenant = _orders(orders)
    statuses = ["requested", "approved", "approved", "rejected", "received", "refunded", "refunded"]
    _from_orders(
        OrderReturn,
        {
            "id": "gen_random_uuid()",
            "order_id": "o.id",
            "client_organization_id": "o.client_organization_id",
            "supplier_organization_id": "o.supplier_organization_id",
            "status": _pick(statuses, ORDINAL),
            "reason": "'Arrived damaged: the carton was crushed.'",
            "created_at": "o.created_at + interval '1 hour'",
            "updated_at": "o.created_at + interval '1 hour'",
        },
    )
    return tenant


ESCROW_STATUSES = [
    "created",
    "funded",
    "funded",
    "partially_released",
    "released",
    "released",
    "released",
    "refunded",
    "disputed",
    "closed",
]


def escrows(*, orders: int):
    """An escrow per order (one-to-one), opened an hour after it; returns the first tenant."""
    from apps.escrow.models import Escrow

    tenant = _orders(orders)
    _from_orders(
        Escrow,
        {
            "id": "gen_random_uuid()",
            # Unique in the client organization, as the order's number is.
            "number": "'ES-' || o.number",
            "order_id": "o.id",
            "order_number": "o.number",
            "client_organization_id": "o.client_organization_id",
            "supplier_organization_id": "o.supplier_organization_id",
            "client_organization_name": "o.client_organization_name",
            "supplier_organization_name": "o.supplier_organization_name",
            "provider": "'sandbox'",
            "amount": "o.total_amount",
            "currency": "o.currency",
            "commission_rate": "0.0250",
            "commission_minimum": "1",
            "commission_amount": "greatest(round(o.total_amount * 0.025, 2), 1)",
            "status": _pick(ESCROW_STATUSES, ORDINAL),
            "created_at": "o.created_at + interval '1 hour'",
            "updated_at": "o.created_at + interval '1 hour'",
        },
    )
    return tenant


DOCUMENT_TYPES = [
    "commercial_invoice",
    "cmr",
    "bill_of_lading",
    "packing_list",
    "certificate_of_origin",
    "proof_of_delivery",
]


def documents(*, orders: int):
    """Two documents per order (of two types, a second version of one in three), generated by
    the client after the order, one in four signed; returns the first tenant."""
    from django.contrib.auth import get_user_model

    from apps.documents.models import DocumentType, GeneratedDocument

    assert [choice.value for choice in DocumentType] == DOCUMENT_TYPES
    tenant = _orders(orders)
    # Documents 1 and 2 of an order are of two types in turn, version 1; in one order of three a
    # document 3 is version 2 of the second (never the same (order, type, version) twice).
    _from_orders(
        GeneratedDocument,
        {
            "id": "d.id",
            "organization_id": "o.client_organization_id",
            "client_organization_id": "o.client_organization_id",
            "supplier_organization_id": "o.supplier_organization_id",
            "order_id": "o.id",
            "order_number": "o.number",
            "customer_id": "o.customer_id",
            "document_type": "d.document_type",
            "version": "d.version",
            "language": _pick(["en", "ru"], ORDINAL),
            "status": "'ready'",
            "file": "'documents/' || d.id || '.pdf'",
            "verification_token": "'v-' || d.id",
            "verification_url": "'https://manifest.example/verify/v-' || d.id",
            # One in four signed by the client's member (partners have none: unsigned).
            "signed_by_id": "CASE WHEN d.signed THEN m.user_id END",
            "signed_at": "CASE WHEN d.signed AND m.user_id IS NOT NULL THEN o.created_at + interval '1 day' END",
            "signer_name": "CASE WHEN d.signed AND m.user_id IS NOT NULL THEN 'Admin' ELSE '' END",
            "created_at": "o.created_at + make_interval(hours => d.k)",
            "updated_at": "o.created_at + make_interval(hours => d.k)",
        },
        f"""FROM orders_order o
        CROSS JOIN LATERAL (
            SELECT gen_random_uuid() AS id, k.k,
                   {_pick(DOCUMENT_TYPES, f"{ORDINAL} + least(k.k, 2)")} AS document_type,
                   CASE WHEN k.k = 3 THEN 2 ELSE 1 END AS version,
                   ({ORDINAL} + k.k) %% 4 = 0 AS signed
            FROM generate_series(1, CASE WHEN {ORDINAL} %% 3 = 0 THEN 3 ELSE 2 END) AS k(k)
        ) d
        LEFT JOIN LATERAL (
            SELECT user_id FROM tenancy_membership WHERE organization_id = o.client_organization_id LIMIT 1
        ) m ON true""",
        joined=[get_user_model()],  # the list joins the signer
    )
    return tenant


OFFER_STATUSES = ["submitted", "withdrawn", "accepted", "rejected", "rejected", "rejected", "expired"]
OFFERS_PER_RFQ = 4  # on the tenant's own RFQs, from four partners each


def offers(*, offers: int):
    """`offers` offers a tenant, over two tenants: as the shipper 60 % (its RFQs, four partner
    offers each), as the carrier 40 % (one offer on a partner's RFQ); returns the first tenant.

    Both sides spread over the same weeks, back from now (a shipper's RFQ every 800 s, a carrier's
    offer every 300 s); an RFQ is made a day before its offers."""
    from apps.marketplace.models import Offer, Rfq
    from apps.tenancy.models import Organization

    tenant_rows = [
        Organization(name=f"Plan tenant {n:02d}", slug=f"plan-tenant-{n:02d}", country="DE") for n in range(TENANTS)
    ]
    partner_rows = [
        Organization(name=f"Plan carrier {n:02d}", slug=f"plan-carrier-{n:02d}", country="PL") for n in range(PARTNERS)
    ]
    as_shipper = offers * 3 // 5 // OFFERS_PER_RFQ
    as_carrier = offers - as_shipper * OFFERS_PER_RFQ
    connection = connections["owner"]
    with system_scope(reason="list plan seed", using="owner", audit=False), connection.cursor() as cursor:
        Organization.objects.using("owner").bulk_create([*tenant_rows, *partner_rows])
        # One row per RFQ: its owner, the carriers that answer it, when. A shipper's RFQ r takes
        # offers from OFFERS_PER_RFQ partners in turn; a partner's RFQ, the tenant's offer alone.
        cursor.execute(
            f"""CREATE TEMP TABLE plan_rfq_seed ON COMMIT DROP AS
            WITH tenants AS (SELECT * FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS t(id, name, idx)),
                 partners AS (SELECT * FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS p(id, name, idx))
            SELECT gen_random_uuid() AS id, t.id AS owner_id, t.name AS owner_name, g,
                   'T' || t.idx || '-' || g AS number,
                   (SELECT array_agg(p.id ORDER BY p.idx) FROM partners p
                    WHERE (p.idx + g) %% %s < {OFFERS_PER_RFQ}) AS carrier_ids,
                   now() - make_interval(secs => g * 800 + t.idx * 7) AS offered_at
            FROM tenants t CROSS JOIN generate_series(1, %s) AS g
            UNION ALL
            SELECT gen_random_uuid(), p.id, p.name, g, 'P' || t.idx || '-' || g, ARRAY[t.id],
                   now() - make_interval(secs => g * 300 + t.idx * 7 + 3)
            FROM tenants t CROSS JOIN generate_series(1, %s) AS g
            JOIN partners p ON p.idx = 1 + (g + t.idx) %% %s""",
            [
                [o.id for o in tenant_rows],
                [o.name for o in tenant_rows],
                [o.id for o in partner_rows],
                [o.name for o in partner_rows],
                PARTNERS,
                as_shipper,
                as_carrier,
                PARTNERS,
            ],
        )
        sql, params = bench_orders._insert_select(
            Rfq,
            {
                "id": "s.id",
                "organization_id": "s.owner_id",
                "organization_name": "s.owner_name",
                "number": "'RFQ-' || s.number",
                "title": "'Hamburg - Warsaw, 4 pallets'",
                "status": "'closed'",
                "weight_kg": "1200",
                "currency": "'EUR'",
                "deadline": "s.offered_at + interval '2 days'",
                "published_at": "s.offered_at - interval '1 day'",
                "created_at": "s.offered_at - interval '1 day'",
                "updated_at": "s.offered_at - interval '1 day'",
            },
            "FROM plan_rfq_seed s",
            connection,
        )
        cursor.execute(sql, params)
        sql, params = bench_orders._insert_select(
            Offer,
            {
                "id": "gen_random_uuid()",
                "rfq_id": "s.id",
                "rfq_number": "'RFQ-' || s.number",
                "carrier_organization_id": "carrier.id",
                "carrier_organization_name": "c.name",
                "shipper_organization_id": "s.owner_id",
                "status": _pick(OFFER_STATUSES, "s.g + carrier.n"),
                "price": "900 + (s.g * 37 + carrier.n * 11) %% 600",
                "currency": "'EUR'",
                "transit_days": "2 + carrier.n",
                "valid_until": "s.offered_at + interval '7 days'",
                # The carriers of an RFQ answer a minute apart.
                "created_at": "s.offered_at - make_interval(mins => carrier.n::int)",
                "updated_at": "s.offered_at - make_interval(mins => carrier.n::int)",
            },
            """FROM plan_rfq_seed s
            CROSS JOIN LATERAL unnest(s.carrier_ids) WITH ORDINALITY AS carrier(id, n)
            JOIN tenancy_organization c ON c.id = carrier.id""",
            connection,
        )
        cursor.execute(sql, params)
    _vacuum(Rfq, Offer)
    return tenant_rows[0]
