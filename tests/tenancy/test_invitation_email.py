"""The invitation e-mail: its one-time link lets the owner of the address join, once,
even with an account made after the invitation (a real Celery worker sends it)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.core import mail

from apps.core.context import system_scope
from apps.tenancy.models import Membership
from tests.factories import OrganizationFactory, UserFactory, member
from tests.support import wait_until


def memberships_of(user) -> list[Membership]:
    with system_scope(reason="test reads memberships", audit=False):
        return list(Membership.objects.filter(user=user))


@pytest.fixture
def outbox(celery_worker):
    mail.outbox.clear()
    yield mail.outbox
    mail.outbox.clear()


def test_the_emailed_link_lets_the_owner_of_the_address_join_after_signing_up(api, outbox):
    organization = OrganizationFactory(name="Volga Carriers")
    admin = member(organization)
    invited = api(admin).post(
        f"/api/v1/organizations/{organization.id}/members",
        {"email": "later@example.test", "role": "carrier"},
        format="json",
    )
    assert invited.status_code == 201
    assert wait_until(lambda: len(outbox) == 1), "no invitation email"
    message = outbox[0]
    token = unquote(re.search(r"token=(\S+)", message.body).group(1))
    assert message.to == ["later@example.test"]
    assert "Volga Carriers" in message.body
    someone_else = UserFactory()
    owner = UserFactory(email="later@example.test")  # signed up after the invitation

    stolen = api(someone_else).post("/api/v1/invitations/accept", {"token": token}, format="json")
    accepted = api(owner).post("/api/v1/invitations/accept", {"token": token}, format="json")
    replayed = api(owner).post("/api/v1/invitations/accept", {"token": token}, format="json")

    assert stolen.status_code == 404
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["organization"]["id"] == str(organization.id)
    assert replayed.status_code == 404
    assert [m.organization_id for m in memberships_of(owner)] == [organization.id]
    assert memberships_of(someone_else) == []
