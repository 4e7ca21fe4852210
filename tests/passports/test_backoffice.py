"""Device passports in the back-office: staff see every organization's devices with their
lifecycle, print labels, and work the takeover queue (deciding as staff, with a reason); an
organization admin sees their own devices, corrects their records through the service, decides
the claims on them as the owner, and works their service requests; with device passports
switched off, the pages are hidden from them. Every write is a service call."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.core.uploads import Upload
from apps.passports import services
from apps.passports.models import (
    DevicePassport,
    PassportEvent,
    PassportServiceRequest,
    PassportTakeover,
    ServiceRequestStatusChange,
)
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.passports.conftest import actor_of, register, with_passports
from tests.support import admin_client

pytestmark = pytest.mark.django_db

PASSPORTS = reverse("admin:passports_devicepassport_changelist")
TAKEOVERS = reverse("admin:passports_passporttakeover_changelist")
REQUESTS = reverse("admin:passports_passportservicerequest_changelist")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def claimant_passport(claimant_organization):
    """A device of the claimant organization's own (registered by its operator)."""
    return register(member(claimant_organization, Role.OPERATOR), claimant_organization, serial_number="BPS-1")


def page_of(passport) -> str:
    return reverse("admin:passports_devicepassport_change", args=[passport.pk])


def stored(model, pk):
    with system_scope(reason="test reads the stored row", audit=False):
        return model.objects.get(pk=pk)


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def act(user, changelist: str, action: str, rows, **extra):
    data = {"action": action, "_selected_action": [str(row.pk) for row in rows], **extra}
    return admin_client(user).post(changelist, data, follow=True)


def record(user, organization, passport, kind: str, **fields):
    with tenant_scope(organization.id, user_id=user.id):
        return services.passport_event_record(
            actor=actor_of(user, organization),
            passport_id=passport.id,
            data=services.LifecycleInput(kind=kind, **fields),
        )


def claim(passport, organization, user, message: str = ""):
    with tenant_scope(organization.id, user_id=user.id):
        return services.takeover_request(
            actor=actor_of(user, organization),
            code=passport.code,
            serial_number=passport.serial_number,
            message=message,
        )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def public_request(passport, **fields):
    data = {
        "description": "Water under the seal.",
        "contact_name": "Mart Tamm",
        "contact_email": "mart@example.test",
        **fields,
    }
    return services.service_request_submit_public(code=passport.code, data=services.ServiceRequestInput(**data))


# --- the devices --------------------------------------------------------------------------------


def test_staff_see_every_organizations_devices_with_their_owners(
    staff, passport, claimant_passport, manufacturer, claimant_organization
):
    response = admin_client(staff).get(PASSPORTS)

    assert response.status_code == 200
    assert {row.pk for row in listed(response)} == {passport.pk, claimant_passport.pk}
    body = response.content.decode()
    assert passport.code in body and claimant_passport.code in body
    assert manufacturer.name in body and claimant_organization.name in body


@pytest.mark.parametrize(
    ("term", "found"),
    [("SN-000001", "ours"), ("BPS-1", "theirs"), ("-MO-DE-", "both"), ("Servo motor", "both"), ("nothing", "none")],
)
def test_staff_search_devices_by_code_serial_number_or_name(staff, passport, claimant_passport, term, found):
    expected = {
        "ours": {passport.pk},
        "theirs": {claimant_passport.pk},
        "both": {passport.pk, claimant_passport.pk},
        "none": set(),
    }[found]

    response = admin_client(staff).get(PASSPORTS, {"q": term})

    assert {row.pk for row in listed(response)} == expected


def test_staff_search_by_a_full_code_finds_that_device(staff, passport, claimant_passport):
    response = admin_client(staff).get(PASSPORTS, {"q": claimant_passport.code})

    assert [row.pk for row in listed(response)] == [claimant_passport.pk]


def test_devices_filter_by_status_and_product_type(staff, passport, qc_inspector, manufacturer, operator):
    pump = register(operator, manufacturer, serial_number="PU-1", product_type="PU", device_name="Pump")
    record(qc_inspector, manufacturer, passport, "qc_passed")

    passed = admin_client(staff).get(PASSPORTS, {"status": "qc_passed"})
    pumps = admin_client(staff).get(PASSPORTS, {"product_type__exact": "PU"})

    assert [row.pk for row in listed(passed)] == [passport.pk]
    assert [row.pk for row in listed(pumps)] == [pump.pk]


def test_an_organization_admin_sees_only_their_devices(owner_admin, passport, claimant_passport):
    client = admin_client(owner_admin)

    response = client.get(PASSPORTS)

    assert [row.pk for row in listed(response)] == [passport.pk]
    assert claimant_passport.code not in response.content.decode()
    assert client.get(page_of(claimant_passport)).status_code in (302, 404)
    qr = reverse("admin:passports_devicepassport_qr", args=[claimant_passport.pk])
    assert client.get(qr).status_code == 404


def test_the_device_page_shows_the_code_read_only_and_the_lifecycle_in_order(
    owner_admin, passport, manufacturer, qc_inspector, operator, engineer
):
    record(qc_inspector, manufacturer, passport, "qc_failed", note="Backlash too high.")
    record(qc_inspector, manufacturer, passport, "qc_passed")
    record(engineer, manufacturer, passport, "installed", location="Hall 3, line 2")

    response = admin_client(owner_admin).get(page_of(passport))

    assert response.status_code == 200
    body = response.content.decode()
    form = response.context["adminform"].form
    assert "device_name" in form.fields and "serial_number" in form.fields
    assert not {"code", "company_code", "year_month", "sequence", "checksum", "status"} & set(form.fields)
    assert passport.code in body
    lifecycle = body.split('id="events-group"')[1].split('id="attachments-group"')[0]
    order = [lifecycle.index(kind) for kind in ("Manufactured", "QC failed", "QC passed", "Installed")]
    assert order == sorted(order)
    assert "Backlash too high." in lifecycle and "Hall 3, line 2" in lifecycle
    assert str(engineer) in lifecycle  # recorded by the owner's own people: named
    assert "add-row" not in lifecycle and "DELETE" not in lifecycle
    assert 'name="events-0-kind"' not in lifecycle  # rows are read, not edited


def test_the_qr_code_and_a_single_label_are_served_from_the_device_page(owner_admin, passport):
    client = admin_client(owner_admin)
    body = client.get(page_of(passport)).content.decode()
    qr_url = reverse("admin:passports_devicepassport_qr", args=[passport.pk])
    label_url = reverse("admin:passports_devicepassport_label", args=[passport.pk])

    qr = client.get(qr_url)
    label = client.get(label_url)

    assert f'src="{qr_url}"' in body and f'href="{label_url}"' in body
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    assert label.status_code == 200 and label.content.startswith(b"%PDF")


def test_an_organization_admin_corrects_a_device_record_through_the_service(owner_admin, passport, manufacturer):
    data = {
        "device_name": "Servo motor 7.5 kW (rewound)",
        "manufacturer": passport.manufacturer,
        "model": passport.model,
        "serial_number": passport.serial_number,
        "gtin": "4006381333931",
        "description": "",
        "current_location": "Hall 3",
        "latitude": "",
        "longitude": "",
        "warranty_until": "2029-06-30",
        "code": "XXX-0000-MO-DE-000001-00",  # read-only: ignored
        **{f"{prefix}-{part}": 0 for prefix in ("events", "attachments") for part in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }

    response = admin_client(owner_admin).post(page_of(passport), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    saved = stored(DevicePassport, passport.pk)
    assert saved.device_name == "Servo motor 7.5 kW (rewound)" and saved.current_location == "Hall 3"
    assert saved.gtin == "04006381333931"  # a GTIN-13 stored as the GTIN-14 of the Digital Link
    assert saved.code == passport.code
    with system_scope(reason="test reads the outbox", audit=False):
        updated = OutboxEvent.objects.get(event_type="passport.updated")
        audited = AuditLog.objects.filter(resource_id=str(passport.pk), actor_id=owner_admin.id).exists()
    assert updated.organization_id == manufacturer.id
    assert sorted(updated.payload["changed"]) == ["current_location", "device_name", "gtin", "warranty_until"]
    assert audited


def test_a_record_correction_the_service_refuses_changes_nothing(owner_admin, passport, claimant_passport):
    taken = {
        "device_name": passport.device_name,
        "manufacturer": claimant_passport.manufacturer,
        "model": passport.model,
        "serial_number": claimant_passport.serial_number,  # another organization's device has it
        "gtin": "",
        "description": "",
        "current_location": "",
        "latitude": "",
        "longitude": "",
        "warranty_until": "",
        **{f"{prefix}-{part}": 0 for prefix in ("events", "attachments") for part in ("TOTAL_FORMS", "INITIAL_FORMS")},
    }

    response = admin_client(owner_admin).post(page_of(passport), taken, follow=True)

    assert any("already has a passport" in message for message in shown_messages(response))
    assert stored(DevicePassport, passport.pk).serial_number == passport.serial_number
    with system_scope(reason="test reads the admin log", audit=False):
        assert not LogEntry.objects.filter(object_id=str(passport.pk)).exists()


def test_staff_read_a_device_without_a_form(staff, passport):
    response = admin_client(staff).get(page_of(passport))

    assert response.status_code == 200
    assert "device_name" not in response.context["adminform"].form.fields
    assert passport.serial_number in response.content.decode()


def test_a_previous_owners_people_are_not_named_to_the_new_owner(
    staff, passport, manufacturer, qc_inspector, operator, claimant_organization, claimant_admin
):
    record(qc_inspector, manufacturer, passport, "qc_passed")
    takeover = claim(passport, claimant_organization, claimant_admin)
    with tenant_scope(manufacturer.id, user_id=operator.id):
        services.takeover_decide(actor=actor_of(operator, manufacturer), takeover_id=takeover.id, approve=True)

    new_owner = admin_client(claimant_admin).get(page_of(passport)).content.decode()
    for_staff = admin_client(staff).get(page_of(passport)).content.decode()

    lifecycle = new_owner.split('id="events-group"')[1]
    assert "Ownership transferred" in lifecycle and manufacturer.name in lifecycle
    assert qc_inspector.email not in lifecycle and operator.email not in lifecycle
    assert qc_inspector.email in for_staff.split('id="events-group"')[1]


def test_a_devices_files_download_from_its_page_and_not_through_another(
    owner_admin, passport, operator, manufacturer, claimant_passport
):
    with tenant_scope(manufacturer.id, user_id=operator.id):
        attachment = services.passport_attachment_add(
            actor=actor_of(operator, manufacturer),
            passport_id=passport.id,
            upload=Upload("nameplate.png", png(), "image/png"),
            kind="photo",
        )
    client = admin_client(owner_admin)
    url = reverse("admin:passports_devicepassport_attachment", args=[passport.pk, attachment.pk])
    elsewhere = reverse("admin:passports_devicepassport_attachment", args=[claimant_passport.pk, attachment.pk])

    page = client.get(page_of(passport)).content.decode()
    download = client.get(url)

    assert f'href="{url}"' in page.split('id="attachments-group"')[1] and "nameplate.png" in page
    assert download.status_code == 200 and b"".join(download.streaming_content) == png()
    assert "attachment" in download["Content-Disposition"]
    assert client.get(elsewhere).status_code == 404


# --- label printing -----------------------------------------------------------------------------


def test_printing_labels_answers_one_pdf_of_the_selected_devices(owner_admin, operator, manufacturer):
    devices = [register(operator, manufacturer, serial_number=f"L-{n}") for n in range(22)]

    response = act(owner_admin, PASSPORTS, "print_labels", devices)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="passport-labels-')
    assert response.content.startswith(b"%PDF") and b"/Count 2" in response.content  # 22 labels: two sheets


def test_printing_more_labels_than_the_cap_is_refused_with_a_message(
    owner_admin, passport, operator, manufacturer, settings
):
    settings.PASSPORTS = {**settings.PASSPORTS, "LABEL_DOWNLOAD_MAX_PASSPORTS": 1}
    second = register(operator, manufacturer, serial_number="L-2")

    response = act(owner_admin, PASSPORTS, "print_labels", [passport, second])

    assert response["Content-Type"].startswith("text/html")
    assert "Select at most 1 passports for one label sheet (2 selected)." in shown_messages(response)


# --- takeovers ----------------------------------------------------------------------------------


@pytest.fixture
def claims(passport, operator, manufacturer, claimant_organization, claimant_admin):
    """Two pending claims on the manufacturer's devices (the first is older) and a withdrawn one."""
    second_device = register(operator, manufacturer, serial_number="SN-000002")
    third_device = register(operator, manufacturer, serial_number="SN-000003")
    older = claim(passport, claimant_organization, claimant_admin, message="Bought with the plant.")
    newer = claim(second_device, claimant_organization, claimant_admin)
    withdrawn = claim(third_device, claimant_organization, claimant_admin)
    with tenant_scope(claimant_organization.id, user_id=claimant_admin.id):
        services.takeover_cancel(actor=actor_of(claimant_admin, claimant_organization), takeover_id=withdrawn.id)
    return older, newer, withdrawn


def test_the_takeover_queue_shows_pending_claims_oldest_first(staff, claims):
    older, newer, withdrawn = claims
    client = admin_client(staff)

    queue = client.get(TAKEOVERS)
    everything = client.get(TAKEOVERS, {"status": "all"})
    cancelled = client.get(TAKEOVERS, {"status": "cancelled"})

    assert [row.pk for row in listed(queue)] == [older.pk, newer.pk]
    assert [row.pk for row in listed(everything)] == [older.pk, newer.pk, withdrawn.pk]
    assert [row.pk for row in listed(cancelled)] == [withdrawn.pk]


def test_staff_are_asked_for_a_reason_and_decide_nothing_without_one(staff, claims):
    older, _, _ = claims

    asked = act(staff, TAKEOVERS, "approve", [older])
    refused = act(staff, TAKEOVERS, "approve", [older], apply="yes", reason="  ")

    assert asked.templates[0].name == "admin/action_reason.html"
    assert older.passport_code in asked.content.decode()
    assert refused.templates[0].name == "admin/action_reason.html" and "Say why." in refused.content.decode()
    assert stored(PassportTakeover, older.pk).status == "pending"


def test_staff_approve_a_claim_for_the_owner_and_the_device_moves(staff, claims, passport, claimant_organization):
    older, newer, _ = claims

    response = act(staff, TAKEOVERS, "approve", [older], apply="yes", reason="The owner closed down.")

    assert "1 takeover request(s) approved: the devices moved to their claimants." in shown_messages(response)
    decided = stored(PassportTakeover, older.pk)
    assert (decided.status, decided.decided_by_id, decided.decision_reason) == (
        "approved",
        staff.id,
        "The owner closed down.",
    )
    assert stored(DevicePassport, passport.pk).organization_id == claimant_organization.id
    assert stored(PassportTakeover, newer.pk).status == "pending"  # another device's claim
    with system_scope(reason="test reads the history", audit=False):
        step = PassportEvent.objects.filter(passport=passport).order_by("-at").first()
    assert (step.kind, step.by_id) == ("transferred", staff.id)


def test_staff_reject_claims_with_a_reason(staff, claims):
    older, newer, _ = claims

    act(staff, TAKEOVERS, "reject", [newer, older], apply="yes", reason="Proof of purchase missing.")

    for claimed in (older, newer):
        rejected = stored(PassportTakeover, claimed.pk)
        assert (rejected.status, rejected.decision_reason) == ("rejected", "Proof of purchase missing.")


def test_the_owners_admin_approves_a_claim_on_their_device_without_a_reason(
    owner_admin, claims, passport, claimant_organization
):
    older, _, _ = claims

    response = act(owner_admin, TAKEOVERS, "approve", [older], apply="yes", reason="")

    assert "1 takeover request(s) approved: the devices moved to their claimants." in shown_messages(response)
    decided = stored(PassportTakeover, older.pk)
    assert (decided.status, decided.decided_by_id) == ("approved", owner_admin.id)
    assert stored(DevicePassport, passport.pk).organization_id == claimant_organization.id


def test_the_claimants_admin_sees_their_claim_but_cannot_decide_it(claimant_admin, claims):
    older, _, _ = claims

    queue = admin_client(claimant_admin).get(TAKEOVERS, {"direction": "outgoing"})
    response = act(claimant_admin, TAKEOVERS, "approve", [older], apply="yes", reason="Ours now.")

    assert older.pk in {row.pk for row in listed(queue)}
    assert f"{older}: only the device's owner decides on this claim." in shown_messages(response)
    assert stored(PassportTakeover, older.pk).status == "pending"


def test_an_organization_admin_sees_their_claims_both_ways_and_no_others(
    owner_admin, claims, claimant_organization, claimant_admin, claimant_passport
):
    older, newer, withdrawn = claims
    third = with_passports(OrganizationFactory(name="Third Plant"))
    third_admin = member(third, Role.ORG_ADMIN)
    on_theirs = claim(claimant_passport, third, third_admin)  # the claimant's own device, claimed by a third
    client = admin_client(claimant_admin)

    everything = client.get(TAKEOVERS, {"status": "all"})
    incoming = client.get(TAKEOVERS, {"direction": "incoming"})
    owners = admin_client(owner_admin).get(TAKEOVERS, {"status": "all"})

    assert {row.pk for row in listed(everything)} == {older.pk, newer.pk, withdrawn.pk, on_theirs.pk}
    assert [row.pk for row in listed(incoming)] == [on_theirs.pk]
    assert on_theirs.pk not in {row.pk for row in listed(owners)}
    page = reverse("admin:passports_passporttakeover_change", args=[on_theirs.pk])
    assert admin_client(owner_admin).get(page).status_code in (302, 404)


# --- service requests ---------------------------------------------------------------------------


def test_a_service_request_shows_its_contact_description_and_photos(owner_admin, passport):
    request = public_request(passport, contact_phone="+372 5123 4567", photos=(Upload("seal.png", png(), "image/png"),))
    client = admin_client(owner_admin)

    listed_page = client.get(REQUESTS)
    page = client.get(reverse("admin:passports_passportservicerequest_change", args=[request.pk]))

    assert [row.pk for row in listed(listed_page)] == [request.pk]
    body = page.content.decode()
    assert "Mart Tamm" in body and "mart@example.test" in body and "+372 5123 4567" in body
    assert "Water under the seal." in body
    [photo_url] = re.findall(r'href="(/admin/passports/passportservicerequest/[^"]+/photos/[^"]+/)"', body)
    photo = client.get(photo_url)
    assert photo.status_code == 200 and b"".join(photo.streaming_content) == png()


def test_acknowledging_and_closing_requests_goes_through_the_service(owner_admin, passport):
    first, second = public_request(passport), public_request(passport, description="Noisy bearing.")

    acknowledged = act(owner_admin, REQUESTS, "acknowledge", [first])
    closed = act(owner_admin, REQUESTS, "close", [first, second])
    again = act(owner_admin, REQUESTS, "acknowledge", [first])

    assert "1 request(s) acknowledged." in shown_messages(acknowledged)
    assert "2 request(s) closed." in shown_messages(closed)
    assert any(message.startswith(f"{first.number}: ") for message in shown_messages(again))
    assert stored(PassportServiceRequest, first.pk).status == "closed"
    with system_scope(reason="test reads the history", audit=False):
        moves = list(
            ServiceRequestStatusChange.objects.filter(service_request_id=first.pk)
            .order_by("at", "id")
            .values_list("to_status", "by_id")
        )
    assert moves == [("open", None), ("acknowledged", owner_admin.id), ("closed", owner_admin.id)]


def test_another_organizations_admin_sees_none_of_the_requests(claimant_admin, passport):
    request = public_request(passport)
    client = admin_client(claimant_admin)

    assert listed(client.get(REQUESTS)) == []
    page = reverse("admin:passports_passportservicerequest_change", args=[request.pk])
    assert client.get(page).status_code in (302, 404)
    acted = act(claimant_admin, REQUESTS, "close", [request])
    assert acted.status_code == 200
    assert stored(PassportServiceRequest, request.pk).status == "open"


# --- the feature flag ---------------------------------------------------------------------------


def test_with_device_passports_off_the_pages_are_hidden_from_the_organization_admin(staff):
    organization = OrganizationFactory(name="No Passports Ltd")
    admin_user = member(organization, Role.ORG_ADMIN)
    client = admin_client(admin_user)

    index = client.get(reverse("admin:index")).content.decode()

    assert "Device passports" not in index
    for changelist in (PASSPORTS, TAKEOVERS, REQUESTS):
        assert client.get(changelist).status_code == 403
    assert "Device passports" in admin_client(staff).get(reverse("admin:index")).content.decode()


def test_with_device_passports_on_the_organization_admin_sees_the_pages(owner_admin):
    index = admin_client(owner_admin).get(reverse("admin:index")).content.decode()

    assert "Device passports" in index
    for changelist in (PASSPORTS, TAKEOVERS, REQUESTS):
        assert f'href="{changelist}"' in index


# --- queries ------------------------------------------------------------------------------------


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["staff", "owner_admin"])
def test_the_device_list_runs_the_same_queries_for_few_or_many_devices(
    who, request, operator, manufacturer, django_assert_num_queries
):
    client = admin_client(request.getfixturevalue(who))
    for n in range(2):
        register(operator, manufacturer, serial_number=f"Q-{n}")
    client.get(PASSPORTS)  # warm what is cached per process
    few = queries_of(client, PASSPORTS)

    for n in range(2, 7):
        register(operator, manufacturer, serial_number=f"Q-{n}")

    with django_assert_num_queries(few):
        assert client.get(PASSPORTS).status_code == 200


def test_the_takeover_and_request_lists_run_the_same_queries_for_few_or_many_rows(
    staff, operator, manufacturer, claimant_organization, claimant_admin, django_assert_num_queries
):
    client = admin_client(staff)

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            device = register(operator, manufacturer, serial_number=f"T-{n}")
            claim(device, claimant_organization, claimant_admin)
            public_request(device)

    add(2, 0)
    client.get(TAKEOVERS)
    client.get(REQUESTS)
    few = {url: queries_of(client, url) for url in (TAKEOVERS, REQUESTS)}
    add(4, 2)

    for url, count in few.items():
        with django_assert_num_queries(count):
            assert client.get(url).status_code == 200


def test_the_device_page_runs_the_same_queries_for_a_short_or_long_history(
    owner_admin, passport, manufacturer, qc_inspector, engineer, django_assert_num_queries
):
    client = admin_client(owner_admin)
    record(qc_inspector, manufacturer, passport, "qc_passed")
    client.get(page_of(passport))
    short = queries_of(client, page_of(passport))

    record(engineer, manufacturer, passport, "installed", location="Hall 1")
    for _ in range(4):
        record(engineer, manufacturer, passport, "serviced")

    with django_assert_num_queries(short):
        assert client.get(page_of(passport)).status_code == 200


# --- demo data ----------------------------------------------------------------------------------


def test_seed_demo_registers_the_demo_devices_with_a_takeover_and_two_requests_once(capsys):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")

    with system_scope(reason="test: the demo rows", audit=False):
        devices = list(DevicePassport.objects.all())
        takeovers = list(
            PassportTakeover.objects.values_list("status", "from_organization_name", "to_organization_name")
        )
        requests = sorted(PassportServiceRequest.objects.values_list("source", flat=True))
        kinds_by = {
            (kind, membership_role)
            for kind, membership_role in PassportEvent.objects.exclude(kind__in=["manufactured"])
            .values_list("kind", "by__memberships__role")
            .distinct()
        }
    assert len(devices) == 12
    assert {device.status for device in devices} == {
        "manufactured",
        "qc_passed",
        "qc_failed",
        "shipped",
        "received",
        "installed",
        "decommissioned",
    }
    assert [device.gtin for device in devices if device.gtin] == ["04601234567893"]
    assert takeovers == [("pending", "Volga Carriers", "Baltic Shippers")]
    assert requests == ["member", "public"]
    assert {kind for kind, role in kinds_by if role == Role.QC_INSPECTOR} == {"qc_passed", "qc_failed"}
    assert {kind for kind, role in kinds_by if role == Role.ENGINEER} == {"installed", "serviced"}
    output = capsys.readouterr().out
    assert "passports: 12 devices of Volga Carriers" in output
    assert "the demo devices are there already" in output
