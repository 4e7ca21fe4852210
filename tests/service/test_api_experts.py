"""Experts through the API: registering a passport (its code), the catalogue customers choose
from and its filters, correcting a profile (the owner's side only), the work status and
RUSHING behind a paid membership, the skills vocabulary, the code check, the roles that may
not, and constant list queries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.service import codes
from apps.service.models import ExpertPassport
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, member
from tests.service.api_support import EXPERTS, query_count
from tests.service.conftest import SITE, give_membership, register_expert, with_field_service

pytestmark = pytest.mark.django_db

BODY = {
    "expert_type": "T",
    "industry_code": "EL",
    "skill_code": "MOT",
    "nationality": "DE",
    "skills": ["EL-DRV"],
    "languages": ["en", "de"],
    "base_location": "Saint Petersburg",
    "latitude": "59.934280",
    "longitude": "30.335099",
    "service_radius_km": 80,
}


@pytest.fixture
def expert_dispatcher(expert_organization):
    return member(expert_organization, role=Role.OPERATOR)


def _experts(organization) -> int:
    with tenant_scope(organization.id):
        return ExpertPassport.objects.filter(organization_id=organization.id).count()


def _ids(client, query="") -> list[str]:
    response = client.get(f"{EXPERTS}{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["data"]]


# --- Registering -------------------------------------------------------------------------------


def test_an_expert_registers_their_own_passport_with_a_valid_code(api, expert_user, expert_organization):
    response = api(expert_user).post(EXPERTS, BODY, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert codes.code_check(body["code"]).valid and body["code"].startswith("EP-T-EL-MOT-")
    assert "-".join(["EP", *body["code_parts"].values()]) == body["code"]
    assert (body["work_status"], body["membership_level"], body["is_own"]) == ("IDLE", "FREE", True)
    assert body["user_id"] == str(expert_user.id)
    assert body["skills"] == ["EL-MOT", "EL-DRV"] and body["certifications"] == []
    assert api(expert_user).get(f"{EXPERTS}/{body['id']}").json() == body


def test_a_dispatcher_registers_a_member_of_their_organization(
    api, expert_dispatcher, second_expert_user, expert_organization
):
    response = api(expert_dispatcher).post(EXPERTS, {**BODY, "user_id": str(second_expert_user.id)}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["user_id"] == str(second_expert_user.id)


def test_an_expert_makes_no_passport_for_someone_else(api, expert_user, second_expert_user, expert_organization):
    response = api(expert_user).post(EXPERTS, {**BODY, "user_id": str(second_expert_user.id)}, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert _experts(expert_organization) == 0


def test_a_dispatcher_makes_no_passport_for_a_stranger(api, expert_dispatcher, dispatcher, expert_organization):
    response = api(expert_dispatcher).post(EXPERTS, {**BODY, "user_id": str(dispatcher.id)}, format="json")

    assert response.status_code == 400
    assert "user_id" in response.json()["details"]
    assert _experts(expert_organization) == 0


def test_a_customer_registers_no_expert(api, customer, customer_organization):
    response = api(customer).post(EXPERTS, BODY, format="json")

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"industry_code": "ZZ"}, "industry_code"),
        ({"skill_code": "PMP"}, "skill_code"),
        ({"nationality": "XX"}, "nationality"),
        ({"expert_type": "Q"}, "expert_type"),
        ({"skills": ["EL-XXX"]}, "skills"),
        ({"languages": ["eng"]}, "languages"),
        ({"longitude": None}, "longitude"),
        ({"years_experience": 81}, "years_experience"),
        ({"service_radius_km": 0}, "service_radius_km"),
        ({"display_name": 42}, "display_name"),
    ],
)
def test_an_invalid_passport_is_refused_with_the_field_named_and_nothing_registered(
    api, expert_user, expert_organization, change, field
):
    response = api(expert_user).post(EXPERTS, {**BODY, **change}, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}
    assert field in response.json()["details"]
    assert _experts(expert_organization) == 0


def test_a_second_passport_of_one_person_is_refused(api, expert, expert_user, expert_organization):
    response = api(expert_user).post(EXPERTS, BODY, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert _experts(expert_organization) == 1


def test_a_retried_registration_with_the_same_key_registers_one_passport(api, expert_user, expert_organization):
    client = api(expert_user)
    first = client.post(EXPERTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="expert-1")
    again = client.post(EXPERTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="expert-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"] and again.headers["Idempotent-Replayed"] == "true"
    assert _experts(expert_organization) == 1


# --- The catalogue -----------------------------------------------------------------------------


def test_the_catalogue_has_every_published_profile_and_the_organizations_own(
    api, dispatcher, customer_organization, expert, expert_organization, expert_dispatcher
):
    hidden = register_expert(member(expert_organization, role=Role.EXPERT), expert_organization, is_published=False)
    own_hidden = register_expert(
        member(customer_organization, role=Role.ENGINEER), customer_organization, is_published=False
    )

    seen_by_customer = _ids(api(dispatcher))
    seen_by_owner = _ids(api(expert_dispatcher))

    assert seen_by_customer == [str(own_hidden.id), str(expert.id)]
    assert seen_by_owner == [str(hidden.id), str(expert.id)]
    assert api(dispatcher).get(f"{EXPERTS}/{hidden.id}").status_code == 404
    row = api(dispatcher).get(EXPERTS).json()["data"][1]
    # Another organization's expert: the person and the membership's end are not shown.
    assert (row["is_own"], row["user_id"], row["membership_expires_at"]) == (False, None, None)


def test_the_catalogue_filters_by_skill_industry_type_status_level_language_nationality_and_rating(
    api, dispatcher, expert_organization, expert
):
    pumps = register_expert(
        member(expert_organization, role=Role.EXPERT),
        expert_organization,
        expert_type="B",
        industry_code="ME",
        skill_code="PMP",
        skills=[],
        languages=["fr"],
        nationality="FR",
    )
    give_membership(pumps, level="SILVER")
    with system_scope(reason="test: a rating"):
        ExpertPassport.objects.filter(id=pumps.id).update(rating_average=Decimal("4.60"), work_status="AVAILABLE")
    client = api(dispatcher)

    assert _ids(client, "?skill=EL-DRV") == [str(expert.id)]
    assert _ids(client, "?skill=ME-PMP") == [str(pumps.id)]
    assert _ids(client, "?industry=ME") == [str(pumps.id)]
    assert _ids(client, "?expert_type=T") == [str(expert.id)]
    assert _ids(client, "?work_status=AVAILABLE") == [str(pumps.id)]
    assert _ids(client, "?membership_level=SILVER") == [str(pumps.id)]
    assert _ids(client, "?language=FR") == [str(pumps.id)]
    assert _ids(client, "?nationality=DE") == [str(expert.id)]
    assert _ids(client, "?min_rating=4.5") == [str(pumps.id)]
    assert _ids(client, "?ordering=-rating") == [str(pumps.id), str(expert.id)]
    assert _ids(client, "?ordering=created_at") == [str(expert.id), str(pumps.id)]


def test_near_finds_the_experts_whose_area_takes_in_the_point(api, dispatcher, expert_organization, expert):
    moscow = register_expert(
        member(expert_organization, role=Role.EXPERT),
        expert_organization,
        latitude=Decimal("55.755800"),
        longitude=Decimal("37.617300"),
        service_radius_km=30,
    )
    client = api(dispatcher)

    assert _ids(client, f"?near={SITE['latitude']},{SITE['longitude']}") == [str(expert.id)]
    assert _ids(client, "?near=55.80,37.60") == [str(moscow.id)]
    assert _ids(client, "?near=48.85,2.35") == []


@pytest.mark.parametrize(
    "query",
    sorted(
        [
            "?skill=EL",
            "?skill=",
            "?near=59.9",
            "?near=north,south",
            "?near=91,10",
            "?min_rating=6",
            "?ordering=name",
            "?work_status=busy",
            "?limit=0",
        ]
    ),
)
def test_an_invalid_catalogue_filter_is_a_400(api, dispatcher, customer_organization, query):
    response = api(dispatcher).get(f"{EXPERTS}{query}")

    assert response.status_code == 400
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}


def test_the_catalogue_runs_the_same_queries_for_3_or_15_experts(api, dispatcher, expert_organization):
    client = api(dispatcher)
    for _ in range(3):
        register_expert(member(expert_organization, role=Role.EXPERT), expert_organization)
    client.get(EXPERTS)  # warms the per-organization feature cache
    few, body = query_count(client, EXPERTS)
    assert len(body["data"]) == 3
    for _ in range(12):
        register_expert(member(expert_organization, role=Role.EXPERT), expert_organization)
    many, body = query_count(client, f"{EXPERTS}?limit=50")

    assert len(body["data"]) == 15
    assert many == few


# --- Correcting a profile ------------------------------------------------------------------------


def test_an_expert_corrects_their_profile_and_the_code_stays(api, expert, expert_user):
    response = api(expert_user).patch(
        f"{EXPERTS}/{expert.id}",
        {"headline": "Drives and motors, 24/7", "skills": ["EL-GEN"], "service_radius_km": 120},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["headline"], body["skills"], body["service_radius_km"]) == (
        "Drives and motors, 24/7",
        ["EL-MOT", "EL-GEN"],
        120,
    )
    assert body["code"] == expert.code
    with tenant_scope(expert.organization_id):
        stored = ExpertPassport.objects.get(id=expert.id)
    assert stored.area_max_latitude - stored.area_min_latitude > 2 * 120 / 111.32 - 0.001


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"skills": ["XX-YYY"]}, "skills"),
        ({"latitude": "91"}, "latitude"),
        ({"display_name": ""}, "display_name"),
        ({"code": "EP-T-EL-MOT-2612-DE-00042-35"}, "non_field_errors"),
        ({}, "non_field_errors"),
    ],
)
def test_an_invalid_correction_changes_nothing(api, expert, expert_user, change, field):
    client = api(expert_user)
    before = client.get(f"{EXPERTS}/{expert.id}").json()

    response = client.patch(f"{EXPERTS}/{expert.id}", change, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()["details"]
    assert client.get(f"{EXPERTS}/{expert.id}").json() == before


def test_only_the_owner_side_corrects_a_profile(api, expert, second_expert_user, dispatcher, expert_dispatcher):
    change = {"headline": "Not mine"}

    # another organization (the profile is published to it): 404; a colleague without
    # expert:manage on the whole organization: 404; the organization's dispatcher: 200
    assert api(dispatcher).patch(f"{EXPERTS}/{expert.id}", change, format="json").status_code == 404
    assert api(second_expert_user).patch(f"{EXPERTS}/{expert.id}", change, format="json").status_code == 404
    assert api(expert_dispatcher).patch(f"{EXPERTS}/{expert.id}", change, format="json").status_code == 200


# --- Work status --------------------------------------------------------------------------------


def test_an_expert_becomes_available_and_rushing_is_refused_without_a_paid_membership(api, expert, expert_user):
    client = api(expert_user)
    url = f"{EXPERTS}/{expert.id}/work-status"

    available = client.patch(url, {"work_status": "AVAILABLE"}, format="json")
    rushing = client.patch(url, {"work_status": "RUSHING", "reason": "Free now"}, format="json")

    assert available.status_code == 200 and available.json()["work_status"] == "AVAILABLE"
    assert rushing.status_code == 422
    assert rushing.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert "FREE cannot rush" in rushing.json()["details"]["membership_level"][0]
    assert client.get(f"{EXPERTS}/{expert.id}").json()["work_status"] == "AVAILABLE"


def test_a_paid_member_goes_rushing(api, expert, expert_user):
    give_membership(expert, level="GOLD")

    response = api(expert_user).patch(f"{EXPERTS}/{expert.id}/work-status", {"work_status": "RUSHING"}, format="json")

    assert response.status_code == 200, response.json()
    assert (response.json()["work_status"], response.json()["membership_level"]) == ("RUSHING", "GOLD")
    assert response.json()["membership_expires_at"] is not None


def test_booked_follows_the_orders_and_is_not_chosen(api, expert, expert_user):
    response = api(expert_user).patch(f"{EXPERTS}/{expert.id}/work-status", {"work_status": "BOOKED"}, format="json")

    assert response.status_code == 422
    assert response.json()["details"]["work_status"] == ["Choose one of IDLE, AVAILABLE, RUSHING, OFF_DUTY."]


@pytest.mark.parametrize("body", [{}, {"work_status": "busy"}, {"work_status": "AVAILABLE", "reason": 7}])
def test_a_malformed_work_status_is_a_400(api, expert, expert_user, body):
    response = api(expert_user).patch(f"{EXPERTS}/{expert.id}/work-status", body, format="json")

    assert response.status_code == 400


def test_another_organization_and_a_colleague_cannot_move_the_work_status(api, expert, dispatcher, second_expert_user):
    for user in (dispatcher, second_expert_user):
        response = api(user).patch(f"{EXPERTS}/{expert.id}/work-status", {"work_status": "OFF_DUTY"}, format="json")
        assert response.status_code == 404
    with tenant_scope(expert.organization_id):
        assert ExpertPassport.objects.get(id=expert.id).work_status == "IDLE"


# --- Vocabulary, code check, the feature ------------------------------------------------------


def test_the_skills_vocabulary_lists_industries_skills_and_keys(api, customer, customer_organization):
    body = api(customer).get(f"{EXPERTS}/skills").json()

    electrical = next(industry for industry in body["industries"] if industry["code"] == "EL")
    assert {"code": "MOT", "key": "EL-MOT", "name": "Electric motors"} in electrical["skills"]
    assert "ME-PMP" in body["keys"] and len(body["keys"]) == sum(len(i["skills"]) for i in body["industries"])


def test_anyone_checks_an_expert_code_part_by_part(api, expert):
    valid = api().post(f"{EXPERTS}/codes/validate", {"code": expert.code.lower()}, format="json").json()
    code = expert.code
    swapped = code[:-5] + code[-4] + code[-5] + code[-3:]
    wrong = api().post(f"{EXPERTS}/codes/validate", {"code": swapped}, format="json").json()
    parts = api().post(f"{EXPERTS}/codes/validate", {"code": "EP-X-ZZ-MOT-2613-DE-00001-00"}, format="json").json()

    assert (valid["code"], valid["valid"], valid["errors"]) == (expert.code, True, {})
    assert valid["parts"]["industry"] == "EL"
    assert swapped != code  # the sequence's last two digits, 01 -> 10
    assert wrong["valid"] is False and list(wrong["errors"]) == ["checksum"]
    assert set(parts["errors"]) == {"expert_type", "industry", "year_month"}


@pytest.mark.parametrize("payload", [{}, {"code": 42}, {"code": "x" * 65}])
def test_a_malformed_code_check_is_a_400(api, payload):
    response = api().post(f"{EXPERTS}/codes/validate", payload, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["details"]


def test_without_the_feature_every_expert_endpoint_answers_feature_disabled(api, expert):
    organization = OrganizationFactory()  # expert_services is off by default
    client = api(member(organization))
    base = f"{EXPERTS}/{expert.id}"
    calls = [
        ("get", EXPERTS, None),
        ("post", EXPERTS, BODY),
        ("get", f"{EXPERTS}/skills", None),
        ("get", base, None),
        ("patch", base, {"headline": "X"}),
        ("patch", f"{base}/work-status", {"work_status": "AVAILABLE"}),
        ("get", f"{base}/matches", None),
        ("patch", f"{base}/matches/{expert.id}", {"status": "VIEWED"}),
        ("get", f"{base}/service-records", None),
        ("post", f"{base}/certifications", {"name": "X"}),
        ("delete", f"{base}/certifications/{expert.id}", None),
    ]

    answers = {
        f"{method.upper()} {path}": (
            getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
        )
        for method, path, body in calls
    }

    refused = {name: (answer.status_code, answer.json()["error_code"]) for name, answer in answers.items()}
    assert refused == dict.fromkeys(refused, (403, "FEATURE_DISABLED"))
    assert _experts(organization) == 0


def test_an_organization_with_the_feature_on_and_no_experts_sees_the_published_catalogue(api, expert):
    client = api(member(with_field_service(OrganizationFactory()), role=Role.CUSTOMER))

    assert _ids(client) == [str(expert.id)]
