"""Referrals: a person's code and link, attribution at sign-up (a bad code refuses the sign-up and
creates nothing), the referred organization (the first the person creates or joins as its admin),
the reward when it completes its first order or service order (once), and the refusals:
self-referral, loops, a referrer inside the referred organization."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope, tenant_scope
from apps.points import codes
from apps.points.models import Referral, ReferralStatusChange
from apps.service.events import ServiceOrderCompleted
from apps.tenancy.events import MemberJoined, OrganizationCreated
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.points.conftest import balance_of, ledger_of, publish, referral_of, relay_everything, with_points
from tests.points.referral_support import (
    administered,
    code_of,
    complete_an_order,
    order_as_supplier,
    sign_up,
    user_with,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer(organization):
    return member(organization, Role.EXPERT)


# --- The code ---------------------------------------------------------------------------------------


def test_a_person_gets_one_code_and_a_sign_up_link_with_it(api, referrer, settings):
    settings.POINTS = {**settings.POINTS, "PUBLIC_BASE_URL": "https://manifest.example"}
    client = api(referrer)

    first = client.get("/api/v1/referrals/code").json()
    again = client.get("/api/v1/referrals/code").json()

    assert first == again
    assert codes.code_looks_valid(first["code"])
    assert first["link"] == f"https://manifest.example/signup?ref={first['code']}"


# --- Sign-up ----------------------------------------------------------------------------------------


def test_a_sign_up_with_a_code_is_attributed_to_its_holder_and_gets_the_new_organization(api, referrer):
    code = code_of(referrer)

    response = sign_up(api, "nina@newco.example", referral_code=code.lower(), organization_name="NewCo")
    relay_everything()  # organization.created tells points who administers it

    assert response.status_code == 202
    person = user_with("nina@newco.example")
    referral = referral_of(person)
    assert (referral.referrer_id, referral.status, referral.source, referral.code) == (
        referrer.id,
        "PENDING",
        "SIGN_UP",
        code,
    )
    assert referral.referred_name == "Nina P."
    assert referral.referred_organization_id == administered(person).id
    assert referral.referred_organization_name == "NewCo"


def test_an_unknown_code_refuses_the_sign_up_and_creates_nothing(api):
    response = sign_up(api, "nina@newco.example", referral_code="ZZZZZZZZ", organization_name="NewCo")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "referral_code" in response.json()["details"]
    assert user_with("nina@newco.example") is None


def test_a_taken_address_with_an_unknown_code_gets_the_same_refusal_and_with_a_good_code_nothing(api, referrer):
    taken = UserFactory(email="taken@example.test")

    bad = sign_up(api, "taken@example.test", referral_code="ZZZZZZZZ")
    good = sign_up(api, "taken@example.test", referral_code=code_of(referrer))

    assert bad.status_code == 400 and "referral_code" in bad.json()["details"]
    assert good.status_code == 202
    assert referral_of(taken) is None


def test_the_first_organization_a_referred_person_joins_as_admin_becomes_theirs(api, referrer):
    # Given a person who signed up with a code and no organization
    sign_up(api, "omar@example.test", referral_code=code_of(referrer))
    person = user_with("omar@example.test")
    # When they join an organization as its admin (its invitation accepted)
    joined = OrganizationFactory(name="Joined GmbH")
    with system_scope(reason="test: an accepted invitation", audit=False):
        membership = Membership.objects.create(organization=joined, user=person, role=Role.ORG_ADMIN)
    publish(
        MemberJoined(
            organization_id=joined.id,
            membership_id=membership.id,
            invitation_id=uuid.uuid4(),
            user_id=person.id,
            role=Role.ORG_ADMIN,
        )
    )
    relay_everything()

    # Then it is their referred organization
    assert referral_of(person).referred_organization_id == joined.id


# --- Qualification and the reward ---------------------------------------------------------------


def _referred_organization(api, referrer, email="nina@newco.example"):
    """A person who signed up with the referrer's code and created their organization (points on)."""
    sign_up(api, email, referral_code=code_of(referrer), organization_name="NewCo")
    relay_everything()
    person = user_with(email)
    return person, with_points(administered(person))


def test_the_referred_organizations_first_completed_order_rewards_the_referrer_once(api, referrer):
    person, newco = _referred_organization(api, referrer)

    complete_an_order(person, newco)
    relay_everything()

    referral = referral_of(person)
    assert referral.status == "REWARDED" and referral.qualified_at and referral.rewarded_at
    assert [(line.category, line.amount) for line in ledger_of(referrer)] == [("REFERRAL", 200)]
    with system_scope(reason="test", audit=False):
        history = list(
            ReferralStatusChange.objects.filter(referral=referral)
            .order_by("at", "id")
            .values_list("to_status", flat=True)
        )
    assert history == ["PENDING", "QUALIFIED", "REWARDED"]

    # A second completed order rewards nothing more
    complete_an_order(person, newco)
    relay_everything()
    assert balance_of(referrer) == 200


def test_a_first_completed_service_order_qualifies_too(api, referrer):
    person, newco = _referred_organization(api, referrer)

    # The service order's completion, as field service publishes it (owned by the customer)
    publish(
        ServiceOrderCompleted(
            organization_id=newco.id,
            service_order_id=str(uuid.uuid4()),
            number="SVO-2026-000001",
            title="Commissioning",
            party_organization_ids=[str(newco.id)],
            customer_id=str(person.id),
            expert_id=None,
            expert_user_id=None,
            customer_organization_id=str(newco.id),
            completed_at="2026-12-07T10:00:00+00:00",
            passport_id=None,
        )
    )
    relay_everything()

    assert referral_of(person).status == "REWARDED"
    assert balance_of(referrer) == 200


def test_with_points_off_for_the_referred_organization_the_referral_waits_qualified(api, referrer):
    sign_up(api, "nina@newco.example", referral_code=code_of(referrer), organization_name="NewCo")
    relay_everything()
    person = user_with("nina@newco.example")

    complete_an_order(person, administered(person))
    relay_everything()

    assert referral_of(person).status == "QUALIFIED"
    assert balance_of(referrer) == 0


def test_an_order_the_referred_organization_fulfils_as_supplier_does_not_qualify_it(api, referrer):
    person, newco = _referred_organization(api, referrer)
    buyer = OrganizationFactory(name="Buyer")
    buyer_admin = member(buyer, Role.ORG_ADMIN)

    # NewCo is the carrier here: the order is the buyer's
    order_as_supplier(buyer_admin, buyer, supplier=(person, newco))
    relay_everything()

    assert referral_of(person).status == "PENDING"


# --- Refusals when the organization becomes known ---------------------------------------------------


def _admin_of_new_organization(person, *others):
    """`person` creates an organization (its admin) in which `others` are members too; the
    organization.created event goes out as tenancy publishes it."""
    organization = OrganizationFactory(name="Circle GmbH")
    member_rows = [(person, Role.ORG_ADMIN)] + [(other, Role.ENGINEER) for other in others]
    with system_scope(reason="test: the organization's members", audit=False):
        for user, role in member_rows:
            Membership.objects.create(organization=organization, user=user, role=role)
    publish(OrganizationCreated(organization_id=organization.id, name=organization.name))
    relay_everything()
    return organization


def test_a_referrer_who_is_a_member_of_the_referred_organization_is_refused(api, referrer):
    sign_up(api, "omar@example.test", referral_code=code_of(referrer))
    person = user_with("omar@example.test")

    _admin_of_new_organization(person, referrer)

    referral = referral_of(person)
    assert referral.status == "REFUSED"
    assert "member of the referred organization" in referral.refusal_reason


def test_a_loop_through_the_referred_organization_is_refused(api, referrer):
    # Given the referrer was referred by X, and the person referred by the referrer
    x = member(OrganizationFactory(name="X's company"), Role.ORG_ADMIN)
    sign_up(api, "ref2@example.test", referral_code=code_of(x))
    second = user_with("ref2@example.test")
    sign_up(api, "omar@example.test", referral_code=code_of(second))
    person = user_with("omar@example.test")

    # When the person creates an organization in which X is a member
    _admin_of_new_organization(person, x)

    # Then the referral is refused as a loop
    referral = referral_of(person)
    assert referral.status == "REFUSED" and referral.refusal_reason.startswith("A loop")


# --- Claims -----------------------------------------------------------------------------------------


def claim(api, user, organization, code):
    return api(user, organization).post("/api/v1/referrals/claim", {"code": code}, format="json")


def test_a_person_who_signed_up_without_a_code_claims_it_and_the_referrer_lists_them(api, organization, referrer):
    person = member(organization, Role.CUSTOMER)

    response = claim(api, person, organization, code_of(referrer))

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "PENDING" and response.json()["source"] == "CLAIM"
    listed = api(referrer).get("/api/v1/referrals").json()
    assert [row["id"] for row in listed["data"]] == [response.json()["id"]]
    assert api(person).get("/api/v1/referrals").json()["data"] == []


def test_an_admin_who_claims_names_their_organization_at_once(api, referrer):
    newco = with_points(OrganizationFactory(name="NewCo"))
    person = member(newco, Role.ORG_ADMIN)

    response = claim(api, person, newco, code_of(referrer))

    assert response.status_code == 201
    assert response.json()["referred_organization_name"] == "NewCo"


def test_ones_own_code_is_refused(api, organization, referrer):
    response = claim(api, referrer, organization, code_of(referrer))

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert "own referral code" in response.json()["message"]


def test_an_unknown_code_is_a_400_on_the_code(api, organization, referrer):
    response = claim(api, referrer, organization, "ZZZZZZZZ")

    assert response.status_code == 400 and "code" in response.json()["details"]


def test_claiming_the_code_of_someone_one_referred_up_the_chain_is_a_loop(api, organization, referrer):
    # Given the referrer referred B, who referred C
    sign_up(api, "b@example.test", referral_code=code_of(referrer))
    b = user_with("b@example.test")
    sign_up(api, "c@example.test", referral_code=code_of(b))
    c = user_with("c@example.test")

    # When the referrer claims C's code (and B's)
    up_the_chain = claim(api, referrer, organization, code_of(c))
    direct = claim(api, referrer, organization, code_of(b))

    # Then both are refused as loops, and nothing is created
    for response in (up_the_chain, direct):
        assert response.status_code == 422 and "loop" in response.json()["message"]
    assert referral_of(referrer) is None


def test_a_claim_naming_a_referrer_inside_ones_organization_is_refused(api, organization, referrer, admin):
    response = claim(api, admin, organization, code_of(referrer))

    assert response.status_code == 422
    assert "member of the referred organization" in response.json()["message"]


def test_a_second_claim_is_refused(api, organization, referrer):
    person = member(organization, Role.CUSTOMER)
    claim(api, person, organization, code_of(referrer))

    again = claim(api, person, organization, code_of(UserFactory()))

    assert again.status_code == 422 and "already" in again.json()["message"]


def test_a_claim_after_the_window_is_refused(api, organization, referrer, settings):
    person = member(organization, Role.CUSTOMER)
    get_user_model().objects.filter(id=person.id).update(
        created_at=person.created_at - timedelta(days=settings.POINTS["REFERRAL_CLAIM_DAYS"] + 1)
    )

    response = claim(api, person, organization, code_of(referrer))

    assert response.status_code == 422 and "within" in response.json()["message"]


def test_a_claim_after_an_organization_completed_an_order_is_refused(api, referrer):
    newco = with_points(OrganizationFactory(name="NewCo"))
    person = member(newco, Role.ORG_ADMIN)
    complete_an_order(person, newco)

    response = claim(api, person, newco, code_of(referrer))

    assert response.status_code == 422 and "first completed order" in response.json()["message"]
    assert referral_of(person) is None


def test_the_referral_list_runs_the_same_queries_for_3_or_15_referrals(api, organization, referrer):
    def refer(count):
        for _ in range(count):
            person = member(organization, Role.CUSTOMER)
            assert claim(api, person, organization, code_of(referrer)).status_code == 201

    client = api(referrer)
    refer(3)
    client.get("/api/v1/referrals")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/referrals").json()["data"]) == 3
    refer(12)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/referrals?limit=50").json()["data"]) == 15

    assert len(many.captured_queries) == len(few.captured_queries)


def test_referrals_are_the_referrers_rows(api, organization, referrer):
    person = member(organization, Role.CUSTOMER)
    claim(api, person, organization, code_of(referrer))

    with tenant_scope(organization.id, user_id=person.id):
        assert Referral.objects.count() == 0
    with tenant_scope(organization.id, user_id=referrer.id):
        assert Referral.objects.count() == 1


def test_an_erased_persons_code_stops_working_and_their_data_is_exported(api, organization, referrer):
    from apps.core.personal_data import erasure_steps_run, personal_data_sections
    from apps.tenancy.roles import Actor

    code = code_of(referrer)
    person = member(organization, Role.CUSTOMER)
    claim(api, person, organization, code)

    with system_scope(reason="test: the export and the erasure", audit=False):
        sections = personal_data_sections(user_id=referrer.id, email=referrer.email)
        erasure_steps_run(
            user_id=referrer.id, email=referrer.email, replacement="erased@invalid", actor=Actor(user_id=None)
        )

    assert [row["role"] for row in sections["referrals"]] == ["referrer"] and sections["points"] == []
    assert claim(api, member(organization, Role.CUSTOMER), organization, code).status_code == 400
