"""The two guarantees the database itself gives device passports: the lifecycle is append-only,
and the one narrow path (`passports_locate`) finds a device whoever owns it while the table
reads empty to a caller without a tenant."""

import pytest
from django.db import DatabaseError, connection, transaction

from apps.core.context import system_scope, tenant_scope
from apps.passports.locate import passport_locate
from apps.passports.models import DevicePassport, PassportEvent
from tests.passports.conftest import register

pytestmark = pytest.mark.django_db


def test_a_lifecycle_step_cannot_be_edited(passport, manufacturer):
    with tenant_scope(manufacturer.id), pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PassportEvent.objects.filter(passport=passport).update(kind="installed")


def test_a_lifecycle_step_cannot_be_deleted_even_by_the_all_tenants_scope(passport):
    refused = pytest.raises(DatabaseError, match="append-only")
    with system_scope(reason="test", audit=False), refused, transaction.atomic():
        PassportEvent.objects.filter(passport=passport).delete()


def test_moving_the_steps_to_another_owner_is_the_one_update_allowed(passport, claimant_organization):
    with system_scope(reason="test", audit=False):
        moved = PassportEvent.objects.filter(passport=passport).update(organization_id=claimant_organization.id)

        assert moved == 1
        assert PassportEvent.objects.get(passport=passport).kind == "manufactured"


def test_locate_finds_a_device_by_code_while_the_table_reads_empty_without_a_tenant(passport, manufacturer):
    with tenant_scope(None):
        assert DevicePassport.objects.count() == 0
        located = passport_locate(code=passport.code.lower())

    assert located is not None
    assert (located.passport_id, located.organization_id, located.serial_number) == (
        passport.id,
        manufacturer.id,
        passport.serial_number,
    )
    assert located.organization_name == manufacturer.name


def test_locate_finds_a_device_by_gtin_and_serial_number(operator, manufacturer):
    device = register(operator, manufacturer, gtin="4006381333931", serial_number="GT-1")

    with tenant_scope(None):
        found = passport_locate(gtin="04006381333931", serial_number="GT-1")
        wrong_serial = passport_locate(gtin="04006381333931", serial_number="GT-2")

    assert found.passport_id == device.id
    assert wrong_serial is None


@pytest.mark.parametrize("code", ["", "ACM", "ACM-2612-MO-DE-000001-9", "x" * 500, "ACM-2612-MO-DE-000001-00"])
def test_locate_answers_nothing_for_malformed_or_unknown_codes(passport, code):
    with tenant_scope(None):
        assert passport_locate(code=code) is None


def test_locate_function_is_not_executable_by_public(passport):
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_function_privilege('public', 'passports_locate(text, text, text)', 'EXECUTE')")
        assert cursor.fetchone()[0] is False
