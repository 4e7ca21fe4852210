"""The services' main paths, end to end on the real database (the API tests cover the rest)."""

import pytest

from apps.core.context import tenant_scope
from apps.passports import codes, services
from apps.passports.models import DevicePassport, PassportEvent
from tests.passports.conftest import actor_of, register

pytestmark = pytest.mark.django_db


def test_registered_passport_has_a_valid_code_and_a_manufactured_step(passport, manufacturer):
    assert codes.code_check(passport.code).valid
    assert passport.code.startswith("ACM-") or passport.code[:3] == passport.company_code
    with tenant_scope(manufacturer.id):
        assert list(PassportEvent.objects.filter(passport=passport).values_list("kind", flat=True)) == ["manufactured"]


def test_sequence_follows_per_month(operator, manufacturer):
    first = register(operator, manufacturer, serial_number="A1")
    second = register(operator, manufacturer, serial_number="A2")
    assert second.sequence == first.sequence + 1


def test_lifecycle_and_takeover(passport, manufacturer, qc_inspector, operator, claimant_organization, claimant_admin):
    with tenant_scope(manufacturer.id, user_id=qc_inspector.id):
        services.passport_event_record(
            actor=actor_of(qc_inspector, manufacturer),
            passport_id=passport.id,
            data=services.LifecycleInput(kind="qc_passed"),
        )
    claimant = actor_of(claimant_admin, claimant_organization)
    with tenant_scope(claimant_organization.id, user_id=claimant_admin.id):
        takeover = services.takeover_request(actor=claimant, code=passport.code, serial_number=passport.serial_number)
    owner = actor_of(operator, manufacturer)
    with tenant_scope(manufacturer.id, user_id=operator.id):
        services.takeover_decide(actor=owner, takeover_id=takeover.id, approve=True)
        assert not DevicePassport.objects.filter(id=passport.id).exists()
        assert not PassportEvent.objects.filter(passport_id=passport.id).exists()
    with tenant_scope(claimant_organization.id):
        kinds = list(
            PassportEvent.objects.filter(passport_id=passport.id).order_by("at").values_list("kind", flat=True)
        )
        assert kinds == ["manufactured", "qc_passed", "transferred"]


def test_label_sheet_is_a_pdf_with_a_page_per_21_labels(operator, manufacturer):
    from apps.passports.labels import label_sheet_pdf

    passports = [register(operator, manufacturer, serial_number=f"L{n}") for n in range(22)]
    pdf = label_sheet_pdf(passports)
    assert pdf.startswith(b"%PDF")
    assert b"/Count 2" in pdf  # the page tree: 22 labels take two sheets
