"""The lifecycle mechanism (apps.core.lifecycle): one table type, one history model, one move()."""

from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.errors import DomainError, InvalidStateTransition
from apps.core.lifecycle import Transitions, move
from apps.core.models import AuditLog, OutboxEvent
from apps.core.provisioning import grant_application_role
from apps.orders import events
from apps.orders import services as order_services
from apps.orders.models import Order, OrderStatus, OrderStatusChange
from apps.orders.transitions import ORDER
from tests.factories import OrganizationFactory, member

TABLE = Transitions(
    {
        "draft": {"open": frozenset({"owner"}), "cancelled": frozenset({"owner"})},
        "open": {"closed": frozenset({"staff"}), "cancelled": frozenset({"owner"})},
        "closed": set(),
        "cancelled": set(),
    },
    noun="A thing",
)


# --- the table ------------------------------------------------------------------------------------


def test_a_legal_move_answers_its_rule():
    assert TABLE.check("draft", "open") == frozenset({"owner"})


def test_an_illegal_move_is_422_with_the_allowed_moves_in_details():
    with pytest.raises(InvalidStateTransition) as refused:
        TABLE.check("draft", "closed")

    assert refused.value.status_code == 422
    assert refused.value.code == "INVALID_STATE_TRANSITION"
    assert str(refused.value.message) == "A thing cannot go from draft to closed."
    assert refused.value.details == {"status": ["Allowed from draft: cancelled, open."]}


def test_nothing_leaves_a_terminal_status():
    with pytest.raises(InvalidStateTransition) as refused:
        TABLE.check("closed", "open")

    assert refused.value.details == {"status": ["Allowed from closed: none."]}
    assert TABLE.terminal() == frozenset({"closed", "cancelled"})


def test_a_move_that_is_not_whos_to_make_is_refused_and_only_whos_moves_are_listed():
    with pytest.raises(InvalidStateTransition) as refused:
        TABLE.check("open", "closed", who="owner")

    assert refused.value.details == {"status": ["Allowed from open: cancelled."]}
    assert TABLE.check("open", "closed", who="staff") == frozenset({"staff"})


def test_the_guard_speaks_before_the_table():
    class Frozen(DomainError):
        status_code = 422

    def frozen(current, target, subject):
        raise Frozen(f"{subject} is frozen.")

    guarded = Transitions({"a": {"b"}}, noun="A thing", guard=frozen)

    with pytest.raises(Frozen, match="X is frozen"):
        guarded.check("a", "b", subject="X")


def test_a_table_may_name_its_own_details():
    named = Transitions({"a": {"b"}, "b": set()}, noun="A thing", details=lambda c, t, allowed: {"to": t})

    with pytest.raises(InvalidStateTransition) as refused:
        named.check("b", "a")

    assert refused.value.details == {"to": "a"}


# --- move(): the row, its history, the audit row and the event together -----------------------------


@pytest.fixture
def party(db):
    organization = OrganizationFactory(name="Both Sides")
    return organization, member(organization)


def _draft_order(organization, admin) -> Order:
    return order_services.order_create(
        order_input=order_services.OrderInput(
            kind="freight",
            client_organization_id=organization.id,
            supplier_organization_id=organization.id,
            currency="EUR",
            items=[order_services.ItemInput(name="Pallet", quantity=1, unit_price=Decimal("10"))],
        ),
        actor=Actor(user_id=admin.id),
    )


def _submit(order: Order, actor: Actor):
    return move(
        order,
        OrderStatus.PENDING,
        transitions=ORDER[order.kind],
        actor=actor,
        reason="Ready.",
        save=["updated_at"],
        audit={"action": "order.status_changed", "resource_type": "order", "organization_id": actor.organization_id},
        event=lambda: events.OrderStatusChanged(
            organization_id=actor.organization_id,
            order_id=str(order.id),
            number=order.number,
            kind=order.kind,
            party_organization_ids=[str(actor.organization_id)],
            from_status=OrderStatus.DRAFT,
            to_status=order.status,
            note="Ready.",
        ),
    )


def _written(order_id, organization_id):
    with system_scope(reason="test: read what the move wrote", audit=False):
        return (
            Order.objects.get(pk=order_id).status,
            list(OrderStatusChange.objects.filter(order_id=order_id).values_list("from_status", "to_status", "reason")),
            AuditLog.objects.filter(resource_id=str(order_id), action="order.status_changed").count(),
            OutboxEvent.objects.filter(organization_id=organization_id, event_type="order.status_changed").count(),
        )


def test_a_move_writes_the_status_its_history_row_its_audit_row_and_its_event(party):
    organization, admin = party
    with tenant_scope(organization.id, user_id=admin.id):
        order = _draft_order(organization, admin)

        row = _submit(order, Actor(user_id=admin.id, organization_id=organization.id))

    assert (row.from_status, row.to_status, row.by_id, row.reason) == ("draft", "pending", admin.id, "Ready.")
    assert row.at is not None
    assert _written(order.id, organization.id) == (
        "pending",
        [("", "draft", ""), ("draft", "pending", "Ready.")],
        1,
        1,
    )


def test_a_failure_after_the_move_rolls_back_the_status_history_audit_and_event(party):
    organization, admin = party
    with tenant_scope(organization.id, user_id=admin.id):
        order = _draft_order(organization, admin)
        with pytest.raises(RuntimeError), transaction.atomic():
            _submit(order, Actor(user_id=admin.id, organization_id=organization.id))
            raise RuntimeError("the use case fails after the move")

    assert _written(order.id, organization.id) == ("draft", [("", "draft", "")], 0, 0)


def test_an_illegal_move_changes_nothing(party):
    organization, admin = party
    with tenant_scope(organization.id, user_id=admin.id):
        order = _draft_order(organization, admin)
        with pytest.raises(InvalidStateTransition) as refused:
            move(order, OrderStatus.DELIVERED, transitions=ORDER[order.kind], actor=Actor.system(), save=[])

    assert refused.value.details == {"status": ["Allowed from draft: cancelled, pending."]}
    assert _written(order.id, organization.id) == ("draft", [("", "draft", "")], 0, 0)


def test_the_system_moves_as_no_user(party):
    organization, admin = party
    with tenant_scope(organization.id, user_id=admin.id):
        order = _draft_order(organization, admin)
        row = move(order, OrderStatus.CANCELLED, transitions=ORDER[order.kind], actor=Actor.system(), save=[])

    assert (row.by_id, row.client_organization_id, row.supplier_organization_id) == (
        None,
        organization.id,
        organization.id,
    )


# --- the migration to the shared history columns keeps every row ------------------------------------


def test_a_history_row_written_before_the_rename_reads_after_it(committed):
    organization = OrganizationFactory(name="Before The Rename")
    admin = member(organization)
    with tenant_scope(organization.id, user_id=admin.id), transaction.atomic():
        order = _draft_order(organization, admin)
    owner = connections["owner"]  # migrations run as the tables' owner
    executor = MigrationExecutor(owner)
    executor.migrate([("orders", "0005_money_three_decimal_places")])
    try:
        # The columns as they were: actor, note, created_at.
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SET LOCAL app.rls_bypass = 'on'")
            cursor.execute(
                "INSERT INTO orders_orderstatuschange (order_id, client_organization_id, supplier_organization_id,"
                " from_status, to_status, actor_id, note, created_at)"
                " VALUES (%s, %s, %s, 'draft', 'pending', %s, 'Kept.', now())",
                [order.id, organization.id, organization.id, admin.id],
            )
    finally:
        executor = MigrationExecutor(owner)
        executor.migrate(executor.loader.graph.leaf_nodes())
        # `migrate` would grant the tables it re-created (post_migrate); the executor does not.
        grant_application_role(using="owner")

    with system_scope(reason="test: read the migrated history", audit=False):
        kept = OrderStatusChange.objects.filter(order_id=order.id, reason="Kept.").get()
    assert (kept.from_status, kept.to_status, kept.by_id) == ("draft", "pending", admin.id)
    assert kept.at is not None
