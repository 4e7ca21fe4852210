"""Factories shared by every context's tests.

Rows are created in the all-tenants scope (tests set up data for several
tenants); the tests themselves then read and write through the API or inside a
tenant's scope, where row-level security applies.
"""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.context import system_scope
from apps.tenancy.models import Membership, Organization, OrganizationFeature
from apps.tenancy.roles import Role


class ScopedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with system_scope(reason="test data", audit=False):
            return super()._create(model_class, *args, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")
    # A confirmed address, as every account that publishes, offers or invites has one
    # (apps/accounts/guards.py); tests of unconfirmed accounts pass email_verified_at=None.
    email_verified_at = factory.LazyFunction(timezone.now)


class OrganizationFactory(ScopedFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    country = "DE"


class MembershipFactory(ScopedFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ORG_ADMIN


class FeatureFactory(ScopedFactory):
    class Meta:
        model = OrganizationFeature

    organization = factory.SubFactory(OrganizationFactory)
    name = "assisted_purchase"
    is_entitled = True
    is_enabled = True


def member(organization=None, role=Role.ORG_ADMIN, **kwargs):
    """A user who is an active member of `organization` (a new one if None) with `role`."""
    membership = MembershipFactory(organization=organization or OrganizationFactory(), role=role, **kwargs)
    return membership.user
