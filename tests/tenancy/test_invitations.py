"""Joining an organization needs the person's consent: an org admin invites an e-mail
address, the person accepts (or declines) the invitation; nothing about them shows until then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.context import system_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.tenancy.models import Invitation, Membership
from apps.tenancy.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

INVITATION_FIELDS = {"id", "email", "role", "status", "expires_at", "invited_by", "created_at"}


def members_url(organization) -> str:
    return f"/api/v1/organizations/{organization.id}/members"


def invite(api, admin, organization, email: str, role: str = "carrier"):
    return api(admin).post(members_url(organization), {"email": email, "role": role}, format="json")


def verified_user(**kwargs):
    return UserFactory(email_verified_at=timezone.now(), **kwargs)


def memberships_of(user) -> list[Membership]:
    with system_scope(reason="test reads memberships", audit=False):
        return list(Membership.objects.filter(user=user))


def audit_actions(organization_id) -> list[str]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(organization_id=organization_id).values_list("action", flat=True))


def event_types(organization_id) -> list[str]:
    with system_scope(reason="test reads the outbox", audit=False):
        return list(OutboxEvent.objects.filter(organization_id=organization_id).values_list("event_type", flat=True))


# --- the admin's side ---------------------------------------------------------------------------


def test_adding_an_existing_user_creates_an_invitation_not_a_membership(api):
    organization = OrganizationFactory()
    admin = member(organization)
    elsewhere = OrganizationFactory()
    person = member(elsewhere, Role.SHIPPER, user__first_name="Ada", user__last_name="Lovelace")

    response = invite(api, admin, organization, person.email.upper())

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == INVITATION_FIELDS
    assert body["email"] == person.email
    assert body["status"] == "pending"
    assert str(person.id) not in response.content.decode()
    assert "Ada" not in response.content.decode()
    assert [m.organization_id for m in memberships_of(person)] == [elsewhere.id]
    assert api(admin).get(members_url(organization)).json()["meta"]["total"] == 1
    # The person's clients keep working without choosing an organization.
    assert api(person).get("/api/v1/organizations").json()["meta"]["total"] == 1
    assert "invitation.created" in audit_actions(organization.id)


def test_an_address_without_an_account_is_answered_the_same_and_gets_no_account(api):
    from django.contrib.auth import get_user_model

    organization = OrganizationFactory()
    admin = member(organization)
    existing = UserFactory()

    known = invite(api, admin, organization, existing.email).json()
    unknown = invite(api, admin, organization, "nobody.yet@example.test").json()

    assert set(known) == set(unknown) == INVITATION_FIELDS
    ignored = {"id", "email", "created_at", "expires_at"}
    assert {k: v for k, v in known.items() if k not in ignored} == {
        k: v for k, v in unknown.items() if k not in ignored
    }
    assert not get_user_model().objects.filter(email="nobody.yet@example.test").exists()


def test_member_list_shows_no_lockout_state_and_pending_invitations_are_not_members(api):
    organization = OrganizationFactory()
    admin = member(organization)
    invite(api, admin, organization, UserFactory().email)

    rows = api(admin).get(members_url(organization)).json()["data"]

    assert len(rows) == 1
    assert "sign_in_locked_until" not in rows[0]
    assert not {key for key in rows[0] if "lock" in key}


def test_inviting_an_address_with_a_pending_invitation_is_400(api):
    organization = OrganizationFactory()
    admin = member(organization)
    invite(api, admin, organization, "twice@example.test")

    again = invite(api, admin, organization, "Twice@example.test")

    assert again.status_code == 400
    assert again.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"


def test_admin_lists_and_revokes_invitations(api):
    organization = OrganizationFactory()
    admin = member(organization)
    invitation_id = invite(api, admin, organization, "revoked@example.test").json()["id"]
    url = f"/api/v1/organizations/{organization.id}/invitations"

    listed = api(admin).get(url).json()
    revoked = api(admin).delete(f"{url}/{invitation_id}")

    assert [row["email"] for row in listed["data"]] == ["revoked@example.test"]
    assert revoked.status_code == 204
    assert api(admin).get(url).json()["data"][0]["status"] == "revoked"
    assert "invitation.revoked" in audit_actions(organization.id)


def test_a_carrier_cannot_list_invitations(api):
    organization = OrganizationFactory()
    carrier = member(organization, Role.CARRIER)

    response = api(carrier).get(f"/api/v1/organizations/{organization.id}/invitations")

    assert response.status_code == 403


def test_invitation_list_runs_the_same_number_of_queries_for_1_or_10(api, django_assert_num_queries):
    organization = OrganizationFactory()
    admin = member(organization)
    client = api(admin)
    url = f"/api/v1/organizations/{organization.id}/invitations?limit=50"
    invite(api, admin, organization, "first@example.test")
    client.get(url)

    # savepoint, user scope, user+memberships, tenant scope, page (shorter than `limit`: no
    # count), release, restore
    with django_assert_num_queries(7) as few:
        assert client.get(url).json()["meta"]["total"] == 1
    expected = len(few.captured_queries)
    for number in range(9):
        invite(api, admin, organization, f"more{number}@example.test")
    with django_assert_num_queries(expected):
        assert client.get(url).json()["meta"]["total"] == 10


def test_an_admin_with_an_unconfirmed_address_cannot_invite(api):
    organization = OrganizationFactory()
    membership = MembershipFactory(organization=organization, user=UserFactory(email_verified_at=None))

    response = invite(api, membership.user, organization, "someone@example.test")

    assert response.status_code == 403
    assert response.json()["error_code"] == "EMAIL_NOT_VERIFIED"
    assert api(membership.user).get(f"/api/v1/organizations/{organization.id}/invitations").json()["data"] == []


# --- the invitee's side -------------------------------------------------------------------------


def test_the_invitee_sees_the_invitation_and_accepting_makes_them_a_member(api):
    organization = OrganizationFactory(name="Volga Carriers")
    admin = member(organization)
    person = verified_user()
    invitation_id = invite(api, admin, organization, person.email, "carrier").json()["id"]

    mine = api(person).get("/api/v1/me/invitations").json()
    accepted = api(person).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert [(row["id"], row["organization"]["name"], row["role"]) for row in mine["data"]] == [
        (invitation_id, "Volga Carriers", "carrier")
    ]
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["organization"]["id"] == str(organization.id)
    assert accepted.json()["role"] == "carrier"
    (membership,) = memberships_of(person)
    assert (membership.organization_id, membership.role, membership.is_active) == (organization.id, "carrier", True)
    assert membership.invited_by_id == admin.id
    assert {"invitation.accepted", "member.joined"} <= set(audit_actions(organization.id))
    assert "member.joined" in event_types(organization.id)
    assert api(person).get("/api/v1/me/invitations").json()["data"] == []
    assert api(admin).get(members_url(organization)).json()["meta"]["total"] == 2


def test_a_former_member_who_accepts_comes_back_with_the_new_role(api):
    organization = OrganizationFactory()
    admin = member(organization)
    person = verified_user()
    MembershipFactory(organization=organization, user=person, role=Role.SHIPPER, is_active=False)
    invitation_id = invite(api, admin, organization, person.email, "buyer").json()["id"]

    response = api(person).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert response.status_code == 200, response.content
    (membership,) = memberships_of(person)
    assert (membership.role, membership.is_active) == ("buyer", True)


def test_declining_leaves_the_person_out(api):
    organization = OrganizationFactory()
    admin = member(organization)
    person = verified_user()
    invitation_id = invite(api, admin, organization, person.email).json()["id"]

    declined = api(person).post(f"/api/v1/me/invitations/{invitation_id}/decline")
    accept_after = api(person).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert declined.status_code == 204
    assert accept_after.status_code == 422
    assert memberships_of(person) == []
    assert "invitation.declined" in audit_actions(organization.id)


def test_nobody_else_sees_or_accepts_an_invitation(api):
    organization = OrganizationFactory()
    admin = member(organization)
    person, intruder = verified_user(), verified_user()
    invitation_id = invite(api, admin, organization, person.email).json()["id"]

    seen = api(intruder).get("/api/v1/me/invitations").json()["data"]
    accepted = api(intruder).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert seen == []
    assert accepted.status_code == 404
    assert memberships_of(intruder) == []


def test_an_expired_invitation_cannot_be_accepted(api):
    organization = OrganizationFactory()
    admin = member(organization)
    person = verified_user()
    invitation_id = invite(api, admin, organization, person.email).json()["id"]
    with system_scope(reason="test: the week passes", audit=False):
        Invitation.objects.filter(pk=invitation_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    listed = api(person).get("/api/v1/me/invitations").json()["data"]
    response = api(person).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert listed == []
    assert response.status_code == 422
    assert memberships_of(person) == []


def test_an_unverified_address_accepts_only_through_the_emailed_link(api):
    organization = OrganizationFactory()
    admin = member(organization)
    person = UserFactory(email_verified_at=None)  # never proved the address is theirs
    invitation_id = invite(api, admin, organization, person.email).json()["id"]

    response = api(person).post(f"/api/v1/me/invitations/{invitation_id}/accept")

    assert response.status_code == 403
    assert response.json()["error_code"] == "EMAIL_NOT_VERIFIED"
    assert memberships_of(person) == []


def test_an_unverified_address_does_not_see_the_invitations_sent_to_it(api):
    # given an invitation to an address whose account never proved it owns it
    organization = OrganizationFactory(name="Northwind Freight")
    person = UserFactory(email_verified_at=None)
    invite(api, member(organization), organization, person.email)

    # when that account lists its invitations
    response = api(person).get("/api/v1/me/invitations")

    # then it is told to confirm the address first, and nothing about who invited it as what
    assert response.status_code == 403
    assert response.json()["error_code"] == "EMAIL_NOT_VERIFIED"
    assert "Northwind" not in response.content.decode()


def test_the_me_invitations_list_runs_the_same_number_of_queries_for_1_or_5(api, django_assert_num_queries):
    person = verified_user()
    client = api(person)
    for _ in range(1):
        organization = OrganizationFactory()
        invite(api, member(organization), organization, person.email)
    client.get("/api/v1/me/invitations")

    # user, savepoint, user scope, memberships, verified address, page (shorter than `limit`: no count), then the
    # inviting organizations' names in one narrow all-tenants read (savepoint, scope, names,
    # release, scope back), release, restore
    with django_assert_num_queries(13) as few:
        assert client.get("/api/v1/me/invitations").json()["meta"]["total"] == 1
    expected = len(few.captured_queries)
    for _ in range(4):
        organization = OrganizationFactory()
        invite(api, member(organization), organization, person.email)
    with django_assert_num_queries(expected):
        assert client.get("/api/v1/me/invitations").json()["meta"]["total"] == 5
