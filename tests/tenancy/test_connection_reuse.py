"""Isolation across requests that share one database connection (real commits)."""

import pytest
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


def test_prepared_statements_reused_across_tenants_show_each_tenant_only_its_rows(committed, api):
    # Given two tenants served alternately on one connection, more often than the prepare
    # threshold, so that their list queries run as the same prepared statements
    if connection.settings_dict["OPTIONS"].get("prepare_threshold") is None:
        pytest.skip("prepared statements are off (DB_PREPARE_THRESHOLD=off)")
    organization_a, organization_b = OrganizationFactory(), OrganizationFactory()
    user_a, user_b = member(organization_a), member(organization_b)
    MembershipFactory(organization=organization_b, role=Role.CARRIER)
    rounds = connection.settings_dict["OPTIONS"]["prepare_threshold"] + 3

    # When each asks for its members
    seen = {"a": set(), "b": set()}
    totals = {"a": set(), "b": set()}
    for _ in range(rounds):
        for name, user, organization in (("a", user_a, organization_a), ("b", user_b, organization_b)):
            page = api(user).get(f"/api/v1/organizations/{organization.id}/members").json()
            seen[name] |= {row["user"]["id"] for row in page["data"]}
            totals[name].add(page["meta"]["total"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%tenancy_membership%%'")
        prepared = cursor.fetchone()[0]

    # Then the plans were reused, and never with the other tenant's rows
    assert prepared > 0, "nothing was prepared; the test proves nothing"
    assert str(user_b.id) not in seen["a"] and str(user_a.id) not in seen["b"]
    assert totals == {"a": {1}, "b": {2}}
