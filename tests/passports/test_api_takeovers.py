"""Takeover of a device through the API: a claim with the code and serial number printed on it,
the owner's approval (ownership moves, the history goes with it and a `transferred` step is
recorded) or rejection, the claimant's withdrawal, the claims refused, staff deciding when the
owner is gone, and constant list queries."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.passports.models import PassportTakeover
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.passports.api_support import URL, all_events, query_count, record, stored_steps
from tests.passports.conftest import register, with_passports

pytestmark = pytest.mark.django_db

TAKEOVERS = f"{URL}/takeovers"


def _claim(client, passport, **fields):
    body = {
        "code": passport.code,
        "serial_number": passport.serial_number,
        "message": "Bought it at auction.",
        **fields,
    }
    return client.post(TAKEOVERS, body, format="json")


def _claims(organization) -> int:
    with tenant_scope(organization.id):
        return PassportTakeover.objects.count()


def test_an_approved_claim_moves_the_device_with_its_whole_history(
    api, passport, manufacturer, operator, qc_inspector, claimant_organization, claimant_admin
):
    record(qc_inspector, manufacturer, passport, "qc_passed")
    claimant = api(claimant_admin)

    claim = _claim(claimant, passport)
    assert claim.status_code == 201, claim.json()
    assert (claim.json()["status"], claim.json()["direction"]) == ("pending", "outgoing")
    assert claimant.get(f"{URL}/{passport.id}").status_code == 404  # not theirs yet
    incoming = api(operator).get(f"{TAKEOVERS}?direction=incoming").json()["data"]
    assert [(row["id"], row["direction"], row["to_organization_name"]) for row in incoming] == [
        (claim.json()["id"], "incoming", claimant_organization.name)
    ]

    approved = api(operator).post(f"{TAKEOVERS}/{claim.json()['id']}/approve", {}, format="json")

    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved" and approved.json()["decided_at"] is not None
    assert api(operator).get(f"{URL}/{passport.id}").status_code == 404
    detail = claimant.get(f"{URL}/{passport.id}")
    assert detail.status_code == 200 and detail.json()["code"] == passport.code
    steps = all_events(claimant, passport.id)
    assert [step["kind"] for step in steps] == ["manufactured", "qc_passed", "transferred"]
    transferred = steps[-1]
    assert transferred["details"]["to_organization_name"] == claimant_organization.name
    assert transferred["recorded_by_organization_name"] == manufacturer.name
    # The previous owner's people are not named to the new owner.
    assert [step["recorded_by"] for step in steps] == [None, None, None]
    assert claimant.get(f"{TAKEOVERS}/{claim.json()['id']}").json()["status"] == "approved"


def test_the_new_owner_records_the_next_steps_and_sees_who_did(api, passport, claimant_organization, operator):
    claimant_operator = member(claimant_organization, role=Role.OPERATOR)
    claim = _claim(api(claimant_operator), passport).json()
    api(operator).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json")

    response = api(claimant_operator).patch(f"{URL}/{passport.id}/status", {"status": "decommissioned"}, format="json")

    assert response.status_code == 200, response.json()
    step = response.json()["last_events"][-1]
    assert (step["kind"], step["recorded_by"]["id"]) == ("decommissioned", str(claimant_operator.id))
    assert step["recorded_by_organization_name"] == claimant_organization.name


def test_a_rejected_claim_leaves_the_device_where_it_was(api, passport, manufacturer, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()

    rejected = api(operator).post(f"{TAKEOVERS}/{claim['id']}/reject", {"reason": "Not sold."}, format="json")

    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_reason"]) == ("rejected", "Not sold.")
    assert api(operator).get(f"{URL}/{passport.id}").status_code == 200
    assert api(claimant_admin).get(f"{URL}/{passport.id}").status_code == 404
    assert api(claimant_admin).get(f"{TAKEOVERS}/{claim['id']}").json()["status"] == "rejected"
    assert stored_steps(manufacturer, passport) == ["manufactured"]


def test_a_rejection_needs_a_reason(api, passport, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()

    response = api(operator).post(f"{TAKEOVERS}/{claim['id']}/reject", {}, format="json")

    assert response.status_code == 400 and "reason" in response.json()["details"]
    assert api(operator).get(f"{TAKEOVERS}/{claim['id']}").json()["status"] == "pending"


def test_the_claimant_withdraws_its_claim_and_the_owner_cannot_withdraw_it(api, passport, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()

    by_owner = api(operator).post(f"{TAKEOVERS}/{claim['id']}/cancel", {}, format="json")
    by_claimant = api(claimant_admin).post(f"{TAKEOVERS}/{claim['id']}/cancel", {"reason": "Wrong unit"}, format="json")

    assert by_owner.status_code == 422 and by_owner.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert by_claimant.status_code == 200 and by_claimant.json()["status"] == "cancelled"
    approve = api(operator).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json")
    assert approve.status_code == 422  # decided already
    assert api(operator).get(f"{URL}/{passport.id}").status_code == 200


def test_the_claimant_cannot_approve_its_own_claim(api, passport, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()

    response = api(claimant_admin).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert api(operator).get(f"{URL}/{passport.id}").status_code == 200


def test_a_wrong_serial_number_is_answered_as_an_unknown_code(api, passport, claimant_organization, claimant_admin):
    client = api(claimant_admin)

    wrong_serial = _claim(client, passport, serial_number="SN-999999")
    unknown_code = _claim(client, passport, code="ZZZ-2612-MO-DE-000001-00")

    assert wrong_serial.status_code == unknown_code.status_code == 404
    assert wrong_serial.json()["message"] == unknown_code.json()["message"]
    assert wrong_serial.json()["details"] == unknown_code.json()["details"]
    assert _claims(claimant_organization) == 0


def test_a_claim_on_ones_own_device_is_refused(api, passport, manufacturer, operator):
    response = _claim(api(operator), passport)

    assert response.status_code == 422
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert _claims(manufacturer) == 0


def test_a_second_pending_claim_by_the_same_organization_is_refused(
    api, passport, claimant_organization, claimant_admin
):
    client = api(claimant_admin)
    assert _claim(client, passport).status_code == 201

    again = _claim(client, passport, message="Again")

    assert again.status_code == 422 and again.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert _claims(claimant_organization) == 1


def test_a_claim_on_a_decommissioned_device_is_refused(api, passport, operator, claimant_organization, claimant_admin):
    api(operator).patch(f"{URL}/{passport.id}/status", {"status": "decommissioned"}, format="json")

    response = _claim(api(claimant_admin), passport)

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"
    assert _claims(claimant_organization) == 0


@pytest.mark.parametrize(
    "payload", [{}, {"code": "ADG-2612-MO-DE-000001-66"}, {"code": 7, "serial_number": "SN"}, {"code": "x" * 41}]
)
def test_a_malformed_claim_is_a_400(api, claimant_organization, claimant_admin, payload):
    response = api(claimant_admin).post(TAKEOVERS, payload, format="json")

    assert response.status_code == 400
    assert _claims(claimant_organization) == 0


@pytest.mark.parametrize("role", sorted([Role.QC_INSPECTOR, Role.ENGINEER, Role.CUSTOMER]))
def test_roles_that_do_not_manage_devices_neither_claim_nor_decide(
    api, passport, manufacturer, operator, claimant_organization, claimant_admin, role
):
    claim = _claim(api(claimant_admin), passport).json()
    owner_member = member(manufacturer, role=role)
    claimant_member = member(claimant_organization, role=role)

    assert _claim(api(claimant_member), passport, message="mine").status_code == 403
    approve = api(owner_member).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json")
    assert approve.status_code == 403 and approve.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert api(owner_member).get(TAKEOVERS).status_code == 403
    assert api(operator).get(f"{TAKEOVERS}/{claim['id']}").json()["status"] == "pending"


def test_staff_approve_a_claim_when_the_owner_is_gone(api, passport, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()
    staff = UserFactory(is_staff=True)  # a member of no organization

    queue = api(staff).get(TAKEOVERS)
    approved = api(staff).post(f"{TAKEOVERS}/{claim['id']}/approve", {"reason": "Owner closed."}, format="json")

    assert queue.status_code == 200 and [row["id"] for row in queue.json()["data"]] == [claim["id"]]
    assert queue.json()["data"][0]["direction"] is None
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert api(claimant_admin).get(f"{URL}/{passport.id}").status_code == 200
    assert api(operator).get(f"{URL}/{passport.id}").status_code == 404
    assert api(staff).get(TAKEOVERS).json()["data"] == []  # nothing pending any more


def test_staff_neither_claim_nor_withdraw(api, passport, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()
    staff = UserFactory(is_staff=True)

    assert _claim(api(staff), passport).status_code == 403
    assert api(staff).post(f"{TAKEOVERS}/{claim['id']}/cancel", {}, format="json").status_code == 403
    assert api(claimant_admin).get(f"{TAKEOVERS}/{claim['id']}").json()["status"] == "pending"


def test_another_claim_on_the_device_ends_when_one_is_approved(api, passport, operator, claimant_admin):
    third = with_passports(OrganizationFactory(name="Third Plant"))
    third_admin = member(third)
    first = _claim(api(claimant_admin), passport).json()
    second = _claim(api(third_admin), passport).json()

    api(operator).post(f"{TAKEOVERS}/{first['id']}/approve", {}, format="json")

    assert api(third_admin).get(f"{TAKEOVERS}/{second['id']}").json()["status"] == "rejected"


def test_both_sides_list_the_claim_by_direction(api, passport, operator, claimant_admin):
    claim = _claim(api(claimant_admin), passport).json()

    def ids(client, query=""):
        return [row["id"] for row in client.get(f"{TAKEOVERS}{query}").json()["data"]]

    assert ids(api(operator)) == ids(api(operator), "?direction=incoming") == [claim["id"]]
    assert ids(api(operator), "?direction=outgoing") == []
    assert ids(api(claimant_admin), "?direction=outgoing") == [claim["id"]]
    assert ids(api(claimant_admin), "?direction=incoming") == []
    assert api(operator).get(f"{TAKEOVERS}?direction=sideways").status_code == 400


def test_the_claims_list_runs_the_same_queries_for_3_or_15_claims(api, operator, manufacturer, claimant_admin):
    devices = [register(operator, manufacturer, serial_number=f"T-{number}") for number in range(15)]
    claimant = api(claimant_admin)
    for device in devices[:3]:
        _claim(claimant, device)
    client = api(operator)
    client.get(TAKEOVERS)  # warms the per-organization feature cache
    few, body = query_count(client, f"{TAKEOVERS}?limit=50")
    assert len(body["data"]) == 3
    for device in devices[3:]:
        _claim(claimant, device)

    many, body = query_count(client, f"{TAKEOVERS}?limit=50")

    assert len(body["data"]) == 15
    assert many == few
