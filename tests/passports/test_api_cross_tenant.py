"""Cross-tenant access to a device through the API (DESIGN.md §3, §9): another organization's
id answers 404 on every endpoint and verb; after a takeover the previous owner is such another
organization (its earlier download links included), and the new owner sees it all."""

from __future__ import annotations

import hashlib

import pytest

from tests.factories import OrganizationFactory, member
from tests.passports.api_support import URL, pdf, png, record, upload
from tests.passports.conftest import with_passports

pytestmark = pytest.mark.django_db

TAKEOVERS = f"{URL}/takeovers"


def _calls(client, passport_id, step_id) -> dict[str, object]:
    """Every passport endpoint with a device in its path, each verb it takes."""
    base = f"{URL}/{passport_id}"
    return {
        "GET detail": lambda: client.get(base),
        "PATCH detail": lambda: client.patch(base, {"device_name": "Mine now"}, format="json"),
        "PATCH status": lambda: client.patch(f"{base}/status", {"status": "decommissioned"}, format="json"),
        "GET events": lambda: client.get(f"{base}/events"),
        "POST events": lambda: client.post(f"{base}/events", {"kind": "decommissioned"}, format="json"),
        "POST attachments": lambda: client.post(
            f"{base}/attachments",
            {"file": upload("a.pdf", pdf(), "application/pdf"), "kind": "document"},
            format="multipart",
        ),
        "POST attachment to a step": lambda: client.post(
            f"{base}/attachments",
            {"file": upload("a.png", png(), "image/png"), "kind": "photo", "event_id": str(step_id)},
            format="multipart",
        ),
        "POST service-requests": lambda: client.post(
            f"{base}/service-requests", {"description": "Hums"}, format="json"
        ),
    }


def _statuses(client, passport_id, step_id) -> dict[str, int]:
    return {name: call().status_code for name, call in _calls(client, passport_id, step_id).items()}


@pytest.fixture
def documented(api, operator, engineer, qc_inspector, passport, manufacturer):
    """The passport with a document of its own and an installed step with a photo; returns
    (installed step, document as the owner saw it)."""
    record(qc_inspector, manufacturer, passport, "qc_passed")
    installed = record(engineer, manufacturer, passport, "installed", location="Line 3")
    api(engineer).post(
        f"{URL}/{passport.id}/attachments",
        {"file": upload("installed.png", png(), "image/png"), "kind": "photo", "event_id": str(installed.id)},
        format="multipart",
    )
    document = (
        api(operator)
        .post(
            f"{URL}/{passport.id}/attachments",
            {"file": upload("manual.pdf", pdf(), "application/pdf"), "kind": "document"},
            format="multipart",
        )
        .json()
    )
    return installed, document


@pytest.fixture
def transferred(api, operator, passport, claimant_admin, documented):
    claim = (
        api(claimant_admin)
        .post(TAKEOVERS, {"code": passport.code, "serial_number": passport.serial_number}, format="json")
        .json()
    )
    assert api(operator).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json").status_code == 200
    return claim


@pytest.fixture
def outsider():
    """An organization with the feature on, a stranger to the device, and its admin (who may do anything)."""
    return member(with_passports(OrganizationFactory(name="Outsider Works")))


def test_before_approval_a_claimant_reaches_nothing_of_the_device(api, passport, claimant_admin, documented):
    installed, _document = documented
    api(claimant_admin).post(TAKEOVERS, {"code": passport.code, "serial_number": passport.serial_number}, format="json")

    statuses = _statuses(api(claimant_admin), passport.id, installed.id)

    assert statuses == dict.fromkeys(statuses, 404)


def test_after_a_transfer_the_previous_owner_gets_404_on_every_endpoint_and_its_old_links(
    api, operator, owner_admin, passport, documented, transferred
):
    installed, document = documented

    for client in (api(operator), api(owner_admin)):
        statuses = _statuses(client, passport.id, installed.id)
        assert statuses == dict.fromkeys(statuses, 404)
    assert api().get(document["download_url"]).status_code == 404


def test_after_a_transfer_the_new_owner_reads_the_device_its_history_and_files(
    api, passport, claimant_admin, documented, transferred
):
    installed, document = documented
    client = api(claimant_admin)

    detail = client.get(f"{URL}/{passport.id}")
    events = client.get(f"{URL}/{passport.id}/events")

    assert detail.status_code == events.status_code == 200
    [shown] = detail.json()["documents"]
    assert shown["id"] == document["id"] and shown["download_url"] != document["download_url"]
    download = api().get(shown["download_url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == document["sha256"]
    photos = [row for step in events.json()["data"] for row in step["attachments"]]
    assert [row["event_id"] for row in photos] == [str(installed.id)]
    assert api().get(photos[0]["download_url"]).status_code == 200
    assert client.patch(f"{URL}/{passport.id}", {"device_name": "Ours"}, format="json").status_code == 200


def test_a_third_organization_gets_404_on_the_device_before_and_after_a_transfer(
    api, passport, outsider, documented, operator, claimant_admin
):
    installed, _document = documented
    client = api(outsider)
    before = _statuses(client, passport.id, installed.id)
    claim = (
        api(claimant_admin)
        .post(TAKEOVERS, {"code": passport.code, "serial_number": passport.serial_number}, format="json")
        .json()
    )

    on_the_claim = {
        "GET takeover": client.get(f"{TAKEOVERS}/{claim['id']}").status_code,
        "approve": client.post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json").status_code,
        "reject": client.post(f"{TAKEOVERS}/{claim['id']}/reject", {"reason": "No"}, format="json").status_code,
        "cancel": client.post(f"{TAKEOVERS}/{claim['id']}/cancel", {}, format="json").status_code,
    }
    api(operator).post(f"{TAKEOVERS}/{claim['id']}/approve", {}, format="json")
    after = _statuses(client, passport.id, installed.id)

    assert before == dict.fromkeys(before, 404)
    assert on_the_claim == dict.fromkeys(on_the_claim, 404)
    assert after == dict.fromkeys(after, 404)
    assert client.get(f"{URL}?q={passport.code}").json()["data"] == []
    assert client.get(TAKEOVERS).json()["data"] == []


def test_another_organizations_service_request_is_404(api, operator, passport, outsider):
    asked = api(operator).post(f"{URL}/{passport.id}/service-requests", {"description": "Hums"}, format="json").json()
    client = api(outsider)

    assert client.get(f"{URL}/service-requests/{asked['id']}").status_code == 404
    moved = client.patch(f"{URL}/service-requests/{asked['id']}/status", {"status": "closed"}, format="json")
    assert moved.status_code == 404
    assert client.get(f"{URL}/service-requests").json()["data"] == []
    assert api(operator).get(f"{URL}/service-requests/{asked['id']}").json()["status"] == "open"
