"""Factories of the reviews tests: an expert's passport and a service order between a customer
organization and the expert's, made in the all-tenants scope (the service order services are
not on main yet: a test's set-up only; the reviews themselves go through the API)."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.service.models import ExpertPassport, ServiceOrder
from tests.factories import OrganizationFactory, ScopedFactory, UserFactory


class ExpertFactory(ScopedFactory):
    class Meta:
        model = ExpertPassport

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Expert {n}")
    sequence = factory.Sequence(lambda n: n + 1)
    code = factory.LazyAttribute(lambda expert: f"EP-T-EL-MOT-2612-DE-{expert.sequence:05d}-00")
    expert_type = "T"
    industry_code = "EL"
    skill_code = "MOT"
    year_month = "2612"
    nationality = "DE"
    checksum = "00"


class ServiceOrderFactory(ScopedFactory):
    """A service order the expert has completed for the customer organization."""

    class Meta:
        model = ServiceOrder

    organization = factory.SubFactory(OrganizationFactory)
    expert = factory.SubFactory(ExpertFactory)
    expert_organization = factory.LazyAttribute(lambda order: order.expert.organization)
    expert_user = factory.LazyAttribute(lambda order: order.expert.user)
    number = factory.Sequence(lambda n: f"SVO-2026-{n + 1:06d}")
    title = "Replace the pump's bearings"
    required_skill = "EL-MOT"
    status = "COMPLETED"
    completed_at = factory.LazyFunction(timezone.now)
