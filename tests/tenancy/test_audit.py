"""The audit log is append-only, whoever asks."""

import pytest
from django.db import DatabaseError, connections, transaction

from apps.core.audit import audit_record
from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db(databases=["default", "owner"])


@pytest.fixture
def audit_row():
    organization = OrganizationFactory()
    admin = member(organization)
    with tenant_scope(organization.id, user_id=admin.id):
        return audit_record(action="test.event", resource_type="test", resource_id="1")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE tenancy_auditlog SET action = 'tampered'", "DELETE FROM tenancy_auditlog", "TRUNCATE tenancy_auditlog"],
)
def test_application_role_cannot_change_audit_rows_even_in_the_all_tenants_scope(audit_row, statement):
    with (
        system_scope(reason="test: tamper", audit=False),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute(statement)

    with system_scope(reason="test: read", audit=False):
        assert AuditLog.objects.get(id=audit_row.id).action == "test.event"


@pytest.mark.parametrize(
    "statement", ["UPDATE tenancy_auditlog SET action = 'tampered'", "DELETE FROM tenancy_auditlog"]
)
def test_even_the_owner_cannot_change_audit_rows(statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute(statement)


def test_audit_row_carries_actor_organization_and_request_context(api):
    organization = OrganizationFactory()
    admin = member(organization)

    api(admin).patch(
        f"/api/v1/organizations/{organization.id}",
        {"name": "Audited"},
        format="json",
        HTTP_X_REQUEST_ID="req-audit-1",
        HTTP_USER_AGENT="pytest-agent",
    )

    with system_scope(reason="test: read", audit=False):
        row = AuditLog.objects.get(action="organization.updated", organization_id=organization.id)
    assert row.actor_id == admin.id
    assert row.request_id == "req-audit-1"
    assert row.user_agent == "pytest-agent"
    assert row.ip_address == "127.0.0.1"
    assert row.new_values == {"name": "Audited"}
    assert row.old_values["name"] != "Audited"


def test_entering_the_all_tenants_scope_is_audited(db):
    with system_scope(reason="nightly reconciliation"):
        pass

    with system_scope(reason="test: read", audit=False):
        assert AuditLog.objects.filter(action="rls.bypass", new_values__reason="nightly reconciliation").exists()


def test_a_failed_admin_login_is_audited_without_the_password(client):
    client.post("/admin/login/", {"username": "nobody@example.test", "password": "wrong-password-123"})

    with system_scope(reason="test: read", audit=False):
        row = AuditLog.objects.filter(action="auth.login_failed").latest("occurred_at")
    assert row.new_values == {"email": "nobody@example.test"}
    assert "wrong-password-123" not in str(row.new_values)
