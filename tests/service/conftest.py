"""Field service set-up: a customer organization (Volga Plant) with a dispatcher (operator), a
customer and an installed device; an expert organization (Baltic Field Service) with two experts
(expert role), and the two organizations' expert services on. Helpers make the experts' passports,
give them memberships, and act as a request would (the member's actor in their tenant scope)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.passports import services as passport_services
from apps.service import services
from apps.tenancy.models import Membership
from apps.tenancy.roles import Actor, Role
from tests.factories import FeatureFactory, OrganizationFactory, member

SITE = {"latitude": Decimal("59.934280"), "longitude": Decimal("30.335099")}  # Saint Petersburg


def with_field_service(organization):
    for name in ("expert_services", "device_passports"):
        FeatureFactory(organization=organization, name=name, is_entitled=True, is_enabled=True)
    return organization


def actor_of(user, organization) -> Actor:
    with tenant_scope(organization.id, user_id=user.id):
        membership = Membership.objects.get(user=user, organization=organization)
    return Actor.of(membership, user_id=user.id)


def as_member(user, organization, function, **kwargs):
    """Call a service as the member would through the API: their actor, their tenant scope."""
    with tenant_scope(organization.id, user_id=user.id):
        return function(actor=actor_of(user, organization), **kwargs)


def expert_input(**fields) -> services.ExpertInput:
    values = {
        "expert_type": "T",
        "industry_code": "EL",
        "skill_code": "MOT",
        "nationality": "DE",
        "professional_field": "Electric drives",
        "years_experience": 12,
        "skills": ["EL-DRV"],
        "languages": ["en", "ru"],
        "base_location": "Saint Petersburg",
        "service_radius_km": 80,
        **SITE,
        **fields,
    }
    return services.ExpertInput(**values)


def register_expert(user, organization, **fields):
    return as_member(user, organization, services.expert_register, data=expert_input(**fields))


def give_membership(expert, level="GOLD", days=30):
    with system_scope(reason="test: membership"):
        return services.expert_membership_set(
            actor=Actor.staff(user_id=None),
            expert_id=expert.id,
            level=level,
            expires_at=timezone.now() + timedelta(days=days),
        )


@pytest.fixture
def customer_organization():
    return with_field_service(OrganizationFactory(name="Volga Plant"))


@pytest.fixture
def expert_organization():
    return with_field_service(OrganizationFactory(name="Baltic Field Service"))


@pytest.fixture
def dispatcher(customer_organization):
    return member(customer_organization, role=Role.OPERATOR)


@pytest.fixture
def customer(customer_organization):
    return member(customer_organization, role=Role.CUSTOMER)


@pytest.fixture
def expert_user(expert_organization):
    return member(expert_organization, role=Role.EXPERT)


@pytest.fixture
def second_expert_user(expert_organization):
    return member(expert_organization, role=Role.EXPERT)


@pytest.fixture
def expert(expert_user, expert_organization):
    return register_expert(expert_user, expert_organization)


@pytest.fixture
def device(dispatcher, customer_organization):
    """An installed motor of the customer organization, at the site."""
    actor = actor_of(dispatcher, customer_organization)
    with tenant_scope(customer_organization.id, user_id=dispatcher.id):
        passport = passport_services.passport_register(
            actor=actor,
            data=passport_services.PassportInput(
                device_name="Servo motor 7.5 kW",
                manufacturer="Acme Drives",
                serial_number="SN-SVC-1",
                product_type="MO",
                origin_country="DE",
                current_location="Line 3",
                **SITE,
            ),
        )
        for kind in ("qc_passed", "installed"):
            passport_services.passport_event_record(
                actor=actor, passport_id=passport.id, data=passport_services.LifecycleInput(kind=kind)
            )
    return passport


def order_input(**fields) -> services.ServiceOrderInput:
    values = {"title": "Motor overheats", "required_skill": "EL-MOT", "urgency": "HIGH", **SITE, **fields}
    return services.ServiceOrderInput(**values)


def create_order(user, organization, **fields):
    return as_member(user, organization, services.service_order_create, data=order_input(**fields))
