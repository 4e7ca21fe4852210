"""The all-tenants scope as a role of its own (docs/decisions/0006-rls-bypass-role.md).

Tenant policies are plain equalities the planner uses as index conditions; `system_scope`
switches the application's connection to the NOLOGIN all-tenants role for its transaction
only, and nothing else in the application switches roles.
"""

import ast
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from apps.core.context import Scope, activate, system_scope, tenant_scope
from apps.core.rls import all_tenants_role
from tests.factories import OrganizationFactory

APPS = Path(__file__).resolve().parents[2] / "apps"
TENANTS = 20
ROWS = 4000


def _one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _role() -> tuple[str, str]:
    """(current_user, the `role` setting): ('manifest_app', 'none') outside any SET ROLE."""
    return _one("SELECT current_user, current_setting('role')")


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


# --- The planner uses the policy ------------------------------------------------------------


def test_a_list_relying_on_the_policy_alone_is_an_index_scan_on_organization_id(committed):
    organizations = [OrganizationFactory() for _ in range(TENANTS)]
    with connections["owner"].cursor() as cursor:  # the owner: rows of every tenant, then fresh statistics
        cursor.execute(
            "INSERT INTO orders_product (id, organization_id, external_url, title, currency, source_platform,"
            " created_at, updated_at)"
            " SELECT gen_random_uuid(), (%s::uuid[])[1 + n %% %s], 'https://shop.example/' || n, '', '', 'other',"
            " now() - make_interval(secs => n), now()"
            " FROM generate_series(1, %s) AS n",
            [[organization.id for organization in organizations], TENANTS, ROWS],
        )
        cursor.execute("ANALYZE orders_product")
    tenant = organizations[0].id
    # No WHERE: the tenant policy alone narrows the rows, as in a selector that forgot its filter.
    query = "SELECT id, organization_id FROM orders_product ORDER BY created_at DESC LIMIT 20"
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}")
        plan = cursor.fetchone()[0]
        cursor.execute(query)
        rows = cursor.fetchall()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = list(_nodes(plan[0]["Plan"]))
    scans = [node for node in nodes if node.get("Relation Name") == "orders_product"]
    assert [node["Node Type"] for node in scans] in (["Index Scan"], ["Index Only Scan"]), scans
    assert (
        "organization_id = (InitPlan 1).col1" in scans[0]["Index Cond"]
        or "organization_id = $0" in (scans[0]["Index Cond"])
    ), scans[0]
    assert not any(node["Node Type"] in {"Seq Scan", "Sort"} for node in nodes), nodes
    assert len(rows) == 20 and {row[1] for row in rows} == {tenant}


def test_no_policy_for_the_application_role_has_a_bypass_arm(db):
    """The bypass setting appears only in the `all_tenants` policies, which are not the application role's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, policyname, roles::text[], coalesce(qual, '') || ' ' || coalesce(with_check, '')"
            " FROM pg_policies WHERE schemaname = 'public'"
        )
        policies = cursor.fetchall()
    assert policies
    for table, name, roles, expressions in policies:
        if "app_rls_bypass" in expressions:
            assert name.startswith("all_tenants"), (table, name, expressions)
        if name.startswith("all_tenants"):
            assert all_tenants_role() in roles and "public" not in roles, (table, name, roles)
            assert settings.APP_DB_USER not in roles, (table, name, roles)


# --- The role: what it is, when the connection has it ---------------------------------------


def test_the_all_tenants_role_cannot_log_in_bypasses_nothing_and_is_reached_only_by_set_role(db):
    login, superuser, bypass = _one(
        "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [all_tenants_role()]
    )
    assert (login, superuser, bypass) == (False, False, False)
    inherit, set_option, admin = _one(
        "SELECT m.inherit_option, m.set_option, m.admin_option FROM pg_auth_members m"
        " WHERE m.roleid = %s::regrole AND m.member = %s::regrole",
        [all_tenants_role(), settings.APP_DB_USER],
    )
    assert (inherit, set_option, admin) == (False, True, False)


def test_system_scope_runs_as_the_all_tenants_role_and_hands_the_application_role_back(db):
    application = (settings.APP_DB_USER, "none")
    assert _role() == application
    with system_scope(reason="test: the role", audit=False):
        assert _role() == (all_tenants_role(), all_tenants_role())
    assert _role() == application
    with tenant_scope(None):
        with system_scope(reason="test: nested", audit=False):
            assert _role() == (all_tenants_role(), all_tenants_role())
        assert _role() == application
    with pytest.raises(RuntimeError, match="boom"), system_scope(reason="test: an error", audit=False):
        assert _role() == (all_tenants_role(), all_tenants_role())
        raise RuntimeError("boom")
    assert _role() == application


def test_the_role_ends_with_the_transaction_on_a_reused_connection(committed):
    """Top level: SET LOCAL ROLE dies at COMMIT and at ROLLBACK; the next transaction is the app role's."""
    application = (settings.APP_DB_USER, "none")
    with system_scope(reason="test: commit", audit=False):
        assert _role() == (all_tenants_role(), all_tenants_role())
    assert _role() == application
    with pytest.raises(RuntimeError), system_scope(reason="test: rollback", audit=False):
        raise RuntimeError("rolled back")
    assert _role() == application
    with transaction.atomic():
        assert _role() == application


def test_the_all_tenants_role_without_the_bypass_setting_sees_no_tenant_rows(db):
    """Two locks: the role alone (a stray SET ROLE) opens nothing; system_scope sets both."""
    organization = OrganizationFactory()
    with activate(Scope()), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{all_tenants_role()}"')
        cursor.execute("SELECT count(*) FROM tenancy_organization WHERE id = %s", [organization.id])
        assert cursor.fetchone()[0] == 0
    with system_scope(reason="test: both", audit=False), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_organization WHERE id = %s", [organization.id])
        assert cursor.fetchone()[0] == 1


def test_the_bypass_setting_alone_opens_nothing_to_the_application_role(db):
    organization = OrganizationFactory()
    with activate(Scope()), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
        cursor.execute("SELECT count(*) FROM tenancy_organization WHERE id = %s", [organization.id])
        assert cursor.fetchone()[0] == 0


# --- Only system_scope switches the role ------------------------------------------------------

ROLE_SWITCH = re.compile(r"\bSET\s+(?:LOCAL\s+|SESSION\s+)?ROLE\b|set_config\(\s*'role'|\bRESET\s+ROLE\b", re.I)


def _code_strings(tree: ast.AST) -> list[str]:
    """Every string literal of a module but its docstrings (SQL is in strings; prose is in docstrings)."""
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_only_the_scope_code_switches_the_role():
    """PostgreSQL lets any SQL the application role runs SET ROLE to a role granted to it; the
    application's code does it in one place, `apps.core.context._apply` (migrations included)."""
    switching = sorted(
        (str(path.relative_to(APPS.parent)), text)
        for path in APPS.rglob("*.py")
        for text in _code_strings(ast.parse(path.read_text()))
        if ROLE_SWITCH.search(text)
    )
    assert [path for path, _ in switching] == ["apps/core/context.py"], switching


def _calls(tree: ast.AST, function: str = "<module>"):
    """(innermost enclosing function, call) for every call of a module."""
    for child in ast.iter_child_nodes(tree):
        inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
        if isinstance(child, ast.Call):
            yield function, child
        yield from _calls(child, inner)


def test_the_bypass_scope_is_built_only_by_system_scope():
    """`_apply` switches to the all-tenants role for a scope with a bypass reason; only
    `system_scope` (which logs and audits) builds one, and only `_role` names the role at runtime."""
    offenders = []
    for path in APPS.rglob("*.py"):
        module = str(path.relative_to(APPS.parent))
        for function, call in _calls(ast.parse(path.read_text())):
            name = getattr(call.func, "id", getattr(call.func, "attr", None))
            bypass = name == "Scope" and any(keyword.arg == "bypass_reason" for keyword in call.keywords)
            if bypass and (module, function) != ("apps/core/context.py", "system_scope"):
                offenders.append((module, function, "Scope(bypass_reason=...)"))
            if name == "all_tenants_role" and module == "apps/core/context.py" and function != "_role":
                offenders.append((module, function, "all_tenants_role()"))
    assert offenders == []
