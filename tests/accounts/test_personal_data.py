"""Personal data: a person exports what the platform holds about them (a worker builds the
archive) and asks to be erased (anonymized after a grace period, or at once by staff)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import ErasureRequest, PersonalDataExport
from apps.accounts.services import personal_data as personal_data_services
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.orders import services as order_services
from apps.orders.models import Order
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Membership
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.support import admin_client, wait_until

PASSWORD = "correct-horse-battery"
EXPORT = "/api/v1/me/export"
ERASURE = "/api/v1/me/erasure"


def freight_order(client_org, supplier_org, created_by, *, item="Pallet of bearings"):
    with tenant_scope(client_org.id, user_id=created_by.id):
        return order_services.order_create(
            order_input=order_services.OrderInput(
                kind="freight",
                client_organization_id=client_org.id,
                supplier_organization_id=supplier_org.id,
                currency="EUR",
                items=[order_services.ItemInput(name=item, quantity=1, unit_price=Decimal("100"))],
            ),
            actor=Actor(user_id=created_by.id),
        )


def download(body) -> dict:
    # The link is the permission: no credentials.
    response = APIClient().get(body["download_url"])
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def audit_rows_of(user_id) -> list[AuditLog]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(actor_id=user_id))


def audit_text_mentions(text: str) -> list[str]:
    with system_scope(reason="test reads the audit log", audit=False):
        rows = AuditLog.objects.values_list("action", "old_values", "new_values", "resource_id")
        return [row[0] for row in rows if text.lower() in json.dumps(row[1:]).lower()]


# --- Export ------------------------------------------------------------------------------------


def test_a_real_worker_builds_the_export_with_the_persons_data_and_nobody_elses(api, celery_worker):
    # given a shipper with an order they created, and a colleague with one of their own
    shipper_org, carrier_org = OrganizationFactory(name="Baltic Shippers"), OrganizationFactory(name="Volga Carriers")
    person = member(shipper_org, Role.SHIPPER, user=UserFactory(email="anna.export@example.test", phone="+4915112345"))
    colleague = member(shipper_org, Role.SHIPPER, user=UserFactory(email="colleague.export@example.test"))
    own_order = freight_order(shipper_org, carrier_org, person)
    other_order = freight_order(shipper_org, carrier_org, colleague)
    client = api(person)

    # when the person asks for their export
    first = client.get(EXPORT)
    assert first.status_code == 202, first.content
    assert first.json()["status"] == "pending"
    assert first.json()["download_url"] is None

    # then the worker builds it and the same endpoint serves a signed link to it
    assert wait_until(lambda: client.get(EXPORT).status_code == 200, timeout=30), "the worker never built it"
    body = client.get(EXPORT).json()
    assert body["id"] == first.json()["id"]
    assert body["status"] == "ready"
    assert body["download_url_expires_in"] == settings.PERSONAL_DATA_EXPORT_URL_MAX_AGE
    archive = download(body)

    assert archive["profile"]["email"] == "anna.export@example.test"
    assert archive["profile"]["phone"] == "+4915112345"
    assert [m["organization__name"] for m in archive["memberships"]] == ["Baltic Shippers"]
    assert [o["number"] for o in archive["orders"]] == [own_order.number]
    assert archive["sessions"], "the API session of the person is part of their data"
    assert {row["action"] for row in archive["audit_log"]} >= {"personal_data.export_requested"}
    text = json.dumps(archive)
    assert other_order.number not in text
    assert "colleague.export@example.test" not in text
    assert str(colleague.id) not in text


def test_get_export_shows_the_pending_export_instead_of_queueing_another(api, db):
    person = member()
    client = api(person)

    first, second = client.get(EXPORT), client.get(EXPORT)
    posted = client.post(EXPORT)

    assert first.status_code == second.status_code == posted.status_code == 202
    assert first.json()["id"] == second.json()["id"] == posted.json()["id"]
    with system_scope(reason="test counts exports", audit=False):
        assert PersonalDataExport.objects.filter(user=person).count() == 1


def test_another_user_never_sees_someones_export(api, db):
    person, stranger = member(), member()
    api(person).get(EXPORT)

    response = api(stranger).get(EXPORT)

    with system_scope(reason="test reads exports", audit=False):
        persons = PersonalDataExport.objects.get(user=person)
    assert response.status_code == 202
    assert response.json()["id"] != str(persons.id)


def test_a_tampered_download_link_is_not_found(db):
    response = APIClient().get(reverse("me-export-file", args=["not-a-signed-token"]))

    assert response.status_code == 404
    assert response.json()["error_code"] == "NOT_FOUND"


def test_export_needs_a_signed_in_user(db):
    response = APIClient().get(EXPORT)

    assert response.status_code == 401


# --- Erasure: asking, cancelling ---------------------------------------------------------------


def test_erasure_is_scheduled_after_the_grace_period_and_can_be_cancelled(api, db):
    person = member(OrganizationFactory(), Role.SHIPPER)
    client = api(person)

    asked = client.post(ERASURE, {"password": PASSWORD}, format="json")

    assert asked.status_code == 202, asked.content
    assert asked.json()["status"] == "scheduled"
    with system_scope(reason="test reads the request", audit=False):
        request = ErasureRequest.objects.get(user=person)
    grace = request.due_at - request.requested_at
    assert abs(grace - settings.PERSONAL_DATA_ERASURE_GRACE) < timedelta(seconds=5)
    assert client.post(ERASURE, {"password": PASSWORD}, format="json").json()["id"] == asked.json()["id"]

    assert client.delete(ERASURE).status_code == 204
    assert client.get(ERASURE).json()["status"] == "cancelled"
    assert client.delete(ERASURE).status_code == 404


def test_erasure_asks_for_the_password_again(api, db):
    person = member()

    response = api(person).post(ERASURE, {"password": "not-the-password"}, format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {"password": ["Incorrect."]}
    with system_scope(reason="test reads requests", audit=False):
        assert not ErasureRequest.objects.filter(user=person).exists()


def test_the_only_admin_of_an_organization_with_other_members_cannot_ask_for_erasure(api, db):
    organization = OrganizationFactory(name="Solo Admin Freight")
    admin = member(organization, Role.ORG_ADMIN)
    member(organization, Role.SHIPPER)

    response = api(admin).post(ERASURE, {"password": PASSWORD}, format="json")

    assert response.status_code == 422
    assert response.json()["details"]["organizations"] == [{"id": str(organization.id), "name": "Solo Admin Freight"}]


# --- Erasure: carried out ---------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(email="staff.erasure@example.test", is_staff=True, is_superuser=True)


def test_staff_see_erasure_requests_in_the_back_office(api, staff, db):
    person = member(user=UserFactory(email="listed.person@example.test"), role=Role.SHIPPER)
    api(person).post(ERASURE, {"password": PASSWORD}, format="json")

    page = admin_client(staff).get(reverse("admin:accounts_erasurerequest_changelist"))

    assert page.status_code == 200
    assert b"listed.person@example.test" in page.content
    assert b"Scheduled" in page.content


def test_an_organization_admin_does_not_see_erasure_requests(db):
    organization = OrganizationFactory()
    admin = member(organization, Role.ORG_ADMIN)

    page = admin_client(admin).get(reverse("admin:accounts_erasurerequest_changelist"))

    assert page.status_code in (302, 403)


def test_after_erasure_the_person_cannot_sign_in_and_their_identity_is_gone(api, staff, db):
    # given a shipper who created an order, failed a sign-in once (the audit log keeps the
    # address typed), and asked to be erased
    shipper_org, carrier_org = OrganizationFactory(), OrganizationFactory()
    email = "erin.erased@example.test"
    person = member(shipper_org, Role.SHIPPER, user=UserFactory(email=email, first_name="Erin", phone="+4917099887"))
    order = freight_order(shipper_org, carrier_org, person)
    anonymous = APIClient()
    anonymous.post("/api/v1/auth/login", {"email": email.upper(), "password": "wrong-password"}, format="json")
    signed_in = anonymous.post("/api/v1/auth/login", {"email": email, "password": PASSWORD}, format="json")
    access = signed_in.json()["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.post(ERASURE, {"password": PASSWORD}, format="json").status_code == 202
    assert audit_text_mentions(email), "the audit log names the person before erasure"

    # when staff carry it out from the back-office
    with system_scope(reason="test reads the request", audit=False):
        request = ErasureRequest.objects.get(user=person)
    page = admin_client(staff).post(
        reverse("admin:accounts_erasurerequest_changelist"),
        {"action": "carry_out_now", "_selected_action": [request.pk]},
        follow=True,
    )
    assert b"1 erasure(s) carried out." in page.content

    # then the user row names nobody
    person.refresh_from_db()
    assert person.email == f"erased-{person.id}@invalid"
    assert (person.first_name, person.last_name, person.phone) == ("", "", "")
    assert not person.is_active and not person.has_usable_password()
    # the audit log keeps the acts, without the name, address or browser
    assert audit_text_mentions(email) == []
    # and so do the security events of the sign-ins (their notifications are gone with them)
    with system_scope(reason="test reads the person's events", audit=False):
        sign_ins = list(OutboxEvent.objects.filter(event_type="account.signed_in", aggregate_id=str(person.id)))
    assert sign_ins and all(row.payload["ip_address"] == row.payload["user_agent"] == "" for row in sign_ins)
    assert audit_text_mentions("+4917099887") == []
    acts = audit_rows_of(person.id)
    assert {"auth.login", "user.erasure_requested"} <= {row.action for row in acts}
    assert all(row.ip_address is None and row.user_agent == "" for row in acts)
    # memberships ended; the order is still there, still made by the (anonymous) user row
    with system_scope(reason="test reads what others keep", audit=False):
        assert not Membership.objects.filter(user=person, is_active=True).exists()
        assert Order.objects.get(pk=order.pk).created_by_id == person.id
        request.refresh_from_db()
    assert request.status == "completed" and request.handled_by_id == staff.id
    # and the person can sign in no more, with the old token or the old password (checked last:
    # a failed sign-in logs the address typed, as for any unknown address)
    assert client.get(EXPORT).status_code == 401
    again = APIClient().post("/api/v1/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert again.status_code == 401


def test_a_due_erasure_is_carried_out_by_the_job(api, celery_worker, settings):
    # given a person whose grace period is over
    settings.PERSONAL_DATA_ERASURE_GRACE = timedelta(0)
    person = member(OrganizationFactory(), Role.SHIPPER)
    assert api(person).post(ERASURE, {"password": PASSWORD}, format="json").status_code == 202

    # when the hourly job runs
    from apps.accounts.tasks import personal_data_erase_due

    personal_data_erase_due.delay()

    # then the person is erased
    def erased() -> bool:
        person.refresh_from_db()
        return not person.is_active

    assert wait_until(erased, timeout=30), "the job never carried the erasure out"
    assert person.email == f"erased-{person.id}@invalid"


# --- The audit log's one exception stays narrow -----------------------------------------------


@pytest.mark.django_db(databases=["default", "owner"])
def test_even_during_an_erasure_the_act_of_an_audit_row_cannot_change():
    with (
        pytest.raises(DatabaseError, match="keeps the act"),
        transaction.atomic(using="owner"),
        connections["owner"].cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('app.audit_erasure', 'on', true), set_config('app.rls_bypass', 'on', true)")
        cursor.execute(
            "INSERT INTO tenancy_auditlog (id, occurred_at, action, resource_type, resource_id, user_agent,"
            " request_id) VALUES (gen_random_uuid(), now(), 'test.act', '', '', '', '')"
        )
        cursor.execute("UPDATE tenancy_auditlog SET action = 'tampered' WHERE action = 'test.act'")


def test_the_application_role_cannot_call_update_on_the_audit_log_even_with_the_erasure_setting(db):
    with (
        system_scope(reason="test: tamper", audit=False),
        pytest.raises(DatabaseError),
        transaction.atomic(),
        connections["default"].cursor() as cursor,
    ):
        cursor.execute("SELECT set_config('app.audit_erasure', 'on', true)")
        cursor.execute("UPDATE tenancy_auditlog SET new_values = NULL")


def test_erasure_takes_the_person_out_of_invitations_addressed_to_them(api, staff, db):
    # given a person with a pending invitation to another organization, addressed by e-mail
    home, inviting = OrganizationFactory(), OrganizationFactory()
    email = "ivan.invited@example.test"
    person = member(home, Role.SHIPPER, user=UserFactory(email=email))
    with tenant_scope(inviting.id):
        invitation = tenancy_services.invitation_create(
            organization=inviting, actor=Actor.system(), email=email, role=Role.BUYER, notify=False
        )
    with system_scope(reason="test reads the export's contents", audit=False):
        export = personal_data_services.personal_data_collect(user_id=person.id)
    assert [row["id"] for row in export["invitations"]] == [invitation.id]

    # when the person is erased
    client = api(person)
    assert client.post(ERASURE, {"password": PASSWORD}, format="json").status_code == 202
    with system_scope(reason="test reads the request", audit=False):
        request = ErasureRequest.objects.get(user=person)
    personal_data_services.erasure_carry_out(request_id=request.id, actor=Actor.staff(staff.id))

    # then the inviting organization keeps that it invited someone, revoked, without the address
    with system_scope(reason="test reads what others keep", audit=False):
        invitation.refresh_from_db()
    assert invitation.email == f"erased-{person.id}@invalid"
    assert invitation.status == "revoked"


def erasure_events(request_id) -> list[str]:
    with system_scope(reason="test reads the outbox", audit=False):
        return list(
            OutboxEvent.objects.filter(event_type="erasure_request.status_changed", aggregate_id=str(request_id))
            .order_by("created_at")
            .values_list("payload__status", flat=True)
        )


def test_asking_cancelling_and_refusing_an_erasure_each_publish_an_event(api, staff, db):
    # given a person who asks for erasure, changes their mind, then asks again
    person = member(OrganizationFactory(), Role.SHIPPER)
    client = api(person)
    first = client.post(ERASURE, {"password": PASSWORD}, format="json").json()["id"]
    client.delete(ERASURE)
    second = client.post(ERASURE, {"password": PASSWORD}, format="json").json()["id"]

    # when staff write why they refuse the second request in its note, then refuse it
    change = reverse("admin:accounts_erasurerequest_change", args=[second])
    admin_client(staff).post(change, {"staff_note": "Legal hold: open dispute"})
    page = admin_client(staff).post(
        reverse("admin:accounts_erasurerequest_changelist"),
        {"action": "refuse", "_selected_action": [second]},
        follow=True,
    )

    # then every change of status is an event for the person's notifier
    assert page.status_code == 200
    assert erasure_events(first) == ["scheduled", "cancelled"]
    assert erasure_events(second) == ["scheduled", "refused"]
    # and the note was written through its service: audited, with who wrote it
    with system_scope(reason="test reads the audit log", audit=False):
        noted = AuditLog.objects.get(action="user.erasure_noted", resource_id=str(person.id))
    assert noted.actor_id == staff.id
    assert noted.new_values["staff_note"] == "Legal hold: open dispute"
