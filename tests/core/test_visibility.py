"""`Model.objects.visible_to(organization_id)`: derived from each model's `row_visibility`, and
the only place a two-party filter is written (apps/core/visibility.py)."""

import ast
from functools import reduce
from operator import or_
from pathlib import Path
from uuid import uuid4

import pytest
from django.apps import apps
from django.db.models import Q

from apps.core.models import AuditLog
from apps.core.rls import SharedByParties, Visibility
from apps.core.visibility import VisibleQuerySet
from apps.orders.models import Order, Warehouse
from apps.tenancy.models import Organization

APPS = Path(__file__).resolve().parents[2] / "apps"
# The one function that turns a visibility declaration into a filter lives here.
VISIBILITY_MODULE = APPS / "core" / "visibility.py"


def _declared():
    return [model for model in apps.get_models() if isinstance(getattr(model, "row_visibility", None), Visibility)]


def _where(queryset) -> str:
    return str(queryset.query).partition(" WHERE ")[2]


def test_every_model_with_a_visibility_has_visible_to_on_its_default_manager():
    missing = [
        model._meta.label
        for model in _declared()
        if not isinstance(model._default_manager.all(), VisibleQuerySet) or model.objects is not model._default_manager
    ]
    assert missing == [], f"the default manager must build on VisibleQuerySet: {missing}"


@pytest.mark.parametrize("model", [m for m in _declared() if isinstance(m.row_visibility, SharedByParties)], ids=str)
def test_a_two_party_list_is_the_filter_the_selectors_wrote_by_hand(model):
    organization_id = uuid4()
    by_hand = reduce(or_, (Q(**{column: organization_id}) for column in model.row_visibility.party_columns))
    assert _where(model.objects.visible_to(organization_id)) == _where(model.objects.filter(by_hand))


def test_owned_tenant_root_and_append_only_rows_are_filtered_on_their_one_column():
    organization_id = uuid4()
    assert _where(Warehouse.objects.visible_to(organization_id)) == _where(
        Warehouse.objects.filter(organization_id=organization_id)
    )
    assert _where(Organization.objects.visible_to(organization_id)) == _where(
        Organization.objects.filter(id=organization_id)
    )
    assert _where(AuditLog.objects.visible_to(organization_id)) == _where(
        AuditLog.objects.filter(organization_id=organization_id)
    )
    where = _where(Order.objects.visible_to(organization_id))
    assert "client_organization_id" in where and "supplier_organization_id" in where and " OR " in where


def test_personal_rows_are_nobody_organizations():
    personal = next(m for m in _declared() if m.row_visibility.tenant_columns == ())
    with pytest.raises(TypeError, match="belong to a person"):
        personal.objects.visible_to(uuid4())


# --- No hand-written two-party filter -------------------------------------------------------------


def _party_sets() -> list[frozenset[str]]:
    return list(
        {
            frozenset(model.row_visibility.party_columns)
            for model in _declared()
            if isinstance(model.row_visibility, SharedByParties) and len(model.row_visibility.party_columns) > 1
        }
    )


def _columns_named(call: ast.Call, columns: set[str]) -> set[str]:
    """Party columns a call's keywords compare (`offers__carrier_organization_id=` and the
    relation's name, `client_organization=`, count too)."""
    named = set()
    for keyword in call.keywords:
        for part in (keyword.arg or "").split("__"):
            named |= {column for column in columns if part in (column, column.removesuffix("_id"))}
    return named


def _is_q(call: ast.Call) -> bool:
    function = call.func
    return (isinstance(function, ast.Name) and function.id == "Q") or (
        isinstance(function, ast.Attribute) and function.attr == "Q"
    )


def _or_operands(node: ast.AST):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _or_operands(node.left)
        yield from _or_operands(node.right)
    else:
        yield node


def two_party_filters(source: str, party_sets: list[frozenset[str]]) -> list[int]:
    """Lines that OR filters on two columns of one party set, written out: `Q(a=…) | Q(b=…)`,
    `qs.filter(a=…) | qs.filter(b=…)`, or Q objects on both columns built in one function and
    combined there with `|`."""
    tree = ast.parse(source)
    all_columns = set().union(*party_sets)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            named = set()
            for operand in _or_operands(node):
                for call in (n for n in ast.walk(operand) if isinstance(n, ast.Call)):
                    named |= _columns_named(call, all_columns)
            if any(len(named & parties) > 1 for parties in party_sets):
                found.add(node.lineno)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inner = list(ast.walk(node))
            if not any(isinstance(n, ast.BinOp | ast.AugAssign) and isinstance(n.op, ast.BitOr) for n in inner):
                continue
            named = set()
            for call in (n for n in inner if isinstance(n, ast.Call) and _is_q(n)):
                named |= _columns_named(call, all_columns)
            if any(len(named & parties) > 1 for parties in party_sets):
                found.add(node.lineno)
    return sorted(found)


def test_the_scanner_finds_the_hand_written_shapes():
    parties = [frozenset({"client_organization_id", "supplier_organization_id"})]
    shapes = [
        "Order.objects.filter(Q(client_organization_id=o) | Q(supplier_organization_id=o))",
        "x = Q(\n    client_organization_id=o\n) | Q(supplier_organization_id=o)",
        "qs.filter(client_organization_id=o) | qs.filter(supplier_organization_id=o)",
        "Package.objects.filter(Q(order__client_organization_id=o) | Q(order__supplier_organization_id=o))",
        "Escrow.objects.filter(Q(client_organization=o) | Q(supplier_organization__id=o))",
        "def f(o):\n    mine = Q(client_organization_id=o)\n    theirs = Q(supplier_organization_id=o)\n"
        "    return mine | theirs",
    ]
    for shape in shapes:
        assert two_party_filters(shape, parties), shape
    allowed = [
        "Order.objects.visible_to(o).filter(client_organization_id=o)",
        "Order.objects.create(client_organization_id=a, supplier_organization_id=b)",
        "Q(client_organization_id=a, supplier_organization_id=b)",
        "Q(organization_id=o) | Q(awarded_organization_id=o)",
    ]
    for shape in allowed:
        assert not two_party_filters(shape, parties), shape


def test_no_two_party_filter_is_written_outside_visible_to():
    party_sets = _party_sets()
    assert party_sets, "no SharedByParties declaration found"
    offenders = []
    for path in sorted(APPS.rglob("*.py")):
        if path == VISIBILITY_MODULE or "migrations" in path.parts:
            continue
        for line in two_party_filters(path.read_text(), party_sets):
            offenders.append(f"{path.relative_to(APPS.parent)}:{line}")
    assert offenders == [], (
        "use Model.objects.visible_to(organization_id) (apps/core/visibility.py), not a hand-written "
        f"party filter: {offenders}"
    )
