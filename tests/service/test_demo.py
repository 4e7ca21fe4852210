"""The field-service demo data of `make run`: experts of Volga Carriers and Baltic Shippers (one
RUSHING with GOLD, one OFF_DUTY, one FREE and available), certifications, and Volga's service
orders in every status on its demo devices (the COMPLETED one wrote the motor's serviced step,
the URGENT one waits); made once through the services, the experts' logins printed every time."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.core.context import system_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.passports.models import PassportEvent
from apps.service import demo
from apps.service.models import ExpertCertification, ExpertPassport, ServiceOrder
from apps.tenancy import demo as tenancy_demo
from apps.tenancy.models import Membership, OrganizationFeature

pytestmark = pytest.mark.django_db

TITLES = [order.title for order in demo.ORDERS]


def snapshot() -> dict:
    """What the field-service seed writes, counted."""
    with system_scope(reason="test: the demo rows", audit=False):
        return {
            "experts": ExpertPassport.objects.count(),
            "certifications": ExpertCertification.objects.count(),
            "orders": ServiceOrder.objects.count(),
            "serviced steps": PassportEvent.objects.filter(kind="serviced").count(),
            "events": OutboxEvent.objects.filter(aggregate_type__in=["expert", "service_order"]).count(),
            "audit": AuditLog.objects.filter(resource_type__in=["expert", "service_order"]).count(),
        }


def test_seed_demo_makes_the_experts_and_service_orders_once(capsys):
    call_command("seed_demo")
    first = snapshot()
    first_output = capsys.readouterr().out
    call_command("seed_demo")
    second_output = capsys.readouterr().out

    assert snapshot() == first
    with system_scope(reason="test: the demo rows", audit=False):
        experts = {
            expert.user.email: expert for expert in ExpertPassport.objects.select_related("user", "organization")
        }
        orders = list(ServiceOrder.objects.filter(title__in=TITLES).select_related("organization"))
        features = set(
            OrganizationFeature.objects.filter(name="expert_services", is_entitled=True, is_enabled=True).values_list(
                "organization__slug", flat=True
            )
        )
        roles = dict(Membership.objects.filter(user__email__in=list(experts)).values_list("user__email", "role"))
        certifications = list(ExpertCertification.objects.values_list("expert__user__email", "filename"))
        serviced = PassportEvent.objects.filter(kind="serviced", service_order_id__isnull=False).first()

    assert features >= {"volga-carriers", "baltic-shippers"}
    assert len(experts) == 5 and set(roles.values()) == {"expert"}
    motors = experts["expert@volga-carriers.demo"]
    assert (motors.work_status, motors.membership_level) == ("RUSHING", "GOLD")
    assert experts["expert.pumps@baltic-shippers.demo"].work_status == "OFF_DUTY"
    cooling = experts["expert.cooling@baltic-shippers.demo"]
    assert (cooling.work_status, cooling.membership_level) == ("AVAILABLE", "FREE")
    assert {expert.organization.slug for expert in experts.values()} == {"volga-carriers", "baltic-shippers"}
    assert any(email == motors.user.email and filename.endswith(".pdf") for email, filename in certifications)

    assert {order.status for order in orders} == {"PENDING", "ASSIGNED", "IN_PROGRESS", "COMPLETED", "CANCELLED"}
    assert all(order.organization.slug == "volga-carriers" for order in orders)
    [urgent] = [order for order in orders if order.urgency == "URGENT"]
    assert (urgent.status, urgent.expert_id) == ("PENDING", None)
    [completed] = [order for order in orders if order.status == "COMPLETED"]
    assert completed.passport_code and completed.passport_event_id == serviced.id
    assert serviced.service_order_id == completed.id
    assert experts["expert.robotics@volga-carriers.demo"].work_status == "IN_SERVICE"
    assert experts["expert@baltic-shippers.demo"].work_status == "BOOKED"

    assert "field service: 5 experts of Volga Carriers and Baltic Shippers, 5 service orders" in first_output
    assert "the demo experts and service orders are there already" in second_output
    for output in (first_output, second_output):
        assert "expert.cooling@baltic-shippers.demo" in output and motors.code in output


def test_the_demo_experts_use_the_shared_demo_password_and_admin():
    assert (demo.DEMO_PASSWORD, demo.ADMIN_EMAIL) == (tenancy_demo.DEMO_PASSWORD, tenancy_demo.ADMIN_EMAIL)


def test_the_demo_experts_sign_in_with_the_shared_password():
    call_command("seed_demo")

    for spec in demo.EXPERTS:
        user = User.objects.get(email=spec.email)
        assert user.check_password(tenancy_demo.DEMO_PASSWORD)
