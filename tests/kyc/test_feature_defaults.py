"""Features that follow the KYC gate (escrow): off by default until the organization is
verified, on by default from then, and switched back on by an admin who switched them off."""

from __future__ import annotations

import pytest

from tests.kyc.test_review import verified

pytestmark = pytest.mark.django_db


def escrow_flag(api, admin, organization) -> dict:
    body = api(admin).get(f"/api/v1/organizations/{organization.id}/features").json()
    [state] = [state for state in body["data"] if state["name"] == "escrow"]
    return {key: state[key] for key in ("is_entitled", "is_enabled", "is_active")}


def switch_escrow(api, admin, organization, enabled: bool):
    return api(admin).patch(
        f"/api/v1/organizations/{organization.id}/features/escrow", {"enabled": enabled}, format="json"
    )


def test_escrow_is_off_by_default_for_an_unverified_organization(api, shipper_org):
    # given a new organization that has not passed KYC
    organization, admin = shipper_org
    # when its admin reads the flags and calls an escrow endpoint
    flag = escrow_flag(api, admin, organization)
    response = api(admin).get("/api/v1/payments/escrow")
    # then escrow is entitled but off, and the endpoint says so
    assert flag == {"is_entitled": True, "is_enabled": False, "is_active": False}
    assert (response.status_code, response.json()["error_code"]) == (403, "FEATURE_DISABLED")


def test_escrow_comes_on_by_default_when_the_organization_is_verified(api, shipper_org, staff):
    # given an unverified organization whose flags were read (and cached)
    organization, admin = shipper_org
    assert escrow_flag(api, admin, organization)["is_active"] is False
    # when staff approve its KYC documents
    verified(api, staff, organization, admin)
    # then escrow is on by default, at once
    assert escrow_flag(api, admin, organization) == {"is_entitled": True, "is_enabled": True, "is_active": True}
    assert api(admin).get("/api/v1/payments/escrow").status_code == 200


def test_an_admin_who_switched_escrow_off_switches_it_back_on_once_verified(api, shipper_org, staff):
    # given an unverified organization whose admin switched escrow off
    organization, admin = shipper_org
    assert switch_escrow(api, admin, organization, False).status_code == 200
    refused = switch_escrow(api, admin, organization, True)
    # when it is verified and the admin switches escrow on
    verified(api, staff, organization, admin)
    assert escrow_flag(api, admin, organization)["is_enabled"] is False  # their choice is kept
    switched = switch_escrow(api, admin, organization, True)
    # then it was refused while unverified, and is on now
    assert (refused.status_code, refused.json()["error_code"]) == (422, "KYC_NOT_VERIFIED")
    assert switched.status_code == 200
    assert escrow_flag(api, admin, organization) == {"is_entitled": True, "is_enabled": True, "is_active": True}


def test_a_flag_without_the_gate_keeps_its_catalogue_default(api, shipper_org):
    organization, admin = shipper_org
    body = api(admin).get(f"/api/v1/organizations/{organization.id}/features").json()
    chat = next(state for state in body["data"] if state["name"] == "chat")
    assert (chat["is_entitled"], chat["is_enabled"]) == (True, True)
