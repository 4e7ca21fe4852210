"""Device passports set-up: a manufacturer with its operator, QC inspector, engineer, customer and
admin (the device_passports feature on), another organization that may claim its devices, and a
passport registered through the service as the operator."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.passports import services
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from tests.factories import FeatureFactory, OrganizationFactory, member


def with_passports(organization):
    FeatureFactory(organization=organization, name="device_passports", is_entitled=True, is_enabled=True)
    return organization


def actor_of(user, organization) -> Actor:
    """The user acting for their membership of `organization`, as a request would."""
    with tenant_scope(organization.id, user_id=user.id):
        membership = Membership.objects.get(user=user, organization=organization)
    return Actor.of(membership, user_id=user.id)


def passport_input(**fields) -> services.PassportInput:
    values = {
        "device_name": "Servo motor 7.5 kW",
        "manufacturer": "Acme Drives",
        "model": "SM-750",
        "serial_number": "SN-000001",
        "product_type": "MO",
        "origin_country": "DE",
        **fields,
    }
    return services.PassportInput(**values)


def register(user, organization, **fields):
    actor = actor_of(user, organization)
    with tenant_scope(organization.id, user_id=user.id):
        return services.passport_register(actor=actor, data=passport_input(**fields))


@pytest.fixture
def manufacturer():
    return with_passports(OrganizationFactory(name="Acme Drives GmbH"))


@pytest.fixture
def claimant_organization():
    return with_passports(OrganizationFactory(name="Baltic Plant Services"))


@pytest.fixture
def operator(manufacturer):
    return member(manufacturer, role=Role.OPERATOR)


@pytest.fixture
def qc_inspector(manufacturer):
    return member(manufacturer, role=Role.QC_INSPECTOR)


@pytest.fixture
def engineer(manufacturer):
    return member(manufacturer, role=Role.ENGINEER)


@pytest.fixture
def customer(manufacturer):
    return member(manufacturer, role=Role.CUSTOMER)


@pytest.fixture
def owner_admin(manufacturer):
    return member(manufacturer, role=Role.ORG_ADMIN)


@pytest.fixture
def claimant_admin(claimant_organization):
    return member(claimant_organization, role=Role.ORG_ADMIN)


@pytest.fixture
def passport(operator, manufacturer):
    return register(operator, manufacturer)
