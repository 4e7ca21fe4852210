"""Staff's part of the notifications API: sending a message to people (through the outbox, once
per Idempotency-Key) and the templates (checked on the type's sample when saved, so a broken or
escaping one is refused then, never at sending; listed, changed, previewed). Others get 403."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.notifications.models import NotificationTemplate
from tests.factories import OrganizationFactory, UserFactory, member
from tests.notifications.factories import stored

pytestmark = pytest.mark.django_db

SEND = "/api/v1/notifications/send"
TEMPLATES = "/api/v1/notifications/templates"
PREVIEW = f"{TEMPLATES}/preview"

ORDER_TEMPLATE = {
    "type": "order.status_changed",
    "channel": "email",
    "language": "en",
    "subject": "Order {{ number }} is {{ to_status }}",
    "body": "Your order {{ number }} moved from {{ from_status }} to {{ to_status }}.",
}


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


def broadcasts() -> list[OutboxEvent]:
    with system_scope(reason="test reads the outbox", audit=False):
        return list(OutboxEvent.objects.filter(event_type="notification.broadcast"))


def template_count() -> int:
    return NotificationTemplate.objects.count()


def create_template(client, **overrides):
    return client.post(TEMPLATES, {**ORDER_TEMPLATE, **overrides}, format="json")


# --- sending ---


def test_staff_send_writes_one_broadcast_event_naming_its_audience(api, staff):
    organization = OrganizationFactory()
    person = UserFactory()

    response = api(staff).post(
        SEND,
        {
            "title": "Maintenance on Sunday",
            "body": "Read-only 02:00-03:00 UTC.",
            "user_ids": [str(person.id)],
            "organization_ids": [str(organization.id)],
            "roles": ["org_admin"],
        },
        format="json",
    )

    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    [event] = broadcasts()
    assert event.aggregate_id == response.json()["broadcast_id"]
    assert event.organization_id is None  # the platform's own event
    assert event.actor_id == staff.id
    assert event.payload["title"] == "Maintenance on Sunday"
    assert event.payload["user_ids"] == [str(person.id)]
    assert event.payload["organization_ids"] == [str(organization.id)]
    assert event.payload["roles"] == ["org_admin"]


def test_sending_again_with_the_same_idempotency_key_replays_the_first_broadcast(api, staff):
    client = api(staff)
    request = {"title": "Hello", "body": "World", "user_ids": [str(UserFactory().id)]}

    first = client.post(SEND, request, format="json", HTTP_IDEMPOTENCY_KEY="broadcast-1")
    again = client.post(SEND, request, format="json", HTTP_IDEMPOTENCY_KEY="broadcast-1")

    assert first.status_code == again.status_code == 202
    assert again.json()["broadcast_id"] == first.json()["broadcast_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(broadcasts()) == 1


def test_a_broadcast_to_nobody_is_refused(api, staff):
    response = api(staff).post(SEND, {"title": "Hello", "body": "World"}, format="json")

    assert response.status_code == 400
    assert "user_ids" in response.json()["details"]
    assert broadcasts() == []


def test_a_user_who_is_not_staff_cannot_send(api):
    organization = OrganizationFactory()
    admin = member(organization)

    response = api(admin, organization).post(
        SEND, {"title": "Hello", "body": "World", "organization_ids": [str(organization.id)]}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error_code"] == "RBAC_PERMISSION_DENIED"
    assert broadcasts() == []


# --- templates ---


def test_staff_add_a_template_that_renders_on_the_sample(api, staff):
    response = create_template(api(staff))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["type"], body["channel"], body["language"], body["is_active"]) == (
        "order.status_changed",
        "email",
        "en",
        True,
    )
    saved = NotificationTemplate.objects.get(id=body["id"])
    assert saved.subject == ORDER_TEMPLATE["subject"] and saved.updated_by_id == staff.id


@pytest.mark.parametrize(
    ("part", "source"),
    [
        ("body", "Order {{ number "),
        ("body", "{% for x in %}"),
        ("subject", "Order {{ number "),
        ("subject", "Order {% if %}"),
    ],
)
def test_a_template_that_does_not_compile_is_refused_naming_its_part(api, staff, part, source):
    response = create_template(api(staff), **{part: source})

    assert response.status_code == 400
    assert list(response.json()["details"]) == [part]
    assert template_count() == 0


def test_a_template_using_jinjas_globals_is_refused_naming_them(api, staff):
    response = create_template(api(staff), subject="{{ number }}", body="{{ joiner }} {{ lipsum(3) }}")

    assert response.status_code == 400
    [message] = response.json()["details"]["body"]
    assert "joiner, lipsum" in message and "to_status" in message
    assert template_count() == 0


def test_a_template_naming_what_the_payload_does_not_have_is_refused(api, staff):
    response = create_template(api(staff), body="Dear {{ nope }}")

    assert response.status_code == 400
    details = response.json()["details"]
    assert "body" in details and "nope" in details["body"][0]
    assert template_count() == 0


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ number.__class__.__base__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ number.upper.__self__ }}",
        "{{ config }}",
        "{{ request }}",
        "{{ joiner }}",
        "{{ cycler }}",
        "{{ lipsum(5) }}",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{{ namespace() }}",
        "{{ number.format_map }}",
        "{{ number * 100000000 }}",
        "{{ 10 ** 100000 }}",
        "{{ 9 ** 9 ** 9 }}",
    ],
)
def test_a_template_reaching_for_python_internals_is_refused_or_harmless(api, staff, escape):
    client = api(staff)

    response = create_template(client, body=f"x {escape} y")

    text = response.content.decode()
    for leak in ("<class", "subclasses", "__builtins__", "object at 0x", "<function", "<built-in", "SECRET"):
        assert leak not in text
    if response.status_code == 201:
        preview = client.post(PREVIEW, {"type": "order.status_changed", "subject": "s", "body": escape}, format="json")
        for leak in ("<class", "__builtins__", "object at 0x", "<function", "<built-in"):
            assert leak not in preview.content.decode()
    else:
        assert response.status_code == 400
        assert template_count() == 0


def test_a_second_template_for_the_same_type_channel_and_language_is_refused(api, staff):
    client = api(staff)
    assert create_template(client).status_code == 201

    response = create_template(client, subject="Another {{ number }}")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_CONSTRAINT_VIOLATION"
    assert template_count() == 1
    # Another language of the same type is a template of its own.
    assert create_template(client, language="ru").status_code == 201


def test_templates_are_listed_paginated_and_filtered(api, staff):
    client = api(staff)
    for values in (
        {"language": "en"},
        {"language": "ru"},
        {"channel": "sms", "language": "en"},
        {"type": "document.ready", "subject": "Document {{ document_type }}", "body": "Ready: v{{ version }}"},
    ):
        assert create_template(client, **values).status_code == 201

    everything = client.get(TEMPLATES)
    russian = client.get(TEMPLATES, {"language": "ru"})
    sms = client.get(TEMPLATES, {"channel": "sms"})
    documents = client.get(TEMPLATES, {"type": "document.ready"})
    first_page = client.get(TEMPLATES, {"limit": 2})

    assert everything.status_code == 200, everything.json()
    assert [(t["type"], t["channel"], t["language"]) for t in everything.json()["data"]] == [
        ("document.ready", "email", "en"),
        ("order.status_changed", "email", "en"),
        ("order.status_changed", "email", "ru"),
        ("order.status_changed", "sms", "en"),
    ]
    assert [t["language"] for t in russian.json()["data"]] == ["ru"]
    assert [t["channel"] for t in sms.json()["data"]] == ["sms"]
    assert [t["type"] for t in documents.json()["data"]] == ["document.ready"]
    assert len(first_page.json()["data"]) == 2
    assert first_page.json()["meta"]["total"] == 4 and first_page.json()["meta"]["totalPages"] == 2


def test_the_template_list_runs_the_same_queries_for_one_template_or_many(api, staff, django_assert_num_queries):
    client = api(staff)
    assert create_template(client).status_code == 201
    client.get(TEMPLATES)  # warm: the caller's session is cached
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(TEMPLATES).json()["data"]) == 1
    one_count = len(one.captured_queries)
    for language, channel in (("ru", "email"), ("en", "sms"), ("ru", "sms"), ("en", "push"), ("ru", "push")):
        assert create_template(client, language=language, channel=channel).status_code == 201

    with django_assert_num_queries(one_count):
        assert len(client.get(TEMPLATES).json()["data"]) == 6


def test_a_template_is_read_and_changed_and_the_change_is_checked_again(api, staff):
    client = api(staff)
    created = create_template(client).json()
    url = f"{TEMPLATES}/{created['id']}"

    read = client.get(url)
    changed = client.put(url, {"subject": "Now {{ to_status }}: {{ number }}", "is_active": False}, format="json")
    broken = client.put(url, {"body": "{{ nope }}"}, format="json")

    assert read.status_code == 200 and read.json()["subject"] == ORDER_TEMPLATE["subject"]
    assert changed.status_code == 200, changed.json()
    assert changed.json()["subject"] == "Now {{ to_status }}: {{ number }}"
    assert changed.json()["body"] == ORDER_TEMPLATE["body"]
    assert changed.json()["is_active"] is False
    assert broken.status_code == 400 and "body" in broken.json()["details"]
    kept = NotificationTemplate.objects.get(id=created["id"])
    assert (kept.subject, kept.body, kept.is_active) == (
        "Now {{ to_status }}: {{ number }}",
        ORDER_TEMPLATE["body"],
        False,
    )


def test_an_unknown_template_is_not_found(api, staff):
    client = api(staff)
    url = f"{TEMPLATES}/{uuid.uuid4()}"

    responses = [client.get(url), client.put(url, {"subject": "x"}, format="json")]

    assert [r.status_code for r in responses] == [404, 404]


def test_the_preview_renders_on_the_types_sample(api, staff):
    response = api(staff).post(
        PREVIEW,
        {"type": "payment.escrow_released", "subject": "Released {{ amount }} {{ currency }}", "body": "{{ status }}"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["subject"] == "Released 1250.00 EUR"
    assert body["body"] == "released"
    assert body["sample"]["escrow_id"] == "0d5c1b7e-4f1d-4b8e-9c55-1f8e2a9b6c21"


def test_the_preview_of_a_broken_template_is_a_400_naming_its_part(api, staff):
    response = api(staff).post(
        PREVIEW, {"type": "payment.escrow_released", "subject": "{{ amount", "body": "ok"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["subject"]


def test_a_user_who_is_not_staff_gets_403_on_every_template_endpoint(api, staff):
    template_id = create_template(api(staff)).json()["id"]
    organization = OrganizationFactory()
    client = api(member(organization), organization)
    url = f"{TEMPLATES}/{template_id}"

    responses = [
        client.get(TEMPLATES),
        client.post(TEMPLATES, {**ORDER_TEMPLATE, "language": "ru"}, format="json"),
        client.get(url),
        client.put(url, {"subject": "Hacked"}, format="json"),
        client.post(PREVIEW, {"type": "order.status_changed", "subject": "s", "body": "b"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert {r.json()["error_code"] for r in responses} == {"RBAC_PERMISSION_DENIED"}
    assert stored(NotificationTemplate, id=template_id).subject == ORDER_TEMPLATE["subject"]
    assert template_count() == 1
