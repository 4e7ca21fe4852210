"""Field service in the back-office: staff see every organization's experts, grant, renew and end
memberships, publish or hide profiles, read every service order and every matching result; an
organization admin sees their own experts (and corrects their profiles through the service) and
the service orders their organization is a party of, cancels their own with a reason; with expert
services switched off, the pages are hidden from them. Every write is a service call."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog, OutboxEvent
from apps.core.uploads import Upload
from apps.service import services
from apps.service.models import ExpertCertification, ExpertPassport, MatchingResult, ServiceOrder
from apps.tenancy.roles import Role
from tests.factories import OrganizationFactory, UserFactory, member
from tests.service.conftest import (
    as_member,
    create_order,
    give_membership,
    register_expert,
    with_field_service,
)
from tests.support import admin_client

pytestmark = pytest.mark.django_db

EXPERTS = reverse("admin:service_expertpassport_changelist")
ORDERS = reverse("admin:service_serviceorder_changelist")
MATCHES = reverse("admin:service_matchingresult_changelist")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def customer_admin(customer_organization):
    return member(customer_organization, Role.ORG_ADMIN)


@pytest.fixture
def expert_admin(expert_organization):
    return member(expert_organization, Role.ORG_ADMIN)


@pytest.fixture
def customer_expert(customer_organization):
    """An expert of the customer organization's own (published, as every new profile)."""
    return register_expert(
        member(customer_organization, Role.EXPERT), customer_organization, industry_code="AU", skill_code="PLC"
    )


def stored(model, pk):
    with system_scope(reason="test reads the stored row", audit=False):
        return model.objects.get(pk=pk)


def listed(response) -> list:
    return list(response.context["cl"].result_list)


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def act(user, changelist: str, action: str, rows, **extra):
    data = {"action": action, "_selected_action": [str(row.pk) for row in rows], **extra}
    return admin_client(user).post(changelist, data, follow=True)


def page_of(row) -> str:
    return reverse(f"admin:service_{row._meta.model_name}_change", args=[row.pk])


def events(event_type: str) -> list[OutboxEvent]:
    with system_scope(reason="test reads the outbox", audit=False):
        return list(OutboxEvent.objects.filter(event_type=event_type).order_by("created_at"))


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def assigned_order(dispatcher, customer_organization, expert, **fields):
    order = create_order(dispatcher, customer_organization, **fields)
    return as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )


def match(order, expert, *, rank=1, score="0.8100", **fields):
    """A scored candidate as the matching writes it (the customer organization's row)."""
    breakdown = {
        "skill": {"value": 1, "weight": 0.35, "points": 0.35, "why": "Exact skill EL-MOT."},
        "distance": {"value": 0.8, "weight": 0.25, "points": 0.2, "why": "12 km from the site, radius 80 km."},
        "availability": {"value": 1, "weight": 0.15, "points": 0.15, "why": "AVAILABLE."},
        "rating": {"value": 0.6, "weight": 0.15, "points": 0.09, "why": "No ratings yet: the prior."},
        "urgency": {"value": 0, "weight": 0.08, "points": 0, "why": "Not RUSHING."},
        "membership": {"value": 0.66, "weight": 0.02, "points": 0.0132, "why": "GOLD."},
    }
    with tenant_scope(order.organization_id):
        return MatchingResult.objects.create(
            organization_id=order.organization_id,
            target_organization_id=expert.organization_id,
            source_id=order.id,
            target_id=expert.id,
            target_user_id=expert.user_id,
            score=Decimal(score),
            breakdown=breakdown,
            rank=rank,
            distance_km=Decimal("12.40"),
            summary={"number": order.number, "title": order.title},
            **fields,
        )


# --- experts ------------------------------------------------------------------------------------


def test_staff_see_every_organizations_experts_with_their_organization(
    staff, expert, customer_expert, expert_organization, customer_organization
):
    response = admin_client(staff).get(EXPERTS)

    assert response.status_code == 200
    assert {row.pk for row in listed(response)} == {expert.pk, customer_expert.pk}
    body = response.content.decode()
    assert expert.code in body and customer_expert.code in body
    assert expert_organization.name in body and customer_organization.name in body


@pytest.mark.parametrize(("term", "found"), [("-EL-MOT-", "expert"), ("-AU-PLC-", "other"), ("EP-T-", "both")])
def test_staff_search_experts_by_code(staff, expert, customer_expert, term, found):
    expected = {"expert": {expert.pk}, "other": {customer_expert.pk}, "both": {expert.pk, customer_expert.pk}}[found]

    response = admin_client(staff).get(EXPERTS, {"q": term})

    assert {row.pk for row in listed(response)} == expected


def test_staff_search_experts_by_name_and_filter_by_work_status_and_membership(
    staff, expert, customer_expert, expert_user, expert_organization
):
    give_membership(expert)
    as_member(
        expert_user, expert_organization, services.expert_work_status_change, expert_id=expert.id, work_status="RUSHING"
    )
    client = admin_client(staff)

    by_name = client.get(EXPERTS, {"q": expert.display_name})
    rushing = client.get(EXPERTS, {"work_status__exact": "RUSHING"})
    gold = client.get(EXPERTS, {"membership_level__exact": "GOLD"})
    free = client.get(EXPERTS, {"membership_level__exact": "FREE"})

    assert expert.pk in {row.pk for row in listed(by_name)}
    assert [row.pk for row in listed(rushing)] == [expert.pk]
    assert [row.pk for row in listed(gold)] == [expert.pk]
    assert [row.pk for row in listed(free)] == [customer_expert.pk]


def test_an_organization_admin_sees_only_their_own_experts(expert_admin, expert, customer_expert):
    client = admin_client(expert_admin)

    response = client.get(EXPERTS)

    assert [row.pk for row in listed(response)] == [expert.pk]
    assert customer_expert.code not in response.content.decode()  # published, yet not theirs to run
    assert client.get(page_of(customer_expert)).status_code in (302, 404)


def test_the_expert_page_shows_the_code_read_only_with_certifications_and_work_status_history(
    expert_admin, expert, expert_user, expert_organization
):
    as_member(
        expert_user,
        expert_organization,
        services.expert_certification_add,
        expert_id=expert.id,
        data=services.CertificationInput(
            name="Electrical safety group IV",
            issuer="Rostekhnadzor",
            expires_on=timezone.now().date() + timedelta(days=300),
            upload=Upload("safety.png", png(), "image/png"),
        ),
    )
    as_member(
        expert_user,
        expert_organization,
        services.expert_work_status_change,
        expert_id=expert.id,
        work_status="AVAILABLE",
    )
    client = admin_client(expert_admin)

    response = client.get(page_of(expert))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert {"display_name", "skills", "service_radius_km", "is_published"} <= set(form.fields)
    assert not {"code", "work_status", "membership_level", "completed_orders", "rating_average"} & set(form.fields)
    body = response.content.decode()
    assert expert.code in body and "Electric motors" in body
    certifications = body.split('id="certifications-group"')[1].split('id="work_status_changes-group"')[0]
    assert "Electrical safety group IV" in certifications and "Rostekhnadzor" in certifications
    [url] = re.findall(r'href="(/admin/service/expertpassport/[^"]+/certifications/[^"]+/)"', certifications)
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == png()
    history = body.split('id="work_status_changes-group"')[1]
    assert "IDLE" in history and "AVAILABLE" in history
    assert "add-row" not in history and 'name="work_status_changes-0-to_status"' not in history


def test_an_organization_admin_corrects_a_profile_through_the_service(expert_admin, expert, expert_organization):
    data = {
        "display_name": "Ivan Petrov",
        "professional_field": expert.professional_field,
        "years_experience": 14,
        "headline": "Drives and motors, 24/7",
        "skills": "EL-MOT,EL-DRV,EL-SWG",
        "services_offered": "",
        "languages": "en,ru",
        "is_published": "on",
        "base_location": expert.base_location,
        "latitude": str(expert.latitude),
        "longitude": str(expert.longitude),
        "service_radius_km": 120,
        "code": "EP-X",  # read-only: ignored
        **{
            f"{prefix}-{part}": 0
            for prefix in ("certifications", "work_status_changes")
            for part in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }

    response = admin_client(expert_admin).post(page_of(expert), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    saved = stored(ExpertPassport, expert.pk)
    assert (saved.display_name, saved.years_experience, saved.service_radius_km) == ("Ivan Petrov", 14, 120)
    assert saved.skills == ["EL-MOT", "EL-DRV", "EL-SWG"] and saved.code == expert.code
    assert saved.area_max_latitude > stored(ExpertPassport, expert.pk).area_min_latitude
    [updated] = events("expert.updated")
    assert updated.organization_id == expert_organization.id
    assert updated.payload["changed"] == ["display_name", "headline", "service_radius_km", "skills", "years_experience"]


def test_a_profile_correction_the_service_refuses_changes_nothing(expert_admin, expert):
    data = {
        "display_name": expert.display_name,
        "professional_field": "",
        "years_experience": 120,  # over 80
        "headline": "",
        "skills": "EL-MOT",
        "services_offered": "",
        "languages": "en",
        "base_location": "",
        "latitude": str(expert.latitude),
        "longitude": str(expert.longitude),
        "service_radius_km": 80,
        **{
            f"{prefix}-{part}": 0
            for prefix in ("certifications", "work_status_changes")
            for part in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }

    response = admin_client(expert_admin).post(page_of(expert), data, follow=True)

    assert any("invalid fields" in message for message in shown_messages(response))
    assert stored(ExpertPassport, expert.pk).years_experience == expert.years_experience
    assert events("expert.updated") == []


def test_staff_read_a_profile_without_a_form(staff, expert):
    response = admin_client(staff).get(page_of(expert))

    assert response.status_code == 200
    assert "display_name" not in response.context["adminform"].form.fields
    assert expert.code in response.content.decode()


def test_staff_are_asked_for_level_and_months_before_a_membership_is_granted(staff, expert):
    asked = act(staff, EXPERTS, "grant_membership", [expert])
    refused = act(staff, EXPERTS, "grant_membership", [expert], apply="yes", level="GOLD", months=0)

    assert asked.templates[0].name == "admin/service/action_form.html"
    assert expert.code in asked.content.decode() and "now FREE" in asked.content.decode()
    assert refused.templates[0].name == "admin/service/action_form.html"
    assert stored(ExpertPassport, expert.pk).membership_level == "FREE"


def test_staff_grant_a_membership_then_renew_it_from_its_end(staff, expert):
    before = timezone.now()

    granted = act(staff, EXPERTS, "grant_membership", [expert], apply="yes", level="GOLD", months=12)
    first = stored(ExpertPassport, expert.pk)
    act(staff, EXPERTS, "grant_membership", [expert], apply="yes", level="DIAMOND", months=3)
    renewed = stored(ExpertPassport, expert.pk)

    assert "1 membership(s) set to GOLD." in shown_messages(granted)
    assert first.membership_level == "GOLD"
    assert before + relativedelta(months=12) <= first.membership_expires_at <= timezone.now() + relativedelta(months=12)
    assert renewed.membership_level == "DIAMOND"
    assert renewed.membership_expires_at == first.membership_expires_at + relativedelta(months=3)
    changes = events("expert.membership_changed")
    assert [(event.payload["from_level"], event.payload["to_level"]) for event in changes] == [
        ("FREE", "GOLD"),
        ("GOLD", "DIAMOND"),
    ]
    with system_scope(reason="test reads the audit", audit=False):
        assert AuditLog.objects.filter(action="expert.membership_changed", actor_id=staff.id).count() == 2


def test_an_expired_membership_is_granted_again_from_now(staff, expert):
    give_membership(expert, level="SILVER", days=1)
    with system_scope(reason="test: the membership ran out yesterday", audit=False):
        ExpertPassport.objects.filter(pk=expert.pk).update(membership_expires_at=timezone.now() - timedelta(days=1))

    act(staff, EXPERTS, "grant_membership", [expert], apply="yes", level="SILVER", months=1)

    expires_at = stored(ExpertPassport, expert.pk).membership_expires_at
    assert timezone.now() + relativedelta(months=1) - timedelta(minutes=1) < expires_at


def test_staff_end_a_membership_and_the_expert_leaves_rushing(staff, expert, expert_user, expert_organization):
    give_membership(expert)
    as_member(
        expert_user, expert_organization, services.expert_work_status_change, expert_id=expert.id, work_status="RUSHING"
    )

    response = act(staff, EXPERTS, "end_membership", [expert])

    assert "1 membership(s) ended." in shown_messages(response)
    ended = stored(ExpertPassport, expert.pk)
    assert (ended.membership_level, ended.membership_expires_at, ended.work_status) == ("FREE", None, "AVAILABLE")


def test_an_organization_admin_cannot_change_memberships(expert_admin, expert):
    page = admin_client(expert_admin).get(EXPERTS).content.decode()

    response = act(expert_admin, EXPERTS, "grant_membership", [expert], apply="yes", level="GOLD", months=12)

    assert 'value="grant_membership"' not in page and 'value="end_membership"' not in page
    assert 'value="unpublish"' in page
    assert response.status_code == 200
    assert stored(ExpertPassport, expert.pk).membership_level == "FREE"
    assert events("expert.membership_changed") == []


@pytest.mark.parametrize("who", ["staff", "expert_admin"])
def test_hiding_and_publishing_a_profile_goes_through_the_service(
    who, request, expert, expert_user, expert_organization
):
    as_member(
        expert_user,
        expert_organization,
        services.expert_certification_add,
        expert_id=expert.id,
        data=services.CertificationInput(name="PLC basics"),
    )
    user = request.getfixturevalue(who)

    hidden = act(user, EXPERTS, "unpublish", [expert])
    hidden_row = stored(ExpertPassport, expert.pk)
    with system_scope(reason="test reads the certifications", audit=False):
        certification_hidden = ExpertCertification.objects.get(expert_id=expert.pk).is_published
    act(user, EXPERTS, "publish", [expert])

    assert "1 profile(s) hidden." in shown_messages(hidden)
    assert hidden_row.is_published is False and certification_hidden is False
    assert stored(ExpertPassport, expert.pk).is_published is True
    assert [event.payload["changed"] for event in events("expert.updated")] == [["is_published"], ["is_published"]]
    assert {event.organization_id for event in events("expert.updated")} == {expert_organization.id}


# --- service orders -----------------------------------------------------------------------------


def test_staff_see_every_service_order_with_its_customer_and_expert(
    staff, dispatcher, customer_organization, expert, device
):
    order = assigned_order(dispatcher, customer_organization, expert, passport_id=device.id, urgency="URGENT")
    other = with_field_service(OrganizationFactory(name="Kama Works"))
    theirs = create_order(member(other, Role.OPERATOR), other, title="Pump leaks", required_skill="ME-PMP")

    response = admin_client(staff).get(ORDERS)

    assert {row.pk for row in listed(response)} == {order.pk, theirs.pk}
    body = response.content.decode()
    assert order.number in body and "Motor overheats" in body and "Pump leaks" in body
    assert customer_organization.name in body and other.name in body
    assert expert.code in body and "Urgent" in body


def test_service_orders_filter_by_status_and_urgency(staff, dispatcher, customer_organization, expert):
    assigned = assigned_order(dispatcher, customer_organization, expert)
    pending = create_order(dispatcher, customer_organization, urgency="LOW")
    client = admin_client(staff)

    by_status = client.get(ORDERS, {"status__exact": "ASSIGNED"})
    by_urgency = client.get(ORDERS, {"urgency__exact": "LOW"})

    assert [row.pk for row in listed(by_status)] == [assigned.pk]
    assert [row.pk for row in listed(by_urgency)] == [pending.pk]


def test_each_organization_admin_sees_the_orders_their_organization_is_a_party_of(
    customer_admin, expert_admin, dispatcher, customer_organization, expert
):
    held = assigned_order(dispatcher, customer_organization, expert)
    pending = create_order(dispatcher, customer_organization)
    outsider = member(with_field_service(OrganizationFactory(name="Third Plant")), Role.ORG_ADMIN)

    customers = admin_client(customer_admin).get(ORDERS)
    experts = admin_client(expert_admin).get(ORDERS)
    outsiders = admin_client(outsider).get(ORDERS)

    assert {row.pk for row in listed(customers)} == {held.pk, pending.pk}
    assert [row.pk for row in listed(experts)] == [held.pk]
    assert customer_organization.name in experts.content.decode()  # the customer's name, not its row
    assert listed(outsiders) == []
    assert admin_client(outsider).get(page_of(held)).status_code in (302, 404)
    assert admin_client(expert_admin).get(page_of(pending)).status_code in (302, 404)


def test_the_order_page_shows_history_files_and_the_matching_breakdown(
    customer_admin, dispatcher, customer_organization, expert, customer_expert, device
):
    order = create_order(
        dispatcher, customer_organization, passport_id=device.id, photos=[Upload("motor.png", png(), "image/png")]
    )
    match(order, customer_expert, rank=2, score="0.5000")
    match(order, expert, rank=1, offer_status="DECLINED", offer_round=1, offered_at=timezone.now())
    as_member(
        dispatcher, customer_organization, services.service_order_assign, service_order_id=order.id, expert_id=expert.id
    )
    client = admin_client(customer_admin)

    response = client.get(page_of(order))

    assert response.status_code == 200
    body = response.content.decode()
    assert order.number in body and device.code in body and "Electric motors" in body
    history = body.split('id="status_changes-group"')[1].split('id="attachments-group"')[0]
    assert history.index("PENDING") < history.index("ASSIGNED")
    [url] = re.findall(r'href="(/admin/service/serviceorder/[^"]+/files/[^"]+/)"', body)
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == png()
    matching = body.split('class="matching-results"')[1].split("</table></td></tr></tbody></table>")[0]
    assert matching.index(expert.code) < matching.index(customer_expert.code)  # by rank
    assert "12 km from the site, radius 80 km." in matching and "0.8100" in matching
    assert "Declined (round 1," in matching


def test_the_expert_side_sees_only_its_own_matching_result(
    expert_admin, dispatcher, customer_organization, expert, customer_expert
):
    order = assigned_order(dispatcher, customer_organization, expert)
    match(order, expert, rank=1)
    match(order, customer_expert, rank=2)

    body = admin_client(expert_admin).get(page_of(order)).content.decode()

    matching = body.split('class="matching-results"')[1]
    assert expert.code in matching and customer_expert.code not in matching


def test_the_customers_admin_cancels_with_a_reason_and_the_expert_is_free_again(
    customer_admin, dispatcher, customer_organization, expert, expert_organization
):
    order = assigned_order(dispatcher, customer_organization, expert)

    asked = act(customer_admin, ORDERS, "cancel", [order])
    refused = act(customer_admin, ORDERS, "cancel", [order], apply="yes", reason=" ")
    cancelled = act(customer_admin, ORDERS, "cancel", [order], apply="yes", reason="The line is stopped for a month.")

    assert asked.templates[0].name == "admin/action_reason.html" and order.number in asked.content.decode()
    assert refused.templates[0].name == "admin/action_reason.html"
    assert "1 service order(s) cancelled." in shown_messages(cancelled)
    saved = stored(ServiceOrder, order.pk)
    assert (saved.status, saved.cancellation_reason) == ("CANCELLED", "The line is stopped for a month.")
    assert stored(ExpertPassport, expert.pk).work_status == "AVAILABLE"
    [change] = [event for event in events("service_order.status_changed") if event.payload["action"] == "cancel"]
    assert change.organization_id == customer_organization.id and change.actor_id == customer_admin.id


def test_the_experts_admin_cannot_cancel_the_customers_order(expert_admin, dispatcher, customer_organization, expert):
    order = assigned_order(dispatcher, customer_organization, expert)

    response = act(expert_admin, ORDERS, "cancel", [order], apply="yes", reason="Not ours.")

    assert f"{order.number}: only the customer cancels a service order." in shown_messages(response)
    assert stored(ServiceOrder, order.pk).status == "ASSIGNED"


def test_staff_cancel_for_the_customer_and_a_refusal_names_its_order(
    staff, dispatcher, customer_organization, expert, expert_user, expert_organization
):
    pending = create_order(dispatcher, customer_organization)
    started = assigned_order(dispatcher, customer_organization, expert)
    as_member(expert_user, expert_organization, services.service_order_start, service_order_id=started.id)

    response = act(staff, ORDERS, "cancel", [pending, started], apply="yes", reason="Duplicate order.")

    assert "1 service order(s) cancelled." in shown_messages(response)
    assert any(message.startswith(f"{started.number}: ") for message in shown_messages(response))
    assert stored(ServiceOrder, pending.pk).status == "CANCELLED"
    assert stored(ServiceOrder, started.pk).status == "IN_PROGRESS"


# --- matching results ---------------------------------------------------------------------------


def test_staff_read_matching_results_with_their_breakdown_and_find_them_by_order(
    staff, dispatcher, customer_organization, expert, customer_expert
):
    order = create_order(dispatcher, customer_organization)
    other = create_order(dispatcher, customer_organization, title="Drive faults")
    first = match(order, expert)
    match(other, customer_expert)
    client = admin_client(staff)

    by_id = client.get(MATCHES, {"q": str(order.id)})
    by_number = client.get(MATCHES, {"q": other.number})
    page = client.get(page_of(first))

    assert [row.pk for row in listed(by_id)] == [first.pk]
    assert [row.target_id for row in listed(by_number)] == [customer_expert.pk]
    assert expert.code in by_id.content.decode() and order.number in by_id.content.decode()
    body = page.content.decode()
    assert page.status_code == 200 and "Exact skill EL-MOT." in body and "GOLD." in body


def test_matching_results_are_not_an_organization_admins_page(customer_admin):
    client = admin_client(customer_admin)

    assert client.get(MATCHES).status_code == 403
    assert "Matching results" not in client.get(reverse("admin:index")).content.decode()


# --- the feature flag ---------------------------------------------------------------------------


def test_with_expert_services_off_the_pages_are_hidden_from_the_organization_admin(staff):
    admin_user = member(OrganizationFactory(name="No Service Ltd"), Role.ORG_ADMIN)
    client = admin_client(admin_user)

    index = client.get(reverse("admin:index")).content.decode()

    assert "Field service" not in index
    for changelist in (EXPERTS, ORDERS):
        assert client.get(changelist).status_code == 403
    assert "Field service" in admin_client(staff).get(reverse("admin:index")).content.decode()


def test_with_expert_services_on_the_organization_admin_sees_experts_and_orders(customer_admin):
    index = admin_client(customer_admin).get(reverse("admin:index")).content.decode()

    assert f'href="{EXPERTS}"' in index and f'href="{ORDERS}"' in index
    assert f'href="{MATCHES}"' not in index


# --- queries ------------------------------------------------------------------------------------


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["staff", "expert_admin"])
def test_the_expert_list_runs_the_same_queries_for_few_or_many_experts(
    who, request, expert_organization, django_assert_num_queries
):
    client = admin_client(request.getfixturevalue(who))
    for _ in range(2):
        register_expert(member(expert_organization, Role.EXPERT), expert_organization)
    client.get(EXPERTS)  # warm what is cached per process
    few = queries_of(client, EXPERTS)

    for _ in range(4):
        register_expert(member(expert_organization, Role.EXPERT), expert_organization)

    with django_assert_num_queries(few):
        assert client.get(EXPERTS).status_code == 200


@pytest.mark.parametrize("who", ["staff", "customer_admin", "expert_admin"])
def test_the_order_and_matching_lists_run_the_same_queries_for_few_or_many_rows(
    who, request, dispatcher, customer_organization, expert_organization, django_assert_num_queries
):
    client = admin_client(request.getfixturevalue(who))

    def add(count: int) -> None:
        for _ in range(count):
            expert = register_expert(member(expert_organization, Role.EXPERT), expert_organization)
            order = assigned_order(dispatcher, customer_organization, expert)
            match(order, expert)

    add(2)
    urls = (ORDERS, MATCHES) if who == "staff" else (ORDERS,)
    for url in urls:
        client.get(url)
    few = {url: queries_of(client, url) for url in urls}
    add(4)

    for url, count in few.items():
        with django_assert_num_queries(count):
            assert client.get(url).status_code == 200
