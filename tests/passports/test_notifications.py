"""Who hears of device passport events: a claim tells the device owner's admins and operators, a
decision tells the claimant's, a withdrawn claim the owner's; a service request tells the owner's
admins, operators and engineers. Events come from the real services and are relayed as the
outbox relay hands them to the fan-out; nobody else is told, the person who acted included."""

from __future__ import annotations

import pytest

from apps.core.context import system_scope, tenant_scope, user_scope
from apps.core.models import OutboxEvent
from apps.notifications import services as notifications
from apps.notifications.models import Notification
from apps.notifications.rendering import render_default
from apps.passports import services
from apps.tenancy.roles import Actor, Role
from tests.factories import UserFactory, member
from tests.passports.conftest import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(
    manufacturer, claimant_organization, owner_admin, operator, engineer, qc_inspector, customer, claimant_admin
):
    """Everyone of both organizations, by a name that says who they are."""
    return {
        "owner admin": owner_admin,
        "owner operator": operator,
        "owner engineer": engineer,
        "owner QC inspector": qc_inspector,
        "owner customer": customer,
        "claimant admin": claimant_admin,
        "claimant operator": member(claimant_organization, Role.OPERATOR),
        "claimant engineer": member(claimant_organization, Role.ENGINEER),
    }


def relay_latest(event_type: str) -> dict:
    """Hand the newest outbox row of `event_type` to the fan-out, as the relay does; its payload."""
    with system_scope(reason="test: find the event", audit=False):
        row = OutboxEvent.objects.filter(event_type=event_type).order_by("-created_at").first()
    with tenant_scope(row.organization_id):
        notifications.event_fan_out(event=row)
    return row.payload


def told(people: dict) -> dict[str, list[str]]:
    """Who got which notification types (in-app), by name; nobody listed who got none."""
    heard = {}
    for name, user in people.items():
        with user_scope(user.id):
            types = list(Notification.objects.filter(user=user).values_list("type", flat=True))
        if types:
            heard[name] = types
    return heard


def request_takeover(passport, claimant_organization, claimant_admin):
    with tenant_scope(claimant_organization.id, user_id=claimant_admin.id):
        return services.takeover_request(
            actor=actor_of(claimant_admin, claimant_organization),
            code=passport.code,
            serial_number=passport.serial_number,
        )


def test_a_claim_tells_the_owners_admins_and_operators(people, passport, claimant_organization, claimant_admin):
    request_takeover(passport, claimant_organization, claimant_admin)

    payload = relay_latest("passport.takeover_requested")

    assert told(people) == {"owner admin": ["passport.takeover"], "owner operator": ["passport.takeover"]}
    text = render_default(type_key="passport.takeover", language="en", context=payload)
    assert text.subject == f"{claimant_organization.name} claims {passport.code}"
    assert passport.device_name in text.body and "Approve or reject" in text.body


@pytest.mark.parametrize("decided_by", ["owner", "staff"])
@pytest.mark.parametrize("approve", [True, False])
def test_a_decision_tells_the_claimants_admins_and_operators(
    decided_by, approve, people, passport, manufacturer, operator, claimant_organization, claimant_admin
):
    takeover = request_takeover(passport, claimant_organization, claimant_admin)
    if decided_by == "owner":
        with tenant_scope(manufacturer.id, user_id=operator.id):
            services.takeover_decide(
                actor=actor_of(operator, manufacturer), takeover_id=takeover.id, approve=approve, reason="Checked."
            )
    else:
        staff = UserFactory(is_staff=True)
        with system_scope(reason="test: staff decide", actor_id=staff.id):
            services.takeover_decide(actor=Actor.staff(staff.id), takeover_id=takeover.id, approve=approve)

    payload = relay_latest("passport.takeover_decided")

    assert told(people) == {"claimant admin": ["passport.takeover"], "claimant operator": ["passport.takeover"]}
    status = "approved" if approve else "rejected"
    text = render_default(type_key="passport.takeover", language="en", context=payload)
    assert text.subject == f"Takeover of {passport.code} {status}"
    assert f"was {status}." in text.body


def test_a_withdrawn_claim_tells_the_owners_admins_and_operators(
    people, passport, claimant_organization, claimant_admin
):
    takeover = request_takeover(passport, claimant_organization, claimant_admin)
    with tenant_scope(claimant_organization.id, user_id=claimant_admin.id):
        services.takeover_cancel(actor=actor_of(claimant_admin, claimant_organization), takeover_id=takeover.id)

    relay_latest("passport.takeover_decided")

    assert told(people) == {"owner admin": ["passport.takeover"], "owner operator": ["passport.takeover"]}


def test_a_public_service_request_tells_the_owners_admins_operators_and_engineers(people, passport):
    services.service_request_submit_public(
        code=passport.code,
        data=services.ServiceRequestInput(
            description="It hums.", contact_name="Mart Tamm", contact_email="mart@example.test"
        ),
    )

    payload = relay_latest("passport.service_requested")

    assert told(people) == {
        "owner admin": ["passport.service_requested"],
        "owner operator": ["passport.service_requested"],
        "owner engineer": ["passport.service_requested"],
    }
    text = render_default(type_key="passport.service_requested", language="en", context=payload)
    assert text.subject == f"Service request {payload['number']}: {passport.device_name}"
    assert "from the device's public page" in text.body


def test_a_members_service_request_is_not_told_back_to_the_member_who_asked(people, passport, manufacturer, operator):
    with tenant_scope(manufacturer.id, user_id=operator.id):
        services.service_request_create(
            actor=actor_of(operator, manufacturer),
            passport_id=passport.id,
            data=services.ServiceRequestInput(description="Noisy bearing."),
        )

    payload = relay_latest("passport.service_requested")

    assert told(people) == {
        "owner admin": ["passport.service_requested"],
        "owner engineer": ["passport.service_requested"],
    }
    text = render_default(type_key="passport.service_requested", language="ru", context=payload)
    assert "сотрудником вашей организации" in text.body
