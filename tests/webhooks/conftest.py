from __future__ import annotations

import pytest

from apps.core.actors import Actor
from apps.webhooks import services
from tests.factories import OrganizationFactory
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def endpoint_for(organization, url: str, *, event_types=("*",), actor=None):
    """An endpoint registered through the service, in the organization's scope; (endpoint, secret)."""
    from apps.core.context import tenant_scope

    actor = actor or Actor(user_id=None, organization_id=organization.id, role="org_admin")
    with tenant_scope(organization.id):
        return services.endpoint_create(actor=actor, url=url, event_types=list(event_types))


@pytest.fixture
def organization():
    return OrganizationFactory()
