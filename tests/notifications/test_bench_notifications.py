"""The `notifications` scenario (bench/notifications.py) on small numbers: its seed and events tell
exactly the seeded shippers, once, even relayed twice; its catcher process counts every e-mail by
its notification and the copies. The test times nothing."""

from __future__ import annotations

import smtplib

from apps.core.context import system_scope
from apps.core.models import OutboxEvent
from apps.core.services import outbox_relay
from bench import notifications as bench_notifications


def test_a_seeded_status_change_tells_each_shipper_once_and_not_the_actor_even_relayed_twice(committed):
    seeded = bench_notifications._seed(3)
    [event_id] = bench_notifications._publish(seeded, first=0, count=1, batch=1)

    relayed = outbox_relay(organization_id=seeded.organization_id, event_ids=[event_id])
    first = bench_notifications._counts()
    with system_scope(reason="test: relay again", using="owner", audit=False):
        OutboxEvent.objects.using("owner").filter(id=event_id).update(published_at=None)
    relayed_again = outbox_relay(organization_id=seeded.organization_id, event_ids=[event_id])
    second = bench_notifications._counts()
    told_twice, recipients = bench_notifications._notification_pairs()

    assert (relayed, relayed_again) == (1, 1)
    assert first == {"queued": 3, "notifications": 3, "unpublished": 0, "relay_errors": 0}
    assert second == first
    assert told_twice == 0
    assert sorted(recipients.values()) == sorted(seeded.recipient_emails.values())


def test_the_catcher_process_counts_every_email_by_its_notification_and_the_copies():
    catcher = bench_notifications.Catcher()
    try:
        with smtplib.SMTP(catcher.host, catcher.port, timeout=10) as smtp:
            for notification_id in ("first", "first", "second"):
                message = f"{bench_notifications.NOTIFICATION_HEADER}: {notification_id}\r\nSubject: Hi\r\n\r\nBody\r\n"
                smtp.sendmail("no-reply@manifest.test", ["anna@bench.test"], message)
        tally = catcher.ask("tally")
        counts = catcher.ask("counts")
        kept = catcher.ask("kept")
    finally:
        catcher.stop()

    assert (tally["received"], tally["extra"]) == (3, 1)
    assert tally["last_at"] > 0
    assert counts == {"first": 2, "second": 1}
    assert kept == [(n, ["anna@bench.test"], "Hi") for n in ("first", "first", "second")]
    assert catcher.cpu_s > 0
