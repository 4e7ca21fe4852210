"""The `passports` scenario (bench/passports.py) on small numbers: its audit of the issued codes
finds nothing wrong in what the service issues and counts each kind of fault it exists to catch;
its scan set gets the public steps the page shows; its load generator sends a new device and key
per request. The test times nothing."""

from __future__ import annotations

import json

from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import NumberSequence
from apps.passports import codes, services
from apps.passports.models import DevicePassport, PassportEvent
from bench import passports as bench_passports
from tests.passports.conftest import actor_of, passport_input


def _register(organization, operator, count: int) -> list[DevicePassport]:
    actor = actor_of(operator, organization)
    registered = []
    for n in range(count):
        with tenant_scope(organization.id, user_id=operator.id):
            registered.append(services.passport_register(actor=actor, data=passport_input(serial_number=f"B{n}")))
    return registered


def test_the_audit_finds_no_fault_in_codes_the_service_issued(committed):
    # Given the scenario's organization and five passports its operator registered
    organization, operator = bench_passports._seed()
    issued = _register(organization, operator, 5)

    # When the audit reads them back against the codes the clients were answered
    audit = bench_passports._code_audit(organization.id, [passport.code for passport in issued])

    # Then it finds five codes of one month and nothing wrong
    assert audit == {"stored": 5, "months": 1, "duplicates": 0, "gaps": 0, "lost": 0, "invalid": 0}


def test_the_audit_counts_a_code_answered_twice_a_lost_one_a_skipped_number_and_a_counter_run_ahead(committed):
    # Given three passports issued (1, 2, 3), one stored past a gap (5, so 4 is missing) and the
    # month's counter run two past it (7)
    organization, operator = bench_passports._seed()
    issued = _register(organization, operator, 3)
    first = issued[0]
    skipped = codes.compose(
        company=first.company_code,
        year_month=first.year_month,
        product_type=first.product_type,
        origin=first.origin_country,
        sequence=5,
    )
    with system_scope(reason="test: a passport past a gap", using="owner", audit=False):
        DevicePassport.objects.using("owner").create(
            organization_id=organization.id,
            issuer_organization_id=organization.id,
            code=skipped,
            company_code=first.company_code,
            year_month=first.year_month,
            product_type=first.product_type,
            origin_country=first.origin_country,
            sequence=5,
            checksum=skipped[-2:],
            device_name="Stray",
            manufacturer="Acme Drives",
            serial_number="STRAY-5",
            status_changed_at=timezone.now(),
        )
        NumberSequence.objects.using("owner").filter(
            organization_id=organization.id, name=f"passport:{first.year_month}"
        ).update(last_value=7)
    # ... and the clients told of the first code twice, and of a code that was never stored
    answered = [passport.code for passport in issued] + [first.code, first.code[:-2] + "00"]

    # When the audit reads them back
    audit = bench_passports._code_audit(organization.id, answered)

    # Then each fault is counted
    assert audit == {"stored": 4, "months": 1, "duplicates": 1, "gaps": 1 + 2, "lost": 1, "invalid": 0}


def test_the_scan_set_takes_each_device_to_installed_with_five_public_steps(committed):
    organization, operator = bench_passports._seed()
    issued = _register(organization, operator, 3)

    scanned = bench_passports._scan_set(organization.id, 2)

    assert scanned == [passport.code for passport in issued[:2]]
    with tenant_scope(organization.id):
        statuses = dict(DevicePassport.objects.values_list("code", "status"))
        kinds = list(
            PassportEvent.objects.filter(passport_id=issued[0].id, is_public=True)
            .order_by("occurred_at", "at")
            .values_list("kind", flat=True)
        )
    assert statuses == {issued[0].code: "installed", issued[1].code: "installed", issued[2].code: "manufactured"}
    assert kinds == ["manufactured", "qc_passed", "shipped", "installed", "serviced"]


def test_the_issuing_client_sends_a_new_device_and_idempotency_key_per_request():
    makers = [
        bench_passports._issuing("127.0.0.1", 8000, "/api/v1/passports", ["Authorization: Bearer t"], {"a": 1}, "M", i)
        for i in range(2)
    ]

    requests = [maker() for maker in makers for _ in range(3)]

    heads, bodies = zip(*(request.split(b"\r\n\r\n", 1) for request in requests), strict=True)
    serials = [json.loads(body)["serial_number"] for body in bodies]
    keys = [line for head in heads for line in head.split(b"\r\n") if line.startswith(b"Idempotency-Key: ")]
    assert serials == ["M-00-0000001", "M-00-0000002", "M-00-0000003", "M-01-0000001", "M-01-0000002", "M-01-0000003"]
    assert len(set(keys)) == 6
    assert all(head.startswith(b"POST /api/v1/passports HTTP/1.1\r\n") for head in heads)
    assert all(json.loads(body)["a"] == 1 for body in bodies)


def test_the_scanning_clients_cycle_over_the_codes_from_their_own_offsets():
    paths = [f"/p/CODE-{n}" for n in range(4)]
    makers = [bench_passports._scanning("127.0.0.1", 8000, paths, index, 2) for index in range(2)]

    targets = [[maker().split(b" ")[1].decode() for _ in range(5)] for maker in makers]

    assert targets == [
        ["/p/CODE-0", "/p/CODE-1", "/p/CODE-2", "/p/CODE-3", "/p/CODE-0"],
        ["/p/CODE-2", "/p/CODE-3", "/p/CODE-0", "/p/CODE-1", "/p/CODE-2"],
    ]
