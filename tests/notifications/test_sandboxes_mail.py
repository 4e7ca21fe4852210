"""The mail catcher: Django's SMTP backend delivers to it, it refuses the magic domains, its
pages escape what mails contain."""

from __future__ import annotations

import smtplib
from uuid import uuid4

import httpx
import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from sandboxes.mail_catcher import start_catcher


def new_address(domain: str = "example.test") -> str:
    return f"user-{uuid4().hex[:12]}@{domain}"


def smtp_connection(mail_catcher):
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=mail_catcher.smtp_host,
        port=mail_catcher.smtp_port,
        username="",
        password="",
        use_tls=False,
        timeout=5,
        fail_silently=False,
    )


def send(mail_catcher, *, to: list[str], subject="Your offer was accepted", text="Plain text", html=None):
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email="Manifest <no-reply@manifest.test>",
        to=to,
        connection=smtp_connection(mail_catcher),
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    return message.send()


def test_django_smtp_backend_delivers_to_the_catcher_and_the_json_shows_it(mail_catcher):
    recipient = new_address()

    sent = send(
        mail_catcher, to=[recipient], text="Offer 42 was accepted.", html="<p>Offer <b>42</b> was accepted.</p>"
    )

    assert sent == 1
    [message] = mail_catcher.wait_for(recipient)
    assert message["from"] == "no-reply@manifest.test"
    assert message["to"] == [recipient]
    assert message["subject"] == "Your offer was accepted"
    assert message["text"].strip() == "Offer 42 was accepted."
    assert message["html"] == "<p>Offer <b>42</b> was accepted.</p>"
    assert message["headers"]["To"] == recipient
    assert "Offer 42 was accepted." in message["raw"]
    assert message["id"] and message["date"]


def test_the_to_filter_returns_only_that_recipients_messages(mail_catcher):
    first, second = new_address(), new_address()

    send(mail_catcher, to=[first], subject="for the first")
    send(mail_catcher, to=[second], subject="for the second")

    assert [message["subject"] for message in mail_catcher.wait_for(first)] == ["for the first"]
    assert [message["subject"] for message in mail_catcher.wait_for(second)] == ["for the second"]


def test_a_bounce_test_recipient_is_refused_for_good_with_550(mail_catcher):
    recipient = new_address("bounce.test")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mail_catcher, to=[recipient])

    code, reply = refused.value.recipients[recipient]
    assert code == 550
    assert b"recipient refused" in reply
    assert mail_catcher.messages(recipient) == []


def test_a_tempfail_test_recipient_is_deferred_with_451(mail_catcher):
    recipient = new_address("tempfail.test")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(mail_catcher, to=[recipient])

    code, _reply = refused.value.recipients[recipient]
    assert code == 451  # 4xx: transient, a sender retries later
    assert mail_catcher.messages(recipient) == []


def test_one_bouncing_recipient_does_not_stop_the_others(mail_catcher):
    accepted, bounced = new_address(), new_address("bounce.test")

    send(mail_catcher, to=[accepted, bounced])

    [message] = mail_catcher.wait_for(accepted)
    assert message["to"] == [accepted]  # the envelope: only whom the server accepted


def test_the_pages_escape_the_html_of_a_mail_and_never_render_it(mail_catcher):
    recipient = new_address()
    send(
        mail_catcher,
        to=[recipient],
        subject="<script>alert('subject')</script>",
        html="<img src=x onerror=alert('body')><script>alert('html')</script>",
    )
    [message] = mail_catcher.wait_for(recipient)

    listing = mail_catcher.page("/")
    detail = mail_catcher.page(f"/messages/{message['id']}")

    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert "<script" not in page.text
        assert "<img" not in page.text
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt;" in listing.text
    assert "&lt;img src=x onerror=alert(&#x27;body&#x27;)&gt;" in detail.text
    assert f"/messages/{message['id']}" in listing.text


def test_an_unknown_message_page_answers_404(mail_catcher):
    assert mail_catcher.page(f"/messages/{'0' * 24}").status_code == 404


def test_a_catcher_of_its_own_keeps_only_the_newest_messages_and_can_be_emptied():
    with start_catcher(max_messages=2) as catcher:
        with smtplib.SMTP(catcher.smtp_host, catcher.smtp_port, timeout=5) as client:
            for number in range(3):
                client.sendmail("sender@example.test", ["kept@example.test"], f"Subject: mail {number}\r\n\r\nbody")

        kept = catcher.wait_for("kept@example.test", count=2)
        assert [message["subject"] for message in kept] == ["mail 1", "mail 2"]

        assert httpx.delete(f"{catcher.http_url}/api/messages").status_code == 204
        assert httpx.get(f"{catcher.http_url}/api/messages").json() == {"messages": []}
        with pytest.raises(TimeoutError):
            catcher.wait_for("kept@example.test", timeout=0.1)
