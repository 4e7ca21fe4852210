"""Webhook endpoints and their delivery log through the API: the secret shown once, the
checks of the URL and the patterns, another organization's rows 404, constant list queries."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from apps.webhooks.models import DeliveryStatus, WebhookDelivery
from apps.webhooks.signing import secret_decrypt
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/endpoints"
BODY = {"url": "https://hooks.example.test/manifest", "event_types": ["order.*", "escrow.funded"]}


@pytest.fixture
def admin(organization):
    return member(organization)


def _create(client, **overrides) -> dict:
    response = client.post(URL, {**BODY, **overrides}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_secret_is_shown_once_at_creation_and_stored_encrypted(api, admin, organization):
    client = api(admin)

    created = _create(client, description="ERP")

    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert (created["url"], created["event_types"], created["is_active"]) == (BODY["url"], BODY["event_types"], True)
    detail = client.get(f"{URL}/{created['id']}").json()
    listed = client.get(URL).json()["data"]
    assert "secret" not in detail and all("secret" not in row for row in listed)
    with tenant_scope(organization.id):
        from apps.webhooks.models import WebhookEndpoint

        stored = WebhookEndpoint.objects.get(pk=created["id"])
    assert secret not in stored.secret_encrypted and secret_decrypt(stored.secret_encrypted) == secret


def test_rotating_gives_a_new_secret_once_and_keeps_the_old_one_for_the_overlap(api, admin, settings):
    client = api(admin)
    created = _create(client)

    rotated = client.post(f"{URL}/{created['id']}/rotate-secret")

    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None and body["secret_rotated_at"] is not None
    assert "secret" not in client.get(f"{URL}/{created['id']}").json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_types": ["ordr.*"]}, "event_types"),
        ({"event_types": ["order.created", "nothing.here"]}, "event_types"),
        ({"event_types": []}, "event_types"),
        ({"url": "ftp://hooks.example.test/"}, "url"),
        ({"url": "https://user:secret@hooks.example.test/"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_an_invalid_endpoint_is_refused_with_the_field_named(api, admin, overrides, field):
    response = api(admin).post(URL, {**BODY, **overrides}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] in {"VALIDATION_FIELD_INVALID", "VALIDATION_FIELD_REQUIRED"}
    assert field in response.json()["details"]


@pytest.mark.parametrize(
    "url", sorted(["http://127.0.0.1:8000/hooks", "http://[::1]/", "http://169.254.169.254/", "http://localhost/"])
)
def test_a_url_on_a_private_network_is_refused_when_they_are_not_allowed(api, admin, settings, url):
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = False

    response = api(admin).post(URL, {**BODY, "url": url}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_INVALID"
    assert "may not be called" in response.json()["details"]["url"][0]


def test_the_same_url_is_accepted_where_private_networks_are_allowed(api, admin):
    assert _create(api(admin), url="http://127.0.0.1:8000/hooks")["url"] == "http://127.0.0.1:8000/hooks"


def test_an_endpoint_is_changed_switched_off_and_back_on(api, admin):
    client = api(admin)
    endpoint = _create(client)

    off = client.patch(f"{URL}/{endpoint['id']}", {"is_active": False, "event_types": ["*"]}, format="json").json()
    on = client.patch(f"{URL}/{endpoint['id']}", {"is_active": True}, format="json").json()

    assert (off["is_active"], off["event_types"], off["disabled_reason"] != "") == (False, ["*"], True)
    assert (on["is_active"], on["disabled_reason"], on["disabled_at"], on["consecutive_failures"]) == (
        True,
        "",
        None,
        0,
    )


def test_an_endpoint_is_removed(api, admin):
    client = api(admin)
    endpoint = _create(client)

    assert client.delete(f"{URL}/{endpoint['id']}").status_code == 204
    assert client.get(f"{URL}/{endpoint['id']}").status_code == 404


def test_only_organization_admins_manage_webhooks(api, organization):
    shipper = member(organization, role=Role.SHIPPER)

    assert api(shipper).get(URL).status_code == 403
    assert api(shipper).post(URL, BODY, format="json").json()["error_code"] == "RBAC_PERMISSION_DENIED"


def test_a_ping_is_a_pending_delivery_in_the_log(api, admin):
    client = api(admin)
    endpoint = _create(client)

    ping = client.post(f"{URL}/{endpoint['id']}/ping")

    assert ping.status_code == 202
    assert (ping.json()["event_type"], ping.json()["status"]) == ("webhook.ping", "pending")
    log = client.get(f"{URL}/{endpoint['id']}/deliveries").json()
    assert [row["id"] for row in log["data"]] == [ping.json()["id"]]
    detail = client.get(f"/api/v1/webhooks/deliveries/{ping.json()['id']}").json()
    assert '"type":"webhook.ping"' in detail["body"] and detail["attempts"] == []


def test_a_switched_off_endpoint_is_not_pinged(api, admin):
    client = api(admin)
    endpoint = _create(client, is_active=False)

    response = client.post(f"{URL}/{endpoint['id']}/ping")

    assert response.status_code == 422 and response.json()["error_code"] == "INVALID_STATE_TRANSITION"


def _deliveries(organization, endpoint_id, statuses):
    with tenant_scope(organization.id):
        return WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    organization_id=organization.id,
                    endpoint_id=endpoint_id,
                    event_id=uuid.uuid4(),
                    event_type="order.created",
                    body="{}",
                    status=status,
                )
                for status in statuses
            ]
        )


def test_the_log_is_filtered_by_status(api, admin, organization):
    client = api(admin)
    endpoint = _create(client)
    _deliveries(organization, endpoint["id"], ["pending", "delivered", "failed", "failed"])

    failed = client.get(f"{URL}/{endpoint['id']}/deliveries?status=failed").json()
    wrong = client.get(f"{URL}/{endpoint['id']}/deliveries?status=lost")

    assert [row["status"] for row in failed["data"]] == ["failed", "failed"] and failed["meta"]["total"] == 2
    assert wrong.status_code == 400 and "status" in wrong.json()["details"]


def test_a_redelivery_starts_a_new_sequence(api, admin, organization):
    client = api(admin)
    endpoint = _create(client)
    [delivery] = _deliveries(organization, endpoint["id"], [DeliveryStatus.FAILED])

    response = client.post(f"/api/v1/webhooks/deliveries/{delivery.id}/redeliver")

    assert response.status_code == 202
    assert (response.json()["status"], response.json()["sequence"], response.json()["attempt_count"]) == (
        "pending",
        2,
        0,
    )


def test_the_endpoint_list_runs_the_same_queries_for_3_or_30_endpoints(api, admin):
    few, many = 3, 30
    client = api(admin)
    for _ in range(few):
        _create(client)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(URL).json()["data"]) == few
    queries_for_few = len(three.captured_queries)
    for _ in range(many - few):
        _create(client)
    with CaptureQueriesContext(connection) as thirty:
        assert len(client.get(f"{URL}?limit=50").json()["data"]) == many
    assert len(thirty.captured_queries) == queries_for_few


def test_the_delivery_log_runs_the_same_queries_for_3_or_30_deliveries(api, admin, organization):
    client = api(admin)
    endpoint = _create(client)
    _deliveries(organization, endpoint["id"], ["pending"] * 3)
    with CaptureQueriesContext(connection) as three:
        assert len(client.get(f"{URL}/{endpoint['id']}/deliveries").json()["data"]) == 3
    queries_for_three = len(three.captured_queries)
    _deliveries(organization, endpoint["id"], ["failed"] * 27)
    with CaptureQueriesContext(connection) as thirty:
        assert len(client.get(f"{URL}/{endpoint['id']}/deliveries?limit=50").json()["data"]) == 30
    assert len(thirty.captured_queries) == queries_for_three


def test_another_organizations_endpoints_and_deliveries_are_404_on_every_verb(api, admin, organization):
    other = OrganizationFactory()
    theirs = _create(api(member(other)))
    [their_delivery] = _deliveries(other, theirs["id"], ["failed"])
    client = api(admin)
    endpoint_url = f"{URL}/{theirs['id']}"
    delivery_url = f"/api/v1/webhooks/deliveries/{their_delivery.id}"

    answers = [
        client.get(endpoint_url),
        client.patch(endpoint_url, {"description": "mine now"}, format="json"),
        client.delete(endpoint_url),
        client.post(f"{endpoint_url}/rotate-secret"),
        client.post(f"{endpoint_url}/ping"),
        client.get(f"{endpoint_url}/deliveries"),
        client.get(delivery_url),
        client.post(f"{delivery_url}/redeliver"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert all(answer.json()["error_code"] == "NOT_FOUND" for answer in answers)
    assert client.get(URL).json()["data"] == []
