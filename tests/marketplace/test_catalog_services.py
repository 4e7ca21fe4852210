"""The catalogue services guard every writer, not only the API (the back-office calls them too)."""

import pytest

from apps.core.context import tenant_scope
from apps.core.errors import ValidationFailed
from apps.marketplace import services
from apps.tenancy.roles import Actor, Role

pytestmark = pytest.mark.django_db

OFFERING = {"name": "Groupage", "service_type": "road_ltl", "transit_days": 3, "currency": "eur"}


def _actor(party) -> Actor:
    return Actor(user_id=party.admin.id, organization_id=party.org.id, role=Role.ORG_ADMIN)


def test_codes_are_stored_upper_case_whoever_writes_them(carrier):
    with tenant_scope(carrier.org.id):
        offering = services.offering_create(actor=_actor(carrier), data={**OFFERING, "origin_countries": ["de", "pl"]})

    assert (offering.origin_countries, offering.currency) == (["DE", "PL"], "EUR")


@pytest.mark.parametrize(
    ("data", "field"),
    [({"origin_countries": ["XX"]}, "origin_countries"), ({"currency": "DEM"}, "currency")],
)
def test_unknown_codes_are_refused_by_the_service(carrier, data, field):
    with tenant_scope(carrier.org.id), pytest.raises(ValidationFailed) as refused:
        services.offering_create(actor=_actor(carrier), data={**OFFERING, **data})

    assert field in refused.value.details
