"""The field-service use cases end to end on the real database: an expert's passport and work
status, a service order from PENDING to COMPLETED with its `serviced` step on the device, and
the refusals that change nothing."""

from __future__ import annotations

import pytest

from apps.core.context import tenant_scope
from apps.core.errors import InvalidStateTransition, NotFound, ValidationFailed
from apps.passports.models import PassportEvent
from apps.service import codes, services
from apps.service.models import ExpertPassport, ServiceOrder, ServiceOrderStatusChange
from tests.service.conftest import as_member, create_order, give_membership, register_expert

pytestmark = pytest.mark.django_db


def test_an_expert_passport_has_a_valid_code_and_starts_idle_and_free(expert):
    assert codes.code_check(expert.code).valid
    assert expert.code.startswith("EP-T-EL-MOT-")
    assert expert.work_status == "IDLE"
    assert expert.membership_level == "FREE"
    assert expert.skills == ["EL-MOT", "EL-DRV"]
    assert expert.area_min_latitude < float(expert.latitude) < expert.area_max_latitude


def test_one_passport_per_person(expert, expert_user, expert_organization):
    with pytest.raises(ValidationFailed) as error:
        register_expert(expert_user, expert_organization)
    assert error.value.details == {"user_id": ["One expert passport per person."]}


def test_rushing_needs_an_active_paid_membership(expert, expert_user, expert_organization):
    with pytest.raises(InvalidStateTransition) as error:
        as_member(
            expert_user,
            expert_organization,
            services.expert_work_status_change,
            expert_id=expert.id,
            work_status="RUSHING",
        )
    assert "membership_level" in error.value.details
    with tenant_scope(expert_organization.id):
        assert ExpertPassport.objects.get(id=expert.id).work_status == "IDLE"
    give_membership(expert)
    rushing = as_member(
        expert_user, expert_organization, services.expert_work_status_change, expert_id=expert.id, work_status="RUSHING"
    )
    assert rushing.work_status == "RUSHING"


def test_an_expired_membership_drops_to_free_and_leaves_rushing(expert, expert_user, expert_organization):
    from datetime import timedelta

    from django.utils import timezone

    give_membership(expert)
    as_member(
        expert_user, expert_organization, services.expert_work_status_change, expert_id=expert.id, work_status="RUSHING"
    )
    assert services.memberships_expire(now=timezone.now() + timedelta(days=31)) == 1
    with tenant_scope(expert_organization.id):
        expert = ExpertPassport.objects.get(id=expert.id)
    assert (expert.membership_level, expert.membership_expires_at, expert.work_status) == ("FREE", None, "AVAILABLE")


def test_a_service_order_goes_from_pending_to_completed_and_writes_a_serviced_step(
    device, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization, passport_id=device.id)
    assert (order.status, order.number[:4], order.passport_code) == ("PENDING", "SVO-", device.code)
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    with tenant_scope(expert_organization.id):
        assert ExpertPassport.objects.get(id=expert.id).work_status == "BOOKED"
        # The expert's side sees the whole history once it holds the order.
        assert ServiceOrderStatusChange.objects.filter(service_order_id=order.id).count() == 2
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)
    with tenant_scope(expert_organization.id):
        assert ExpertPassport.objects.get(id=expert.id).work_status == "IN_SERVICE"
    done = as_member(
        expert_user,
        expert_organization,
        services.service_order_complete,
        service_order_id=order.id,
        data=services.CompletionInput(
            work_done="Replaced the bearing",
            signed_off_by_name="I. Petrova",
            parts_used=[{"name": "Bearing 6205", "quantity": 2}],
        ),
    )
    assert done.status == "COMPLETED" and done.passport_event_id is not None
    with tenant_scope(customer_organization.id):
        step = PassportEvent.objects.get(id=done.passport_event_id)
        assert (step.kind, step.service_order_id, step.passport_id) == ("serviced", order.id, device.id)
        assert step.details["service_order_number"] == order.number
    with tenant_scope(expert_organization.id):
        expert = ExpertPassport.objects.get(id=expert.id)
        assert (expert.work_status, expert.completed_orders) == ("AVAILABLE", 1)


def test_work_in_progress_is_not_cancelled(
    device, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)
    with pytest.raises(InvalidStateTransition):
        as_member(
            dispatcher, customer_organization, services.service_order_cancel, service_order_id=order.id, reason="No"
        )
    with tenant_scope(customer_organization.id):
        assert ServiceOrder.objects.get(id=order.id).status == "IN_PROGRESS"


def test_declining_an_assignment_gives_the_order_back(
    device, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    order = create_order(dispatcher, customer_organization)
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    as_member(
        expert_user, expert_organization, services.service_order_decline, service_order_id=order.id, reason="Too far"
    )
    with tenant_scope(customer_organization.id):
        order = ServiceOrder.objects.get(id=order.id)
        assert (order.status, order.expert_id, order.expert_organization_id) == ("PENDING", None, None)
    with tenant_scope(expert_organization.id):
        assert not ServiceOrder.objects.filter(id=order.id).exists()
        assert ExpertPassport.objects.get(id=expert.id).work_status == "AVAILABLE"
    with pytest.raises(NotFound):
        as_member(expert_user, expert_organization, services.service_order_start, service_order_id=order.id)


def test_at_most_twenty_skills_the_main_one_counted(expert, expert_user, expert_organization):
    from apps.service.vocabulary import SKILL_KEYS

    others = [key for key in SKILL_KEYS if key != "EL-MOT"][:20]
    with pytest.raises(ValidationFailed) as error:
        as_member(
            expert_user, expert_organization, services.expert_update, expert_id=expert.id, changes={"skills": others}
        )
    assert error.value.details == {"skills": ["At most 20 skills."]}
    updated = as_member(
        expert_user, expert_organization, services.expert_update, expert_id=expert.id, changes={"skills": others[:19]}
    )
    assert len(updated.skills) == 20 and updated.skills[0] == "EL-MOT"
