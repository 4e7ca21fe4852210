"""Chat in the back-office: platform staff work the queue of reported messages (hide with a
reason, dismiss; both through the services, audited) and read any thread with everything kept
(audited, one row per party); an organization admin reads only its organization's threads, as
the parties see them, and never gets the queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.chat import admin as chat_admin
from apps.chat import services as chat_services
from apps.chat.models import Message, MessageReport
from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import AuditLog
from apps.tenancy.roles import Role
from tests.chat.factories import Side, order_thread, send
from tests.factories import FeatureFactory, UserFactory, member
from tests.support import admin_client

pytestmark = pytest.mark.django_db

REPORTS = reverse("admin:chat_messagereport_changelist")
THREADS = reverse("admin:chat_thread_changelist")


def thread_page(thread) -> str:
    return reverse("admin:chat_thread_change", args=[thread.pk])


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def shipper_admin(shipper):
    return member(shipper.org, Role.ORG_ADMIN)


def report(reporter: Side, message: Message, reason: str = "Asks to pay outside the platform") -> MessageReport:
    with tenant_scope(reporter.org.id, user_id=reporter.user.id):
        created, _ = chat_services.message_report(actor=reporter.actor(), message_id=message.id, reason=reason)
    return created


def edit(sender: Side, message: Message, text: str) -> Message:
    with tenant_scope(sender.org.id, user_id=sender.user.id):
        return chat_services.message_edit(actor=sender.actor(), message_id=message.id, text=text)


def delete(sender: Side, message: Message) -> Message:
    with tenant_scope(sender.org.id, user_id=sender.user.id):
        return chat_services.message_delete(actor=sender.actor(), message_id=message.id)


def moderated(message: Message, *, shown: str, written: str) -> None:
    """The message as moderation stores one it changed: the masked text shown, the original kept.
    Written directly: the moderation engine is another branch's work (apps/chat/moderation)."""
    with system_scope(reason="test stores a moderated message", audit=False):
        Message.objects.filter(pk=message.pk).update(body=shown, original_body=written, moderation_findings=["phone"])


def stored(model, pk):
    with system_scope(reason="test reads the stored row", audit=False):
        return model.objects.get(pk=pk)


def audit_rows(action: str, resource_id) -> list[AuditLog]:
    with system_scope(reason="test reads the audit log", audit=False):
        return list(AuditLog.objects.filter(action=action, resource_id=str(resource_id)))


def act(user, action: str, reports: list[MessageReport], **extra):
    data = {"action": action, "_selected_action": [r.pk for r in reports], **extra}
    return admin_client(user).post(REPORTS, data, follow=True)


def shown_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- the queue of reported messages ---


def test_staff_see_open_reports_first_oldest_first(staff, shipper, carrier, thread):
    first, second, third = (send(shipper, thread, text) for text in ("one", "two", "three"))
    decided = report(carrier, first)
    older_open, newer_open = report(carrier, second), report(carrier, third)
    with system_scope(reason="test: staff dismiss", audit=False):
        chat_services.report_dismiss(actor=Actor.staff(staff.id), report_id=decided.pk)

    response = admin_client(staff).get(REPORTS)

    assert response.status_code == 200
    assert [r.pk for r in response.context["cl"].result_list] == [older_open.pk, newer_open.pk, decided.pk]
    assert "Asks to pay outside the platform" in response.content.decode()


def test_hide_asks_for_a_reason_first_and_hides_nothing_without_one(staff, shipper, carrier, thread):
    message = send(shipper, thread, "Pay me on +7 999 123 45 67")
    reported = report(carrier, message)

    asked = act(staff, "hide_message", [reported])
    refused = act(staff, "hide_message", [reported], apply="yes", reason="  ")

    assert asked.templates[0].name == "admin/action_reason.html"
    assert "Pay me on" in asked.content.decode()
    assert refused.templates[0].name == "admin/action_reason.html"
    assert "Say why the message is hidden." in refused.content.decode()
    assert stored(Message, message.pk).hidden_at is None
    assert stored(MessageReport, reported.pk).status == "open"


def test_staff_hide_a_reported_message_with_a_reason_closing_its_reports_audited(staff, shipper, carrier, thread):
    message = send(shipper, thread, "Pay me on +7 999 123 45 67")
    reported = report(carrier, message)

    response = act(staff, "hide_message", [reported], apply="yes", reason="Payment outside the platform")

    assert response.status_code == 200
    assert f'Message #{message.seq} in "{thread.title}" hidden; its open reports are closed.' in shown_messages(
        response
    )
    hidden = stored(Message, message.pk)
    assert (hidden.hidden_by_id, hidden.hidden_reason) == (staff.id, "Payment outside the platform")
    closed = stored(MessageReport, reported.pk)
    assert (closed.status, closed.decided_by_id) == ("hidden", staff.id)
    [entry] = audit_rows("chat.message_hidden", message.pk)
    assert entry.actor_id == staff.id
    assert entry.new_values["reason"] == "Payment outside the platform"


def test_hiding_an_already_hidden_message_is_shown_not_raised(staff, shipper, carrier, thread):
    message = send(shipper, thread, "Pay me in cash")
    reported = report(carrier, message)
    act(staff, "hide_message", [reported], apply="yes", reason="Cash deal")

    again = act(staff, "hide_message", [reported], apply="yes", reason="Once more")

    assert again.status_code == 200
    assert f'Message #{message.seq} in "{thread.title}": The message is already hidden.' in shown_messages(again)
    assert stored(Message, message.pk).hidden_reason == "Cash deal"


def test_staff_dismiss_a_report_and_the_message_stays_audited(staff, shipper, carrier, thread):
    message = send(shipper, thread, "See you at the dock")
    reported = report(carrier, message)

    response = act(staff, "dismiss", [reported])

    assert response.status_code == 200
    assert any(text.endswith("dismissed; the message stays as it is.") for text in shown_messages(response))
    dismissed = stored(MessageReport, reported.pk)
    assert (dismissed.status, dismissed.decided_by_id) == ("dismissed", staff.id)
    assert stored(Message, message.pk).hidden_at is None
    [entry] = audit_rows("chat.report_dismissed", reported.pk)
    assert entry.actor_id == staff.id


def test_an_org_admin_never_gets_the_reports_queue(shipper, carrier, thread):
    reported = report(shipper, send(carrier, thread, "Rude words"))
    carrier_admin = member(carrier.org, Role.ORG_ADMIN)
    client = admin_client(carrier_admin)

    listed = client.get(REPORTS)
    opened = client.get(reverse("admin:chat_messagereport_change", args=[reported.pk]))
    acted = client.post(REPORTS, {"action": "dismiss", "_selected_action": [reported.pk]})
    index = client.get(reverse("admin:index"))

    assert (listed.status_code, opened.status_code, acted.status_code) == (403, 403, 403)
    assert REPORTS not in index.content.decode()
    assert THREADS in index.content.decode()
    assert stored(MessageReport, reported.pk).status == "open"


# --- threads ---


def test_an_org_admin_sees_only_its_organizations_threads(shipper, carrier, outsider, thread, shipper_admin):
    theirs = order_thread(outsider, carrier)
    client = admin_client(shipper_admin)

    listed = client.get(THREADS)
    other = client.get(thread_page(theirs))

    assert [t.pk for t in listed.context["cl"].result_list] == [thread.pk]
    assert client.get(thread_page(thread)).status_code == 200
    assert other.status_code in (302, 404)
    assert outsider.org.name not in listed.content.decode()


def test_the_other_party_admin_sees_the_thread_too(carrier, thread):
    carrier_admin = member(carrier.org, Role.ORG_ADMIN)

    listed = admin_client(carrier_admin).get(THREADS)

    assert [t.pk for t in listed.context["cl"].result_list] == [thread.pk]


def test_an_org_admin_sees_messages_as_the_parties_do_without_what_was_kept_for_staff(
    shipper, carrier, thread, shipper_admin
):
    masked = send(carrier, thread, "Call me")
    moderated(masked, shown="Call me on [phone hidden]", written="Call me on +7 999 123 45 67")
    edited = send(carrier, thread, "Pickup at 9")
    edit(carrier, edited, "Pickup at 10")
    deleted = send(carrier, thread, "A secret price: 900 EUR")
    delete(carrier, deleted)

    page = admin_client(shipper_admin).get(thread_page(thread))

    content = page.content.decode()
    assert page.status_code == 200
    assert [row.seq for row in page.context["message_rows"]] == [1, 2, 3]
    assert "Call me on [phone hidden]" in content and "Pickup at 10" in content
    assert "+7 999 123 45 67" not in content
    assert "Pickup at 9" not in content
    assert "A secret price" not in content
    assert "deleted by its sender" in content
    assert "Staff only" not in content


def test_staff_see_original_text_versions_and_hidden_state_with_its_reason(staff, shipper, carrier, thread):
    masked = send(carrier, thread, "Call me")
    moderated(masked, shown="Call me on [phone hidden]", written="Call me on +7 999 123 45 67")
    edited = send(carrier, thread, "Pickup at 9")
    edit(carrier, edited, "Pickup at 10")
    rude = send(carrier, thread, "You fool")
    act(staff, "hide_message", [report(shipper, rude)], apply="yes", reason="Insult")

    page = admin_client(staff).get(thread_page(thread))

    content = page.content.decode()
    assert [row.seq for row in page.context["message_rows"]] == [1, 2, 3]
    assert "Call me on +7 999 123 45 67" in content
    assert "Pickup at 9" in content and "Pickup at 10" in content
    assert "You fool" in content and "Insult" in content
    assert "hidden by a moderator" in content


def test_staff_opening_a_thread_writes_an_audit_row_for_each_party(staff, shipper, carrier, thread, shipper_admin):
    send(shipper, thread, "Hello")
    admin_client(shipper_admin).get(thread_page(thread))
    assert audit_rows("chat.thread_viewed_by_staff", thread.pk) == []

    admin_client(staff).get(thread_page(thread))

    rows = audit_rows("chat.thread_viewed_by_staff", thread.pk)
    assert {row.organization_id for row in rows} == {shipper.org.id, carrier.org.id}
    assert {row.actor_id for row in rows} == {staff.id}
    assert rows[0].new_values == {"thread_id": str(thread.pk), "first_seq": 1, "last_seq": 1}


def test_a_long_thread_is_shown_one_window_at_a_time(monkeypatch, staff, shipper, thread):
    monkeypatch.setattr(chat_admin, "MESSAGES_PER_PAGE", 2)
    for text in ("one", "two", "three"):
        send(shipper, thread, text)
    client = admin_client(staff)

    newest = client.get(thread_page(thread))
    earliest = client.get(thread_page(thread) + "?until=1")

    assert [row.seq for row in newest.context["message_rows"]] == [2, 3]
    assert newest.context["earlier_until"] == 1
    assert [row.seq for row in earliest.context["message_rows"]] == [1, 2]
    assert earliest.context["later_until"] == 3


def test_staff_find_a_thread_by_its_subject(staff, shipper, carrier, outsider, thread, order):
    order_thread(outsider, carrier)

    found = admin_client(staff).get(THREADS, {"q": str(order.id)})

    assert [t.pk for t in found.context["cl"].result_list] == [thread.pk]


def test_an_org_admin_whose_organization_switched_chat_off_does_not_see_threads(shipper, thread, shipper_admin):
    FeatureFactory(organization=shipper.org, name="chat", is_enabled=False)
    client = admin_client(shipper_admin)

    assert client.get(THREADS).status_code == 403
    assert THREADS not in client.get(reverse("admin:index")).content.decode()


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_thread_page_and_the_queue_cost_the_same_queries_whatever_their_length(staff, shipper, carrier, thread):
    client = admin_client(staff)
    first = send(carrier, thread, "one")
    edit(carrier, first, "one, edited")
    report(shipper, first)
    client.get(thread_page(thread))  # warm: the session, the second factor, the content types
    short_page, short_queue = queries_of(client, thread_page(thread)), queries_of(client, REPORTS)

    for text in ("two", "three", "four"):
        message = send(carrier, thread, text)
        edit(carrier, message, f"{text}, edited")
        report(shipper, message)

    assert queries_of(client, thread_page(thread)) == short_page
    assert queries_of(client, REPORTS) == short_queue


def test_staff_open_a_report_beside_the_message_as_written(staff, shipper, carrier, thread):
    message = send(carrier, thread, "Call me")
    moderated(message, shown="Call me on [phone hidden]", written="Call me on +7 999 123 45 67")
    reported = report(shipper, message, reason="Wants to take the deal off the platform")

    page = admin_client(staff).get(reverse("admin:chat_messagereport_change", args=[reported.pk]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "Wants to take the deal off the platform" in content
    assert "Call me on [phone hidden]" in content and "Call me on +7 999 123 45 67" in content
    assert f'href="{thread_page(thread)}?until={message.seq}"' in content
