"""Notifications in the back-office, for platform staff: templates added and changed through the
services (a broken one shows its error and saves nothing), the change page previews the template
on the type's sample, and the delivery log of every person lists; an organization admin reaches
none of these pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.actors import Actor
from apps.core.context import system_scope
from apps.core.models import AuditLog
from apps.notifications import services
from apps.notifications.models import NotificationTemplate
from tests.factories import OrganizationFactory, UserFactory, member
from tests.notifications.factories import delivery, notification
from tests.support import admin_client

pytestmark = pytest.mark.django_db

TEMPLATE_ADD = reverse("admin:notifications_notificationtemplate_add")
TEMPLATES = reverse("admin:notifications_notificationtemplate_changelist")
DELIVERIES = reverse("admin:notifications_delivery_changelist")

FORM = {
    "type": "payment.escrow_funded",
    "channel": "email",
    "language": "en",
    "subject": "Escrow {{ escrow_id }} funded",
    "body": "{{ held_amount }} {{ currency }} is held for order {{ order_id }}.",
    "is_active": "on",
}


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def org_admin():
    return member(OrganizationFactory())


def audit_rows(action: str, resource_id) -> list[AuditLog]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(action=action, resource_id=str(resource_id)))


def template_page(template) -> str:
    return reverse("admin:notifications_notificationtemplate_change", args=[template.pk])


def saved_template(staff, **values) -> NotificationTemplate:
    fields = {key: value for key, value in FORM.items() if key not in ("type", "is_active")}
    return services.template_create(actor=Actor.staff(staff.id), type_key=FORM["type"], **{**fields, **values})


def test_staff_add_a_template_through_the_service_audited(staff):
    response = admin_client(staff).post(TEMPLATE_ADD, FORM, follow=True)

    assert response.status_code == 200
    [template] = NotificationTemplate.objects.all()
    assert (template.type, template.channel, template.language) == ("payment.escrow_funded", "email", "en")
    assert template.updated_by_id == staff.id
    [entry] = audit_rows("notification_template.created", template.id)
    assert entry.actor_id == staff.id


@pytest.mark.parametrize(
    ("field", "source", "shown"),
    [
        ("body", "{{ held_amount ", "TemplateSyntaxError"),
        ("subject", "Escrow {{ nope }}", "nope"),
        ("body", "{{ ''.__class__.__mro__ }}", "SecurityError"),
        ("body", "{{ joiner }}", "joiner"),
    ],
)
def test_a_broken_template_shows_its_error_and_saves_nothing(staff, field, source, shown):
    response = admin_client(staff).post(TEMPLATE_ADD, {**FORM, field: source})

    assert response.status_code == 200  # the form again, not a redirect
    errors = response.context["adminform"].form.errors
    assert field in errors and shown in " ".join(errors[field])
    assert shown in response.content.decode()
    assert NotificationTemplate.objects.count() == 0


def test_the_change_page_previews_the_template_on_the_types_sample(staff):
    template = saved_template(staff)

    page = admin_client(staff).get(template_page(template)).content.decode()

    assert "Escrow 0d5c1b7e-4f1d-4b8e-9c55-1f8e2a9b6c21 funded" in page
    assert "1250.00 EUR is held for order 5b0f1c1e-8a4e-4d43-9d6e-2f1f3c9b7a10." in page
    assert "held_amount" in page  # the sample's fields, for the one editing


def test_a_change_that_breaks_the_template_is_refused_and_the_old_text_kept(staff):
    template = saved_template(staff)
    client = admin_client(staff)

    refused = client.post(template_page(template), {**FORM, "body": "{{ nope }}"})
    changed = client.post(template_page(template), {**FORM, "subject": "Funded: {{ amount }}"}, follow=True)

    assert refused.status_code == 200 and "body" in refused.context["adminform"].form.errors
    assert changed.status_code == 200
    template.refresh_from_db()
    assert (template.subject, template.body) == ("Funded: {{ amount }}", FORM["body"])
    assert len(audit_rows("notification_template.updated", template.id)) == 1


def test_the_delivery_log_lists_every_persons_deliveries(staff):
    first, second = UserFactory(), UserFactory()
    mine = delivery(notification(first), channel="email", provider_id="<a@manifest.local>")
    theirs = delivery(notification(second), channel="sms", provider_id="sms_abc", status="failed")

    response = admin_client(staff).get(DELIVERIES)

    assert response.status_code == 200
    assert {row.pk for row in response.context["cl"].result_list} == {mine.pk, theirs.pk}
    detail = admin_client(staff).get(reverse("admin:notifications_delivery_change", args=[theirs.pk]))
    assert detail.status_code == 200 and "sms_abc" in detail.content.decode()


def test_an_organization_admin_reaches_none_of_the_notification_pages(staff, org_admin):
    template = saved_template(staff)
    sent = delivery(notification(org_admin), channel="email")
    client = admin_client(org_admin)

    responses = [
        client.get(TEMPLATES),
        client.get(TEMPLATE_ADD),
        client.get(template_page(template)),
        client.post(TEMPLATE_ADD, {**FORM, "language": "ru"}),
        client.get(DELIVERIES),
        client.get(reverse("admin:notifications_delivery_change", args=[sent.pk])),
    ]

    assert [r.status_code for r in responses] == [403] * len(responses)
    assert NotificationTemplate.objects.count() == 1
    index = client.get(reverse("admin:index")).content.decode()
    assert "Notification templates" not in index and "Deliveries" not in index
