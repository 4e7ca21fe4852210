"""The back-office: platform staff see every organization; an organization admin sees and
changes only the organization chosen for their session, through the tenancy services."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.tenancy.models import Invitation, Membership, Organization, OrganizationFeature
from apps.tenancy.roles import Role
from tests.factories import FeatureFactory, MembershipFactory, OrganizationFactory, UserFactory, member
from tests.support import admin_client as logged_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def audit_actions(organization_id) -> list[str]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(organization_id=organization_id).values_list("action", flat=True))


def memberships_of(organization) -> list[Membership]:
    with system_scope(reason="test reads memberships", audit=False):
        return list(Membership.objects.filter(organization=organization).select_related("user"))


@pytest.fixture
def two_organizations():
    alpha = OrganizationFactory(name="Alpha Freight")
    beta = OrganizationFactory(name="Beta Forwarding")
    return alpha, beta


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def test_org_admin_logs_in_through_the_admin_form(two_organizations):
    alpha, _ = two_organizations
    admin_user = member(alpha, Role.ORG_ADMIN)

    response = Client().post(
        reverse("admin:login"), {"username": admin_user.email, "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_member_without_admin_role_is_refused_at_the_login_form(two_organizations):
    alpha, _ = two_organizations
    shipper = member(alpha, Role.SHIPPER)

    response = Client().post(reverse("admin:login"), {"username": shipper.email, "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session
    assert b"Please enter the correct email address and password for a staff account" in response.content


def test_org_admin_index_lists_tenancy_pages_but_not_users(two_organizations):
    alpha, _ = two_organizations

    response = logged_in(member(alpha)).get(reverse("admin:index"))

    assert response.status_code == 200
    assert reverse("admin:tenancy_membership_changelist") in response.content.decode()
    assert reverse("admin:core_auditlog_changelist") in response.content.decode()
    assert reverse("admin:accounts_user_changelist") not in response.content.decode()
    assert reverse("admin:core_outboxevent_changelist") not in response.content.decode()


def test_org_admin_sees_only_their_organizations_members(two_organizations):
    alpha, beta = two_organizations
    admin_user = member(alpha)
    stranger = member(beta, Role.CARRIER)
    colleague = member(alpha, Role.SHIPPER)

    response = logged_in(admin_user).get(reverse("admin:tenancy_membership_changelist"))

    body = response.content.decode()
    assert response.status_code == 200
    assert colleague.email in body
    assert stranger.email not in body


def test_org_admin_cannot_open_another_organization(two_organizations):
    alpha, beta = two_organizations

    client = logged_in(member(alpha))
    response = client.get(reverse("admin:tenancy_organization_change", args=[beta.pk]))
    listing = client.get(reverse("admin:tenancy_organization_changelist"))

    assert response.status_code == 302  # Django's admin: "doesn't exist. Perhaps it was deleted?"
    assert beta.name not in listing.content.decode()
    assert alpha.name in listing.content.decode()


def test_org_admin_cannot_open_user_accounts(two_organizations):
    alpha, _ = two_organizations

    response = logged_in(member(alpha)).get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 403


def test_staff_sees_every_organization(two_organizations, staff):
    alpha, beta = two_organizations

    body = logged_in(staff).get(reverse("admin:tenancy_organization_changelist")).content.decode()

    assert alpha.name in body and beta.name in body


def test_org_admin_edits_their_organization_through_the_service(two_organizations):
    alpha, _ = two_organizations
    admin_user = member(alpha)
    client = logged_in(admin_user)
    url = reverse("admin:tenancy_organization_change", args=[alpha.pk])
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update(name="Alpha Freight GmbH", settings="{}")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    with system_scope(reason="test", audit=False):
        alpha.refresh_from_db()
    assert alpha.name == "Alpha Freight GmbH"
    assert "organization.updated" in audit_actions(alpha.id)
    assert "subscription_plan" not in form.fields  # staff decide the commercial terms


def test_org_admin_invites_a_member_into_their_own_organization(two_organizations):
    alpha, _ = two_organizations
    client = logged_in(member(alpha))
    existing = UserFactory(email="new.person@example.test")

    response = client.post(
        reverse("admin:tenancy_invitation_add"), {"email": "New.Person@Example.test", "role": Role.CARRIER}
    )

    assert response.status_code == 302
    with system_scope(reason="test reads invitations", audit=False):
        invitations = list(Invitation.objects.filter(organization=alpha).values_list("email", "role", "status"))
    assert invitations == [("new.person@example.test", Role.CARRIER, "pending")]
    assert [m for m in memberships_of(alpha) if m.user_id == existing.id] == []  # not without consent
    assert "invitation.created" in audit_actions(alpha.id)


def test_the_back_office_cannot_add_a_membership_directly(two_organizations, staff):
    alpha, _ = two_organizations

    as_org_admin = logged_in(member(alpha)).get(reverse("admin:tenancy_membership_add"))
    as_staff = logged_in(staff).get(reverse("admin:tenancy_membership_add"))

    assert as_org_admin.status_code == 403
    assert as_staff.status_code == 403


def test_demoting_the_last_admin_is_refused_with_a_message_and_changes_nothing(two_organizations):
    alpha, _ = two_organizations
    admin_user = member(alpha)
    membership = memberships_of(alpha)[0]
    client = logged_in(admin_user)
    url = reverse("admin:tenancy_membership_change", args=[membership.pk])

    response = client.post(url, {"role": Role.CUSTOMER, "extra_permissions": "[]", "is_active": "on"}, follow=True)

    assert "at least one active organization admin" in response.content.decode()
    assert memberships_of(alpha)[0].role == Role.ORG_ADMIN
    assert "member.updated" not in audit_actions(alpha.id)


def test_org_admin_switches_an_entitled_feature_on(two_organizations):
    alpha, _ = two_organizations
    FeatureFactory(organization=alpha, name="assisted_purchase", is_entitled=True, is_enabled=False)
    client = logged_in(member(alpha))
    url = reverse("admin:tenancy_organization_features", args=[alpha.pk])

    response = client.post(url, {"feature": "assisted_purchase", "action": "enable"})

    assert response.status_code == 302
    with system_scope(reason="test", audit=False):
        assert OrganizationFeature.objects.get(organization=alpha, name="assisted_purchase").is_enabled
    assert "feature.changed" in audit_actions(alpha.id)


def test_org_admin_cannot_switch_on_a_feature_without_entitlement(two_organizations):
    alpha, _ = two_organizations
    client = logged_in(member(alpha))
    url = reverse("admin:tenancy_organization_features", args=[alpha.pk])

    response = client.post(url, {"feature": "self_purchase", "action": "enable"}, follow=True)

    assert "not entitled" in response.content.decode()
    with system_scope(reason="test", audit=False):
        assert not OrganizationFeature.objects.filter(
            organization=alpha, name="self_purchase", is_enabled=True
        ).exists()


def test_org_admin_cannot_open_another_organizations_feature_page(two_organizations):
    alpha, beta = two_organizations
    client = logged_in(member(alpha))

    response = client.post(
        reverse("admin:tenancy_organization_features", args=[beta.pk]), {"feature": "chat", "action": "disable"}
    )

    assert response.status_code == 403
    with system_scope(reason="test", audit=False):
        assert not OrganizationFeature.objects.filter(organization=beta).exists()


def test_staff_grants_an_entitlement(two_organizations, staff):
    alpha, _ = two_organizations

    logged_in(staff).post(
        reverse("admin:tenancy_organization_features", args=[alpha.pk]),
        {"feature": "self_purchase", "action": "entitle"},
    )

    with system_scope(reason="test", audit=False):
        row = OrganizationFeature.objects.get(organization=alpha, name="self_purchase")
    assert (row.is_entitled, row.is_enabled) == (True, False)


def test_audit_log_is_read_only_and_limited_to_the_organization(two_organizations):
    alpha, beta = two_organizations
    admin_user = member(alpha)
    with system_scope(reason="test", audit=False):
        AuditLog.objects.create(action="test.alpha", organization_id=alpha.id, resource_type="thing")
        AuditLog.objects.create(action="test.beta", organization_id=beta.id, resource_type="thing")
    client = logged_in(admin_user)

    body = client.get(reverse("admin:core_auditlog_changelist")).content.decode()
    add = client.get(reverse("admin:core_auditlog_add"))

    assert "test.alpha" in body
    assert "test.beta" not in body
    assert add.status_code == 403


def test_org_admin_of_two_organizations_switches_between_them(two_organizations):
    alpha, beta = two_organizations
    admin_user = member(alpha)
    MembershipFactory(organization=beta, user=admin_user, role=Role.ORG_ADMIN)
    beta_member = member(beta, Role.CARRIER)
    client = logged_in(admin_user)
    changelist = reverse("admin:tenancy_membership_changelist")
    before = client.get(changelist).content.decode()

    client.post(reverse("admin:switch_organization"), {"organization": str(beta.pk), "next": changelist})
    after = client.get(changelist).content.decode()

    assert beta_member.email not in before
    assert beta_member.email in after


def test_switching_to_an_organization_one_does_not_administer_is_refused(two_organizations):
    alpha, beta = two_organizations
    admin_user = member(alpha)
    MembershipFactory(organization=beta, user=admin_user, role=Role.SHIPPER)
    client = logged_in(admin_user)

    client.post(reverse("admin:switch_organization"), {"organization": str(beta.pk)})
    body = client.get(reverse("admin:tenancy_organization_changelist")).content.decode()

    assert client.session.get("admin_organization_id") is None
    assert alpha.name in body and beta.name not in body


def test_staff_creates_an_organization_with_its_first_admin(staff):
    founder = UserFactory()
    client = logged_in(staff)

    response = client.post(
        reverse("admin:tenancy_organization_add"),
        {
            "first_admin_email": founder.email,
            "name": "Gamma Logistics",
            "slug": "gamma-logistics",
            "business_type": "both",
            "subscription_plan": "standard",
            "subscription_status": "active",
            "is_active": "on",
            "settings": "{}",
        },
    )

    assert response.status_code == 302
    with system_scope(reason="test", audit=False):
        gamma = Organization.objects.get(slug="gamma-logistics")
        assert Membership.objects.get(organization=gamma).user_id == founder.id
    assert "organization.created" in audit_actions(gamma.id)


def test_staff_change_to_a_user_is_audited(staff):
    person = UserFactory(first_name="Old")
    client = logged_in(staff)
    url = reverse("admin:accounts_user_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data.update(first_name="New", groups=[], user_permissions=[])
    data = {key: value for key, value in data.items() if value is not False}

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    person.refresh_from_db()
    assert person.first_name == "New"
    with system_scope(reason="test", audit=False):
        entry = AuditLog.objects.filter(action="user.updated", resource_id=str(person.pk)).get()
    assert entry.new_values == {"fields": ["first_name"]}
    assert entry.actor_id == staff.id


def test_staff_password_change_is_audited_without_the_password(staff):
    person = UserFactory()
    client = logged_in(staff)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[person.pk]),
        {"password1": "a-new-long-password-2026", "password2": "a-new-long-password-2026", "usable_password": "true"},
    )

    assert response.status_code == 302
    with system_scope(reason="test", audit=False):
        entry = AuditLog.objects.filter(action="user.updated", resource_id=str(person.pk)).get()
    assert entry.new_values == {"fields": ["password"]}
    assert "a-new-long-password-2026" not in str(entry.new_values)


# --- Staff pass a second factor -------------------------------------------------------------


def staff_with_authenticator():
    from apps.accounts.services import totp_provision

    user = UserFactory(is_staff=True, is_superuser=True)
    otpauth_uri, backup_codes = totp_provision(user=user)
    secret = re.search(r"secret=([A-Z2-7]+)", otpauth_uri).group(1)
    return user, secret, backup_codes


def admin_login(email: str, otp_token: str = "", password: str = PASSWORD):
    client = Client()
    response = client.post(
        reverse("admin:login"), {"username": email, "password": password, "otp_token": otp_token, "next": "/admin/"}
    )
    return client, response


def test_staff_signs_in_to_the_admin_with_an_authenticator_code():
    from tests.accounts.test_two_factor import code_for

    user, secret, _ = staff_with_authenticator()

    client, response = admin_login(user.email, code_for(secret))

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_signs_in_with_a_backup_code_once():
    user, _, backup_codes = staff_with_authenticator()

    _, first = admin_login(user.email, backup_codes[0])
    _, again = admin_login(user.email, backup_codes[0])

    assert first.status_code == 302
    assert again.status_code == 200
    assert b"unused backup code" in again.content


def test_staff_without_a_code_is_refused():
    user, _, _ = staff_with_authenticator()

    client, response = admin_login(user.email)

    assert response.status_code == 200
    assert b"Enter a current authenticator code" in response.content
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_without_two_factor_cannot_use_the_admin():
    user = UserFactory(is_staff=True, is_superuser=True)

    _, response = admin_login(user.email)

    assert response.status_code == 200
    assert b"need two-factor authentication" in response.content


def test_a_staff_session_that_skipped_the_second_factor_is_sent_to_the_login_page():
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)  # password only: not verified by django-otp

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("admin:login"))


def test_failed_admin_sign_ins_count_towards_the_lockout():
    user, secret, _ = staff_with_authenticator()
    for _ in range(5):
        admin_login(user.email, password="wrong-password-123")

    from tests.accounts.test_two_factor import code_for

    _, response = admin_login(user.email, code_for(secret))

    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.content


def test_staff_turn_off_a_users_two_factor_and_the_secret_is_not_shown_in_the_admin(staff):
    user, _, _ = staff_with_authenticator()
    client = logged_in(staff)

    response = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "reset_two_factor", "_selected_action": [user.pk]}
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert "totp" not in client.get(reverse("admin:index")).content.decode().lower()
    with system_scope(reason="test", audit=False):
        assert AuditLog.objects.filter(action="auth.2fa_reset", resource_id=str(user.pk)).exists()
