"""Isolation across requests that share one database connection (real commits)."""

from django.db import connection

from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, member


def test_two_requests_for_different_tenants_on_one_connection_never_share_a_tenant(committed, api):
    organization_a, organization_b = OrganizationFactory(), OrganizationFactory()
    user_a, user_b = member(organization_a), member(organization_b)
    MembershipFactory(organization=organization_a, role=Role.CARRIER)

    first = api(user_a).get(f"/api/v1/organizations/{organization_a.id}/members")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('app.current_tenant', true)")
        pid_after_first, tenant_after_first = cursor.fetchone()
    second = api(user_b).get(f"/api/v1/organizations/{organization_a.id}/members")
    third = api(user_b).get(f"/api/v1/organizations/{organization_b.id}/members")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_setting('app.current_tenant', true)")
        pid_after_third, tenant_after_third = cursor.fetchone()

    assert first.json()["meta"]["total"] == 2
    assert tenant_after_first in ("", None)
    assert second.status_code == 404
    assert [row["user"]["id"] for row in third.json()["data"]] == [str(user_b.id)]
    assert pid_after_first == pid_after_third, "the requests did not share a connection; the test proves nothing"
    assert tenant_after_third in ("", None)
