"""The role → permission matrix."""

import pytest

from apps.tenancy.roles import MATRIX, Grant, Role, grant_for, is_valid_permission


def test_every_role_has_an_entry_in_the_matrix():
    assert set(MATRIX) == set(Role.values)


def test_org_admin_holds_everything():
    assert grant_for(Role.ORG_ADMIN, [], "escrow:release") is Grant.ALL


def test_own_grant_is_narrower_than_all():
    assert grant_for(Role.CUSTOMER, [], "order:read") is Grant.OWN
    assert grant_for(Role.CUSTOMER, ["order:read"], "order:read") is Grant.ALL


def test_a_role_without_the_permission_gets_none():
    assert grant_for(Role.WAREHOUSE_STAFF, [], "escrow:release") is Grant.NONE


def test_wildcard_action_covers_any_action_of_its_resource():
    assert grant_for(Role.SHIPPER, [], "rfq:cancel") is Grant.ALL
    assert grant_for(Role.SHIPPER, [], "service:update") is Grant.NONE


@pytest.mark.parametrize("permission", ["order:read", "order:read:own", "*:*"])
def test_valid_permissions(permission):
    assert is_valid_permission(permission)


@pytest.mark.parametrize("permission", ["order", "order:read:mine", ":read", "a:b:c:d", "order::own"])
def test_invalid_permissions(permission):
    assert not is_valid_permission(permission)
