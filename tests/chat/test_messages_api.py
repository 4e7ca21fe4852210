"""Messages through the API: history by cursor, editing within the window, soft deletes, reports,
attachments checked by their content, the per-user rate limit, and concurrent edits and deletes."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.chat import services
from apps.chat.models import Message, MessageVersion
from apps.core.context import system_scope
from tests.chat.factories import send

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def messages_url(thread) -> str:
    return f"/api/v1/chat/threads/{thread.id}/messages"


def test_history_pages_newest_first_and_a_message_sent_meanwhile_shifts_nothing(api, shipper, carrier, thread):
    for number in range(1, 8):
        send(carrier, thread, f"message {number}")
    client = api(shipper.user)

    first = client.get(messages_url(thread), {"limit": 3}).json()
    send(carrier, thread, "arrives while the shipper reads")  # seq 8, newer than every page
    second = client.get(first["meta"]["next"]).json()
    third = client.get(second["meta"]["next"]).json()

    assert [m["seq"] for m in first["data"]] == [7, 6, 5]
    assert [m["seq"] for m in second["data"]] == [4, 3, 2]
    assert [m["seq"] for m in third["data"]] == [1]
    assert third["meta"]["next"] is None


def test_the_previous_link_pages_back_to_newer_messages_and_a_forged_cursor_is_refused(api, shipper, carrier, thread):
    for number in range(1, 6):
        send(carrier, thread, f"message {number}")
    client = api(shipper.user)
    first = client.get(messages_url(thread), {"limit": 2}).json()
    second = client.get(first["meta"]["next"]).json()

    back = client.get(second["meta"]["previous"]).json()
    forged = client.get(messages_url(thread), {"cursor": "not a cursor"})

    assert first["meta"]["previous"] is None
    assert [m["seq"] for m in second["data"]] == [3, 2]
    assert [m["seq"] for m in back["data"]] == [5, 4]
    assert forged.status_code == 400 and forged.json()["details"]["cursor"]


def test_the_history_runs_the_same_queries_for_any_page_size(
    api, shipper, carrier, thread, django_assert_num_queries, django_assert_max_num_queries
):
    for number in range(12):
        send(carrier, thread, f"m{number}")
    client = api(shipper.user)
    client.get(messages_url(thread), {"limit": 1})
    with django_assert_max_num_queries(50) as small:
        client.get(messages_url(thread), {"limit": 1})

    with django_assert_num_queries(len(small.captured_queries)):
        assert len(client.get(messages_url(thread), {"limit": 12}).json()["data"]) == 12


def test_a_message_longer_than_4000_characters_is_refused_and_nothing_is_stored(api, carrier, thread):
    response = api(carrier.user).post(messages_url(thread), {"text": "x" * 4001}, format="json")

    assert response.status_code == 400
    assert response.json()["details"]["text"]
    with system_scope(reason="test: count messages"):
        assert Message.objects.count() == 0


def test_an_empty_message_without_files_is_refused(api, carrier, thread):
    response = api(carrier.user).post(messages_url(thread), {"text": "   "}, format="json")

    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_FIELD_REQUIRED"


def test_the_sender_edits_within_the_window_and_the_earlier_text_is_kept_for_staff(api, shipper, carrier, thread):
    message = send(carrier, thread, "Pickup at 9")

    response = api(carrier.user).put(f"/api/v1/chat/messages/{message.id}", {"text": "Pickup at 10"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "Pickup at 10" and response.json()["edited"] is True
    seen = api(shipper.user).get(messages_url(thread)).json()["data"][0]
    assert seen["text"] == "Pickup at 10"
    with system_scope(reason="test: read versions"):
        assert list(MessageVersion.objects.values_list("body", flat=True)) == ["Pickup at 9"]


def test_editing_after_the_window_is_refused(api, carrier, thread):
    message = send(carrier, thread, "Pickup at 9")
    with system_scope(reason="test: age the message"):
        Message.objects.filter(pk=message.id).update(created_at=message.created_at - timedelta(minutes=16))

    response = api(carrier.user).put(f"/api/v1/chat/messages/{message.id}", {"text": "later"}, format="json")

    assert response.status_code == 422
    assert response.json()["details"] == {"edit_window_minutes": 15}


def test_only_the_sender_changes_a_message(api, shipper, carrier, thread):
    message = send(carrier, thread, "Pickup at 9")
    client = api(shipper.user)

    assert client.put(f"/api/v1/chat/messages/{message.id}", {"text": "no"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/chat/messages/{message.id}").status_code == 403


def test_a_deleted_message_shows_as_deleted_to_everyone_and_keeps_its_text_for_staff(api, shipper, carrier, thread):
    message = send(carrier, thread, "Wrong number: 42")

    deleted = api(carrier.user).delete(f"/api/v1/chat/messages/{message.id}")

    assert deleted.status_code == 200
    seen = api(shipper.user).get(messages_url(thread)).json()["data"][0]
    assert seen["state"] == "deleted" and seen["text"] == "" and seen["attachments"] == []
    with system_scope(reason="test: staff read"):
        assert Message.objects.get(pk=message.id).body == "Wrong number: 42"
    again = api(carrier.user).put(f"/api/v1/chat/messages/{message.id}", {"text": "x"}, format="json")
    assert again.status_code == 422 and again.json()["error_code"] == "INVALID_STATE_TRANSITION"


def test_a_report_reaches_the_queue_once_per_user(api, shipper, carrier, thread):
    message = send(carrier, thread, "Pay me outside the platform")
    client = api(shipper.user)

    first = client.post(f"/api/v1/chat/messages/{message.id}/report", {"reason": "Asks to pay outside"}, format="json")
    second = client.post(f"/api/v1/chat/messages/{message.id}/report", {"reason": "again"}, format="json")
    own = api(carrier.user).post(f"/api/v1/chat/messages/{message.id}/report", {"reason": "me"}, format="json")

    assert first.status_code == 201 and first.json()["status"] == "open"
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert own.status_code == 400
    with system_scope(reason="test: read the message"):
        assert Message.objects.get(pk=message.id).report_count == 1


def test_a_hidden_message_shows_as_hidden_to_both_parties(api, shipper, carrier, thread, django_user_model):
    from apps.core.actors import Actor

    message = send(carrier, thread, "rude words")
    staff = django_user_model.objects.create_user(email="mod@manifest.test", password="x" * 16, is_staff=True)
    with system_scope(reason="test: staff hide"):
        services.message_hide(actor=Actor.staff(staff.id), message_id=message.id, reason="Insults")

    for side in (shipper, carrier):
        seen = api(side.user).get(messages_url(thread)).json()["data"][0]
        assert seen["state"] == "hidden" and seen["text"] == ""


def test_files_go_with_a_message_and_download_through_a_short_lived_link(api, shipper, carrier, thread):
    client = api(carrier.user)
    upload = client.post(
        f"/api/v1/chat/threads/{thread.id}/attachments",
        {"file": SimpleUploadedFile("dock.png", png_bytes(), content_type="image/png")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()

    sent = client.post(
        messages_url(thread), {"text": "The dock", "attachment_ids": [upload.json()["id"]]}, format="json"
    )

    assert sent.status_code == 201, sent.json()
    seen = api(shipper.user).get(messages_url(thread)).json()["data"][0]
    attachment = seen["attachments"][0]
    assert attachment["filename"] == "dock.png" and attachment["content_type"] == "image/png"
    download = api().get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == png_bytes()


def test_files_sent_in_the_message_request_itself(api, shipper, carrier, thread):
    response = api(carrier.user).post(
        messages_url(thread),
        {
            "text": "Photos",
            "attachments": [
                SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
                SimpleUploadedFile("b.png", png_bytes(), content_type="image/png"),
            ],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert [a["filename"] for a in response.json()["attachments"]] == ["a.png", "b.png"]


def test_a_file_is_refused_by_its_content_whatever_its_name(api, carrier, thread):
    zip_as_pdf = SimpleUploadedFile("invoice.pdf", b"PK\x03\x04" + b"\x00" * 64, content_type="application/pdf")

    response = api(carrier.user).post(
        f"/api/v1/chat/threads/{thread.id}/attachments", {"file": zip_as_pdf}, format="multipart"
    )

    assert response.status_code == 400
    assert "ZIP archive" in response.json()["message"]


def test_someone_elses_upload_cannot_be_sent(api, shipper, carrier, thread):
    upload = api(carrier.user).post(
        f"/api/v1/chat/threads/{thread.id}/attachments",
        {"file": SimpleUploadedFile("dock.png", png_bytes(), content_type="image/png")},
        format="multipart",
    )

    response = api(shipper.user).post(
        messages_url(thread), {"text": "mine now", "attachment_ids": [upload.json()["id"]]}, format="json"
    )

    assert response.status_code == 400
    assert "attachment_ids" in response.json()["details"]


def test_more_than_five_files_are_refused(api, carrier, thread):
    client = api(carrier.user)
    ids = [
        client.post(
            f"/api/v1/chat/threads/{thread.id}/attachments",
            {"file": SimpleUploadedFile(f"p{n}.png", png_bytes(), content_type="image/png")},
            format="multipart",
        ).json()["id"]
        for n in range(6)
    ]

    response = client.post(messages_url(thread), {"text": "six", "attachment_ids": ids}, format="json")

    assert response.status_code == 400
    with system_scope(reason="test: count messages"):
        assert Message.objects.count() == 0


def test_a_sender_over_the_rate_limit_gets_429_with_retry_after(api, carrier, thread, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "chat_message": "2/min"}
    client = api(carrier.user)

    statuses = [client.post(messages_url(thread), {"text": f"m{n}"}, format="json") for n in range(3)]

    assert [r.status_code for r in statuses] == [201, 201, 429]
    refused = statuses[-1]
    assert refused.json()["error_code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= int(refused["Retry-After"]) <= 60
    with system_scope(reason="test: count messages"):
        assert Message.objects.count() == 2
