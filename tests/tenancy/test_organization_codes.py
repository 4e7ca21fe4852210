"""Organization codes, the three letters that open device passport codes: given from the name
once, unique, and fixed from then on."""

import pytest

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import ValidationFailed
from apps.tenancy import services
from apps.tenancy.models import Organization
from apps.tenancy.roles import Actor
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def ensure(organization) -> str:
    with tenant_scope(organization.id):
        return services.organization_code_ensure(organization_id=organization.id)


def test_code_is_taken_from_the_initials_of_the_name():
    organization = OrganizationFactory(name="Baltic Marine Engines")

    assert ensure(organization) == "BME"


def test_a_code_another_organization_holds_is_skipped_for_the_next_candidate():
    first = OrganizationFactory(name="Baltic Marine Engines")
    second = OrganizationFactory(name="Baltic Marine Electric")

    codes = {ensure(first), ensure(second)}

    assert len(codes) == 2
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in codes)


def test_a_name_without_latin_letters_still_gets_a_code():
    organization = OrganizationFactory(name="Завод 7")

    code = ensure(organization)

    assert len(code) == 3 and code.isascii() and code.isalpha()


def test_the_code_once_given_does_not_change_on_a_second_call():
    organization = OrganizationFactory(name="Acme Drives")

    assert ensure(organization) == ensure(organization)


def test_staff_cannot_change_a_code_once_given():
    organization = OrganizationFactory(name="Acme Drives")
    code = ensure(organization)
    staff = UserFactory(is_staff=True)

    with system_scope(reason="test", actor_id=staff.id), pytest.raises(ValidationFailed) as refused:
        services.organization_update(
            organization=Organization.objects.get(id=organization.id),
            actor=Actor.staff(staff.id),
            data={"code": "XYZ"},
            by_staff=True,
        )

    assert refused.value.details == {"code": [f"Stays {code}."]}
    with system_scope(reason="test", audit=False):
        assert Organization.objects.get(id=organization.id).code == code


def test_staff_may_choose_the_code_before_the_first_passport():
    organization = OrganizationFactory(name="Acme Drives")
    staff = UserFactory(is_staff=True)

    with system_scope(reason="test", actor_id=staff.id):
        services.organization_update(
            organization=Organization.objects.get(id=organization.id),
            actor=Actor.staff(staff.id),
            data={"code": "ADR"},
            by_staff=True,
        )

    assert ensure(organization) == "ADR"
