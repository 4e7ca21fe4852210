"""The tenancy API as its users meet it: me, organizations, members, features."""

import uuid

import pytest

from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, MembershipFactory, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def audit_actions(organization_id) -> list[str]:
    with system_scope(reason="test: read audit", audit=False):
        return list(
            AuditLog.objects.filter(organization_id=organization_id)
            .order_by("occurred_at")
            .values_list("action", flat=True)
        )


# --- me and organizations -------------------------------------------------------------------


def test_me_returns_the_user_with_each_membership_and_its_permissions(api):
    organization = OrganizationFactory()
    user = member(organization, role=Role.SHIPPER)

    body = api(user).get("/api/v1/me").json()

    assert body["email"] == user.email
    (membership,) = body["memberships"]
    assert membership["organization"]["id"] == str(organization.id)
    assert membership["role"] == "shipper"
    assert "rfq:*" in membership["permissions"]


def test_organizations_lists_only_the_users_own(api):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    user = member(mine)
    MembershipFactory(organization=mine, user=UserFactory(), role=Role.CARRIER)
    member(theirs)

    body = api(user).get("/api/v1/organizations").json()

    assert [row["id"] for row in body["data"]] == [str(mine.id)]
    assert body["meta"] == {"total": 1, "totalIsExact": True, "page": 1, "limit": 20, "totalPages": 1, "next": None}


def test_anonymous_request_gets_401_in_the_envelope(api):
    response = api().get("/api/v1/organizations")

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


def test_garbage_bearer_token_gets_401_token_invalid(api):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = client.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error_code"] == "AUTH_TOKEN_INVALID"


# --- the tenant header --------------------------------------------------------------------


def test_malformed_organization_header_is_400_field_invalid(api):
    user = member()

    response = api(user, organization="not-a-uuid").get("/api/v1/me")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"


def test_header_naming_an_organization_the_user_is_not_in_is_403_tenant_access_denied(api):
    user = member()
    elsewhere = OrganizationFactory()

    response = api(user, organization=elsewhere).get("/api/v1/me")

    assert response.status_code == 403
    assert response.json()["error_code"] == "TENANT_ACCESS_DENIED"


def test_header_naming_an_inactive_membership_is_denied(api):
    organization = OrganizationFactory()
    membership = MembershipFactory(organization=organization, is_active=False)

    response = api(membership.user, organization=organization).get("/api/v1/me")

    assert response.status_code == 403


# --- cross-tenant reads are 404 -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/organizations/{b}",
        "/api/v1/organizations/{b}/members",
        "/api/v1/organizations/{b}/features",
        "/api/v1/organizations/{b}/members/{b_member}",
    ],
)
@pytest.mark.parametrize("method", ["get", "patch", "post", "delete"])
def test_member_of_a_gets_404_for_every_verb_on_bs_resources(api, path, method):
    organization_a, organization_b = OrganizationFactory(), OrganizationFactory()
    user_a = member(organization_a)
    b_admin = MembershipFactory(organization=organization_b)
    url = path.format(b=organization_b.id, b_member=b_admin.id)

    response = getattr(api(user_a), method)(url, {}, format="json")

    assert response.status_code in (404, 405), response.content
    if response.status_code == 404:
        assert response.json()["error_code"] == "NOT_FOUND"
    with system_scope(reason="test: check", audit=False):
        assert Membership.objects.get(id=b_admin.id).is_active


def test_unknown_organization_id_is_404(api):
    user = member()

    response = api(user).get(f"/api/v1/organizations/{uuid.uuid4()}")

    assert response.status_code == 404


# --- organization update --------------------------------------------------------------------


def test_org_admin_updates_the_organization_and_the_change_is_audited(api):
    organization = OrganizationFactory(name="Old name")
    admin = member(organization)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}", {"name": "New name", "country": "FR"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "New name"
    assert "organization.updated" in audit_actions(organization.id)


def test_shipper_may_read_but_not_update_the_organization(api):
    organization = OrganizationFactory(name="Same")
    shipper = member(organization, role=Role.SHIPPER)
    client = api(shipper)

    assert client.get(f"/api/v1/organizations/{organization.id}").status_code == 200
    response = client.patch(f"/api/v1/organizations/{organization.id}", {"name": "Changed"}, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert client.get(f"/api/v1/organizations/{organization.id}").json()["name"] == "Same"


def test_invalid_update_is_400_with_field_details_and_changes_nothing(api):
    organization = OrganizationFactory(name="Kept", country="DE")
    admin = member(organization)
    client = api(admin)

    response = client.patch(
        f"/api/v1/organizations/{organization.id}", {"name": "Other", "country": "Germany"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "country" in body["details"]
    assert client.get(f"/api/v1/organizations/{organization.id}").json()["name"] == "Kept"


# --- members --------------------------------------------------------------------------------


def test_org_admin_invites_an_address_and_nobody_joins_until_they_accept(api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin).post(
        f"/api/v1/organizations/{organization.id}/members",
        {"email": "New.Person@Example.test", "role": "carrier"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new.person@example.test"
    assert response.json()["role"] == "carrier"
    assert response.json()["status"] == "pending"
    assert "user" not in response.json()
    assert api(admin).get(f"/api/v1/organizations/{organization.id}/members").json()["meta"]["total"] == 1
    assert "invitation.created" in audit_actions(organization.id)


def test_inviting_an_existing_member_is_400_and_adds_nothing(api):
    organization = OrganizationFactory()
    admin = member(organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/members"

    response = client.post(url, {"email": admin.email, "role": "carrier"}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert client.get(url).json()["meta"]["total"] == 1


def test_invite_with_missing_fields_is_400_field_required(api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin).post(f"/api/v1/organizations/{organization.id}/members", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"
    assert set(response.json()["details"]) == {"email", "role"}


def test_carrier_cannot_invite(api):
    organization = OrganizationFactory()
    carrier = member(organization, role=Role.CARRIER)

    response = api(carrier).post(
        f"/api/v1/organizations/{organization.id}/members",
        {"email": "x@example.test", "role": "carrier"},
        format="json",
    )

    assert response.status_code == 403


def test_org_admin_changes_a_members_role_and_extra_permissions(api):
    organization = OrganizationFactory()
    admin = member(organization)
    colleague = MembershipFactory(organization=organization, role=Role.CARRIER)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}/members/{colleague.id}",
        {"role": "shipper", "extra_permissions": ["escrow:release", "order:read:own"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["role"] == "shipper"
    assert "escrow:release" in response.json()["permissions"]


def test_malformed_extra_permission_is_400(api):
    organization = OrganizationFactory()
    admin = member(organization)
    colleague = MembershipFactory(organization=organization, role=Role.CARRIER)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}/members/{colleague.id}",
        {"extra_permissions": ["everything"]},
        format="json",
    )

    assert response.status_code == 400
    assert "extra_permissions" in response.json()["details"]


def test_deactivated_member_loses_access(api):
    organization = OrganizationFactory()
    admin = member(organization)
    colleague = MembershipFactory(organization=organization, role=Role.CARRIER)

    response = api(admin).delete(f"/api/v1/organizations/{organization.id}/members/{colleague.id}")

    assert response.status_code == 204
    assert api(colleague.user).get(f"/api/v1/organizations/{organization.id}").status_code == 404
    assert "member.deactivated" in audit_actions(organization.id)


def test_the_last_org_admin_cannot_be_demoted_or_deactivated(api):
    organization = OrganizationFactory()
    own_membership = MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    client = api(own_membership.user)
    url = f"/api/v1/organizations/{organization.id}/members/{own_membership.id}"

    demote = client.patch(url, {"role": "carrier"}, format="json")
    deactivate = client.delete(url)

    assert demote.status_code == 422
    assert deactivate.status_code == 422
    assert client.get(f"/api/v1/organizations/{organization.id}/members").json()["data"][0]["role"] == "org_admin"


def test_member_list_runs_the_same_number_of_queries_for_3_or_30_members(api, django_assert_num_queries):
    organization = OrganizationFactory()
    admin = member(organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/members?limit=50"
    MembershipFactory.create_batch(2, organization=organization, role=Role.CARRIER)
    client.get(url)  # warm caches that are not per request

    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    # (the savepoint and restore only because the test itself runs inside a transaction)
    with django_assert_num_queries(7) as few:
        assert client.get(url).json()["meta"]["total"] == 3
    MembershipFactory.create_batch(27, organization=organization, role=Role.SHIPPER)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(url).json()["meta"]["total"] == 30


# --- idempotency ------------------------------------------------------------------------------


def test_retried_invite_with_the_same_idempotency_key_replays_the_first_response(api):
    organization = OrganizationFactory()
    admin = member(organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/members"
    body = {"email": "retry@example.test", "role": "carrier"}

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="invite-1")
    second = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="invite-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert client.get(f"/api/v1/organizations/{organization.id}/invitations").json()["meta"]["total"] == 1


def test_same_idempotency_key_with_another_body_is_422(api):
    organization = OrganizationFactory()
    admin = member(organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/members"
    client.post(url, {"email": "one@example.test", "role": "carrier"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = client.post(
        url, {"email": "two@example.test", "role": "carrier"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    invitations = client.get(f"/api/v1/organizations/{organization.id}/invitations").json()
    assert [row["email"] for row in invitations["data"]] == ["one@example.test"]


# --- feature flags --------------------------------------------------------------------------


def test_features_list_every_catalogued_flag_with_its_state(api):
    organization = OrganizationFactory()
    admin = member(organization)
    FeatureFactory(organization=organization, name="assisted_purchase", is_entitled=True, is_enabled=True)

    body = api(admin).get(f"/api/v1/organizations/{organization.id}/features").json()

    states = {row["name"]: row for row in body["data"]}
    assert body["meta"] == {
        "total": len(states),
        "totalIsExact": True,
        "page": 1,
        "limit": 20,
        "totalPages": 1,
        "next": None,
    }
    assert states["assisted_purchase"]["is_active"] is True
    assert states["self_purchase"]["is_active"] is False
    assert "cold_chain" in states


def test_org_admin_switches_an_entitled_flag_and_the_next_read_sees_it(api):
    organization = OrganizationFactory()
    admin = member(organization)
    FeatureFactory(organization=organization, name="self_purchase", is_entitled=True, is_enabled=False)
    client = api(admin)
    client.get(f"/api/v1/organizations/{organization.id}/features")  # fills the cache

    response = client.patch(
        f"/api/v1/organizations/{organization.id}/features/self_purchase", {"enabled": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is True
    states = {r["name"]: r for r in client.get(f"/api/v1/organizations/{organization.id}/features").json()["data"]}
    assert states["self_purchase"]["is_enabled"] is True
    assert "feature.changed" in audit_actions(organization.id)


def test_switching_a_flag_the_organization_is_not_entitled_to_is_403_feature_disabled(api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}/features/self_purchase", {"enabled": True}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error_code"] == "FEATURE_DISABLED"


def test_staff_only_flag_cannot_be_switched_by_org_admin(api):
    organization = OrganizationFactory()
    admin = member(organization)
    FeatureFactory(organization=organization, name="cold_chain", is_entitled=True, is_enabled=False)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}/features/cold_chain", {"enabled": True}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_unknown_feature_is_404(api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin).patch(
        f"/api/v1/organizations/{organization.id}/features/teleport", {"enabled": True}, format="json"
    )

    assert response.status_code == 404


def test_non_admin_cannot_switch_flags(api):
    organization = OrganizationFactory()
    shipper = member(organization, role=Role.SHIPPER)
    FeatureFactory(organization=organization, name="self_purchase", is_entitled=True, is_enabled=False)

    response = api(shipper).patch(
        f"/api/v1/organizations/{organization.id}/features/self_purchase", {"enabled": True}, format="json"
    )

    assert response.status_code == 403


def test_organization_list_runs_the_same_number_of_queries_for_1_or_6_organizations(api, django_assert_num_queries):
    home = OrganizationFactory()
    user = member(home)
    client = api(user, organization=home)  # the same tenant choice in both requests
    client.get("/api/v1/organizations")

    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    with django_assert_num_queries(7) as few:
        assert client.get("/api/v1/organizations").json()["meta"]["total"] == 1
    for _ in range(5):
        MembershipFactory(user=user)
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/organizations").json()["meta"]["total"] == 6


def test_feature_list_reads_the_flags_once_then_from_the_cache(api, django_assert_num_queries):
    organization = OrganizationFactory()
    admin = member(organization)
    FeatureFactory(organization=organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/features"

    # savepoint, user scope, user+memberships, tenant scope, flags, the KYC status (escrow
    # follows the gate), release, restore...
    with django_assert_num_queries(8):
        client.get(url)
    with django_assert_num_queries(6):  # ...and no flag query once cached
        assert len(client.get(url).json()["data"]) == 10
