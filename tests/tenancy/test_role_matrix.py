"""Roles by actions by rows, through the API: an `:own` grant on orders reaches everything that
hangs from an order (escrows, their ledger lines, documents, returns), and nothing of the
orders of another member of the same organization.

Each row of TABLE is one role and one action, with what the API answers for the user's own
order ("own") and for another member's order in the same organization ("other"): an HTTP
status, or for lists whether the row is listed. The matrix itself is checked too: no role
holds a right on something that hangs from an order wider than its right to read orders,
and none may act on a resource it cannot read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.documents import services as document_services
from apps.escrow import services as escrow_services
from apps.orders import services as order_services
from apps.orders.models import Order
from apps.tenancy.roles import MATRIX, Actor, Grant, Role, grant_for
from tests.escrow.conftest import payment_gateways, payment_sandbox  # noqa: F401 (escrow needs a provider)
from tests.escrow.parties import charge_event, deliver_webhook
from tests.factories import OrganizationFactory, member
from tests.marketplace.factories import VerificationFactory
from tests.shipments import COMPLETE_SHIPMENT

pytestmark = pytest.mark.django_db

LISTED, HIDDEN = "listed", "hidden"
# Amounts that tell, in a balance, whose escrow it counts.
OWN_TOTAL, OTHER_TOTAL = Decimal("100.00"), Decimal("250.00")

# (role, action): (own row, other member's row)
TABLE = {
    # buyer: orders :own, and so their escrows, ledger lines and disputes; no documents, no returns
    (Role.BUYER, "order:list"): (LISTED, HIDDEN),
    (Role.BUYER, "order:read"): (200, 404),
    (Role.BUYER, "escrow:list"): (LISTED, HIDDEN),
    (Role.BUYER, "escrow:read"): (200, 404),
    (Role.BUYER, "escrow:release"): (200, 404),
    (Role.BUYER, "dispute:open"): (201, 404),
    (Role.BUYER, "ledger:statement"): (LISTED, HIDDEN),
    (Role.BUYER, "ledger:balances"): (LISTED, HIDDEN),
    (Role.BUYER, "document:list"): (403, 403),
    (Role.BUYER, "document:read"): (403, 403),
    (Role.BUYER, "return:list"): (403, 403),
    (Role.BUYER, "return:read"): (403, 403),
    (Role.BUYER, "return:create"): (403, 403),
    # customer: orders :own, their documents and returns; no money
    (Role.CUSTOMER, "order:list"): (LISTED, HIDDEN),
    (Role.CUSTOMER, "order:read"): (200, 404),
    (Role.CUSTOMER, "escrow:list"): (403, 403),
    (Role.CUSTOMER, "escrow:read"): (403, 403),
    (Role.CUSTOMER, "escrow:release"): (403, 403),
    (Role.CUSTOMER, "ledger:statement"): (403, 403),
    (Role.CUSTOMER, "document:list"): (LISTED, HIDDEN),
    (Role.CUSTOMER, "document:read"): (200, 404),
    (Role.CUSTOMER, "return:list"): (LISTED, HIDDEN),
    (Role.CUSTOMER, "return:read"): (200, 404),
    (Role.CUSTOMER, "return:create"): (201, 404),
    # shipper: every order of the organization and all that hangs from them; no returns
    (Role.SHIPPER, "order:list"): (LISTED, LISTED),
    (Role.SHIPPER, "order:read"): (200, 200),
    (Role.SHIPPER, "escrow:list"): (LISTED, LISTED),
    (Role.SHIPPER, "escrow:read"): (200, 200),
    (Role.SHIPPER, "escrow:release"): (200, 200),
    (Role.SHIPPER, "dispute:open"): (201, 201),
    (Role.SHIPPER, "ledger:statement"): (LISTED, LISTED),
    (Role.SHIPPER, "ledger:balances"): (LISTED, LISTED),
    (Role.SHIPPER, "document:list"): (LISTED, LISTED),
    (Role.SHIPPER, "document:read"): (200, 200),
    (Role.SHIPPER, "return:list"): (403, 403),
    (Role.SHIPPER, "return:create"): (403, 403),
}


@dataclass
class Row:
    order: Order
    item_id: int
    escrow_id: uuid.UUID
    document_id: uuid.UUID
    return_id: uuid.UUID
    total: Decimal


@dataclass
class World:
    client: object  # the API client of the acting user
    rows: dict[str, Row]


def _order(client_org, supplier_org, *, customer, total: Decimal) -> Order:
    with tenant_scope(client_org.id, user_id=customer.id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=client_org.id,
                supplier_organization_id=supplier_org.id,
                currency="EUR",
                customer_id=customer.id,
                items=[order_services.ItemInput(name="Pallet", quantity=2, unit_price=total / 2)],
                shipment=COMPLETE_SHIPMENT,
            ),
            actor=Actor(user_id=customer.id),
        )


def _row(client_org, supplier_org, admin, customer, total: Decimal) -> Row:
    """An order of `customer` with a funded escrow (ledger lines), a document and a return."""
    order = _order(client_org, supplier_org, customer=customer, total=total)
    admin_actor = Actor(user_id=admin.id, organization_id=client_org.id, role=Role.ORG_ADMIN)
    with tenant_scope(client_org.id, user_id=admin.id):
        escrow = escrow_services.escrow_create(actor=admin_actor, order_id=order.id)
        funding = escrow_services.escrow_fund(actor=admin_actor, escrow_id=escrow.id)
    deliver_webhook(charge_event(funding, "charge.succeeded"))
    with tenant_scope(client_org.id, user_id=admin.id):
        document = document_services.document_generate(
            organization_id=client_org.id, actor=admin_actor, order_id=order.id, document_type="cmr"
        )
    with system_scope(reason="test: the order was delivered", audit=False):
        Order.objects.filter(pk=order.pk).update(status="delivered")
    customer_actor = Actor(user_id=customer.id, organization_id=client_org.id, role=Role.CUSTOMER)
    with tenant_scope(client_org.id, user_id=customer.id):
        item = order.items.get()
        order_return = order_services.return_request(
            actor=customer_actor,
            order_id=order.id,
            reason="Damaged",
            items=[order_services.ReturnItemInput(order_item_id=item.id, quantity=1)],
            photos=[],
        )
    return Row(order, item.id, escrow.id, document.id, order_return.id, total)


def _parties():
    client_org = OrganizationFactory(name="Baltic Buyers")
    supplier_org = OrganizationFactory(name="Volga Sellers")
    for organization in (client_org, supplier_org):
        VerificationFactory(organization=organization)
    return client_org, supplier_org, member(client_org, Role.ORG_ADMIN)


def _world(api, role) -> World:
    client_org, supplier_org, admin = _parties()
    user, colleague = member(client_org, role), member(client_org, role)
    rows = {
        "own": _row(client_org, supplier_org, admin, user, OWN_TOTAL),
        "other": _row(client_org, supplier_org, admin, colleague, OTHER_TOTAL),
    }
    return World(api(user, client_org), rows)


def _listed(response, row_id) -> str | int:
    if response.status_code != 200:
        return response.status_code
    return LISTED if str(row_id) in {str(item["id"]) for item in response.json()["data"]} else HIDDEN


def _money_post(client, url: str, body: dict):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def _outcome(world: World, action: str, row: Row) -> str | int:
    client = world.client
    if action == "order:list":
        return _listed(client.get("/api/v1/orders"), row.order.id)
    if action == "order:read":
        return client.get(f"/api/v1/orders/{row.order.id}").status_code
    if action == "escrow:list":
        return _listed(client.get("/api/v1/payments/escrow"), row.escrow_id)
    if action == "escrow:read":
        return client.get(f"/api/v1/payments/escrow/{row.escrow_id}/status").status_code
    if action == "escrow:release":
        return _money_post(client, f"/api/v1/payments/escrow/{row.escrow_id}/release", {}).status_code
    if action == "dispute:open":
        body = {
            "order_id": str(row.order.id),
            "reason_category": "late",
            "description": "Late",
            "outcome_requested": "other",
        }
        return client.post("/api/v1/disputes", body, format="json").status_code
    if action == "ledger:statement":
        response = client.get("/api/v1/payments/statement")
        if response.status_code != 200:
            return response.status_code
        return LISTED if str(row.escrow_id) in {line["escrow_id"] for line in response.json()["data"]} else HIDDEN
    if action == "ledger:balances":
        response = client.get("/api/v1/payments/balances")
        if response.status_code != 200:
            return response.status_code
        held = sum((Decimal(balance["held"]) for balance in response.json()["data"]), Decimal(0))
        return LISTED if held in (row.total, OWN_TOTAL + OTHER_TOTAL) else HIDDEN
    if action == "document:list":
        return _listed(client.get("/api/v1/documents"), row.document_id)
    if action == "document:read":
        return client.get(f"/api/v1/documents/{row.document_id}").status_code
    if action == "return:list":
        return _listed(client.get("/api/v1/returns"), row.return_id)
    if action == "return:read":
        return client.get(f"/api/v1/returns/{row.return_id}").status_code
    if action == "return:create":
        body = {"order": str(row.order.id), "reason": "Wrong", "items": [{"order_item": row.item_id, "quantity": 1}]}
        return client.post("/api/v1/returns", body, format="json").status_code
    raise AssertionError(f"unknown action {action}")


@pytest.mark.parametrize(("role", "action"), list(TABLE), ids=[f"{role}-{action}" for role, action in TABLE])
def test_role_reaches_own_and_other_rows_as_the_table_says(api, role, action):
    # given an order of the user and one of a colleague with the same role, each with a
    # funded escrow, a document and a return
    world = _world(api, role)
    # when the user acts on each
    outcome = (_outcome(world, action, world.rows["own"]), _outcome(world, action, world.rows["other"]))
    # then the API answers as the table says
    assert outcome == TABLE[(role, action)]


def test_a_member_who_cannot_read_orders_reaches_no_escrow_even_with_escrow_read(api):
    # given an expert (no order:read) granted escrow:read one by one
    client_org, _supplier_org, _admin = _parties()
    expert = member(client_org, Role.EXPERT, extra_permissions=["escrow:read"])
    # when they list the escrows
    response = api(expert, client_org).get("/api/v1/payments/escrow")
    # then a child is never wider than its parent: refused
    assert (response.status_code, response.json()["error_code"]) == (403, "RBAC_PERMISSION_DENIED")


# savepoint, user scope, user+memberships, tenant scope, then the reads, release, restore
# (as tests/escrow/test_api.py counts them): the own limit is a join, not another query
@pytest.mark.parametrize(("path", "queries"), [("/api/v1/payments/escrow", 7), ("/api/v1/payments/statement", 7)])
def test_an_own_scoped_list_runs_the_same_number_of_queries_for_1_or_3_own_rows(
    api, django_assert_num_queries, path, queries
):
    client_org, supplier_org, admin = _parties()
    buyer, colleague = member(client_org, Role.BUYER), member(client_org, Role.BUYER)
    client = api(buyer, client_org)
    _row(client_org, supplier_org, admin, colleague, OTHER_TOTAL)
    counts = []
    for added in (1, 2):
        for _ in range(added):
            _row(client_org, supplier_org, admin, buyer, OWN_TOTAL)
        client.get(path)  # warms the cached feature flags
        with django_assert_num_queries(queries):
            response = client.get(path)
        counts.append(len({row.get("escrow_id", row["id"]) for row in response.json()["data"]}))
    assert counts == [1, 3]


# --- the matrix itself ---------------------------------------------------------------------------

# Resources that hang from an order: their reach is never wider than the order's.
ORDER_CHILDREN = ("escrow", "document", "return", "package", "dispute", "chat", "tracking")
ACTIONS = ("read", "create", "update", "delete", "fund", "release", "refund", "receive", "cancel")


@pytest.mark.parametrize("role", list(MATRIX))
def test_no_role_reaches_a_child_of_an_order_further_than_the_order(role):
    order_reach = grant_for(role, [], "order:read")
    wider = [
        f"{resource}:{action}"
        for resource in ORDER_CHILDREN
        for action in ACTIONS
        if grant_for(role, [], f"{resource}:{action}").value > order_reach.value
    ]
    assert wider == []


@pytest.mark.parametrize("role", list(MATRIX))
def test_no_role_acts_on_a_resource_it_cannot_read(role):
    held = {permission.split(":")[0] for permission in MATRIX[role] if permission.split(":")[0] != "*"}
    unreadable = sorted(resource for resource in held if grant_for(role, [], f"{resource}:read") is Grant.NONE)
    assert unreadable == []
