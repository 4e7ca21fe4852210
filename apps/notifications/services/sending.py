"""Sending deliveries: e-mail through Django's mail backend, SMS through the SMS gateway, web push.

`deliveries_send` takes a batch of one channel's deliveries (up to a hundred, of many people):
1. claims those still queued and due, counting the attempt and pushing `due_at` a lease ahead,
   in a short transaction: a worker that dies mid-send leaves them to the sweep, which sends
   them again after the lease (at least once; a duplicate needs a crash between a provider's
   acceptance and the next commit);
2. sends outside any transaction (a provider is slow; a row lock must not wait for it); e-mail
   uses one SMTP connection for the whole batch, and a person's digested e-mails due together
   go as one message;
3. records each attempt (`DeliveryAttempt`) and the outcome: `sent` with the provider's id;
   `bounced` (the address refused) or `failed` (refused for good) at once; a transient failure
   (provider away, timeout, 4xx SMTP) goes back to `queued` with exponential backoff and
   jitter, until NOTIFICATIONS["MAX_ATTEMPTS"], then `failed`.
Reports that arrive later (an SMS gateway's delivery report, an e-mail provider's tracking
webhook) move a sent delivery to `delivered`, `failed` or `bounced` (`delivery_report_record`).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import make_msgid
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection
from django.db.models import F
from django.utils import timezone

from apps.core.context import system_scope, user_scope
from apps.core.task_bases import TransientError
from apps.notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus, Digest, PushSubscription
from apps.notifications.providers import push as push_provider
from apps.notifications.providers import sms as sms_provider

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # sent, bounced, failed, or "retry"
    provider_id: str = ""
    error: str = ""
    gone: list = field(default_factory=list)  # push subscriptions the push service says are dead


RETRY = "retry"


def retry_delay(attempt: int) -> dt.timedelta:
    """Exponential backoff with jitter: BASE * 2^(attempt-1) capped at MAX, then a random
    point in its upper half, so that retries of a failed batch spread out."""
    options = settings.NOTIFICATIONS
    ceiling = min(options["RETRY_MAX_SECONDS"], options["RETRY_BASE_SECONDS"] * 2 ** max(0, attempt - 1))
    return dt.timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 - not a secret


def _scope(what: str, count: int, channel: str):
    """The batch's all-tenants scope: its deliveries belong to many people (Personal rows),
    and acting as each in turn cost a dozen statements per message. Audited, as every write
    outside a tenant's or person's own scope is: one row per claim and one per record."""
    return system_scope(reason=f"notifications: {what} {count} {channel} deliveries")


def _claim(channel: str, delivery_ids: list[UUID], *, now) -> dict[UUID, list[Delivery]]:
    """Lock the batch's deliveries that are still queued and due (SKIP LOCKED: another worker's
    are its own), count the attempt and push `due_at` a lease ahead; by person."""
    lease = dt.timedelta(seconds=settings.NOTIFICATIONS["LEASE_SECONDS"])
    claimed: dict[UUID, list[Delivery]] = defaultdict(list)
    with _scope("claim", len(delivery_ids), channel):
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(id__in=delivery_ids, channel=channel, status=DeliveryStatus.QUEUED, due_at__lte=now)
            .order_by("user_id", "created_at", "id")
        )
        if not rows:
            return {}
        Delivery.objects.filter(id__in=[row.id for row in rows]).update(
            attempts=F("attempts") + 1, due_at=now + lease, updated_at=now
        )
        subscriptions: dict[UUID, list[PushSubscription]] = defaultdict(list)
        if channel == Channel.PUSH:
            people = {row.user_id for row in rows}
            for subscription in PushSubscription.objects.filter(user_id__in=people).order_by("created_at"):
                subscriptions[subscription.user_id].append(subscription)
    for row in rows:
        row.attempts += 1
        row.subscriptions = subscriptions.get(row.user_id, [])
        claimed[row.user_id].append(row)
    return claimed


def _record(channel: str, outcomes: list[tuple[Delivery, Outcome]], *, now) -> None:
    """Each delivery's outcome and its attempt row, in one transaction for the batch."""
    max_attempts = settings.NOTIFICATIONS["MAX_ATTEMPTS"]
    attempts = []
    for delivery, outcome in outcomes:
        status = outcome.status
        delivery.last_error = outcome.error[:500]
        delivery.updated_at = now
        if status == RETRY:
            if delivery.attempts >= max_attempts:
                status = DeliveryStatus.FAILED
            else:
                delivery.due_at = now + retry_delay(delivery.attempts)
                delivery.status = DeliveryStatus.QUEUED
        if status != RETRY:
            delivery.status = status
        if status == DeliveryStatus.SENT:
            delivery.sent_at = now
            delivery.provider_id = outcome.provider_id[:200]
        attempts.append(
            DeliveryAttempt(
                delivery_id=delivery.id,
                user_id=delivery.user_id,
                number=delivery.attempts,
                status=DeliveryStatus.FAILED if status == RETRY else status,
                provider_id=outcome.provider_id[:200],
                error=outcome.error[:500],
            )
        )
    gone = {subscription for _, outcome in outcomes for subscription in outcome.gone}
    with _scope("record", len(outcomes), channel):
        _update_outcomes([delivery for delivery, _ in outcomes], now=now)
        DeliveryAttempt.objects.bulk_create(attempts)
        if gone:
            PushSubscription.objects.filter(id__in=gone).delete()


def _update_outcomes(deliveries: list[Delivery], *, now) -> None:
    """Each delivery's new status, due time, error, sending time and provider id in one
    UPDATE ... FROM (VALUES ...): Django's bulk_update builds a CASE per field and row, which
    cost more than the sending it records (1.5 ms a delivery)."""
    table = Delivery._meta.db_table
    rows = ", ".join(["(%s::uuid, %s, %s::timestamptz, %s, %s::timestamptz, %s)"] * len(deliveries))
    params: list = []
    for delivery in deliveries:
        params += [
            delivery.id,
            delivery.status,
            delivery.due_at,
            delivery.last_error,
            delivery.sent_at,
            delivery.provider_id,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET status = v.status, due_at = v.due_at, last_error = v.last_error,"
            f" sent_at = v.sent_at, provider_id = v.provider_id, updated_at = %s"
            f" FROM (VALUES {rows}) AS v(id, status, due_at, last_error, sent_at, provider_id) WHERE d.id = v.id",
            [now, *params],
        )


def deliveries_send(*, channel: str, items, now=None) -> dict[str, int]:
    """Send one channel's deliveries ([user id, delivery id] pairs); returns counts by outcome."""
    now = now or timezone.now()
    claimed = _claim(channel, [UUID(str(delivery_id)) for _, delivery_id in items], now=now)
    if not claimed:
        return {}
    sender = {Channel.EMAIL: _send_emails, Channel.SMS: _send_sms, Channel.PUSH: _send_pushes}[channel]
    results = sender(claimed)
    outcomes = [pair for person in results.values() for pair in person]
    _record(channel, outcomes, now=timezone.now())
    counts: dict[str, int] = defaultdict(int)
    for _, outcome in outcomes:
        counts[str(outcome.status)] += 1
    logger.info("notifications.sent", extra={"channel": channel, **counts})
    return dict(counts)


# --- e-mail -----------------------------------------------------------------------------------


def _digest_message(deliveries: list[Delivery]) -> tuple[str, str]:
    russian = deliveries[0].language == "ru"
    subject = f"Manifest: {len(deliveries)} обновлений" if russian else f"Manifest: {len(deliveries)} updates"
    body = "\n\n".join(f"{d.subject}\n{d.body}".strip() for d in deliveries)
    return subject, body


def _email_outcome(error: Exception) -> Outcome:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return Outcome(RETRY, error=f"recipient deferred: {codes}")
        return Outcome(DeliveryStatus.BOUNCED, error=f"recipient refused: {codes}")
    if isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600:
        return Outcome(DeliveryStatus.FAILED, error=f"{error.smtp_code} {error.smtp_error!r}"[:500])
    return Outcome(RETRY, error=f"{type(error).__name__}: {error}"[:500])


def _send_emails(claimed: dict[UUID, list[Delivery]]) -> dict[UUID, list[tuple[Delivery, Outcome]]]:
    results: dict[UUID, list[tuple[Delivery, Outcome]]] = {}
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # the mail server is away: every one of them waits for a retry
        outcome = _email_outcome(error)
        return {user_id: [(d, outcome) for d in deliveries] for user_id, deliveries in claimed.items()}
    try:
        for user_id, deliveries in claimed.items():
            immediate = [d for d in deliveries if d.digest == Digest.IMMEDIATE]
            digested = [d for d in deliveries if d.digest != Digest.IMMEDIATE]
            groups = [[d] for d in immediate] + ([digested] if digested else [])
            outcomes = []
            for group in groups:
                outcome = _send_email(connection, group)
                outcomes.extend((delivery, outcome) for delivery in group)
            results[user_id] = outcomes
    finally:
        try:
            connection.close()
        except Exception:
            logger.debug("notifications.smtp_close_failed")
    return results


def _send_email(connection, group: list[Delivery]) -> Outcome:
    first = group[0]
    subject, body = (
        (first.subject, first.body) if len(group) == 1 and first.digest == Digest.IMMEDIATE else _digest_message(group)
    )
    message_id = make_msgid(domain=settings.NOTIFICATIONS["MESSAGE_ID_DOMAIN"])
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[first.address],
        headers={"Message-ID": message_id, "X-Manifest-Notification": str(first.notification_id)},
        connection=connection,
    )
    try:
        message.send()
    except Exception as error:
        return _email_outcome(error)
    status = getattr(message, "anymail_status", None)  # a real provider's own id, with django-anymail
    provider_id = (status.message_id if status is not None and status.message_id else message_id) or ""
    return Outcome(DeliveryStatus.SENT, provider_id=str(provider_id))


# --- SMS --------------------------------------------------------------------------------------


def _send_sms(claimed: dict[UUID, list[Delivery]]) -> dict[UUID, list[tuple[Delivery, Outcome]]]:
    gateway = sms_provider.sms_gateway()
    results = {}
    for user_id, deliveries in claimed.items():
        outcomes = []
        for delivery in deliveries:
            try:
                sent = gateway.send(to=delivery.address, body=delivery.body, reference=str(delivery.id))
            except sms_provider.SmsRejected as error:
                outcomes.append((delivery, Outcome(DeliveryStatus.FAILED, error=str(error))))
            except (TransientError, OSError) as error:
                outcomes.append((delivery, Outcome(RETRY, error=f"{type(error).__name__}: {error}")))
            else:
                outcomes.append((delivery, Outcome(DeliveryStatus.SENT, provider_id=sent.provider_id)))
        results[user_id] = outcomes
    return results


# --- web push ---------------------------------------------------------------------------------


def _send_pushes(claimed: dict[UUID, list[Delivery]]) -> dict[UUID, list[tuple[Delivery, Outcome]]]:
    results = {}
    for user_id, deliveries in claimed.items():
        outcomes = []
        for delivery in deliveries:
            outcomes.append((delivery, _push_one(delivery)))
        results[user_id] = outcomes
    return results


def _push_one(delivery: Delivery) -> Outcome:
    """Sent when at least one of the person's browsers took it; dead subscriptions are dropped."""
    payload = {
        "notification_id": str(delivery.notification_id),
        "title": delivery.subject,
        "body": delivery.body,
    }
    sent, retry, errors, gone = [], False, [], []
    for subscription in getattr(delivery, "subscriptions", []):
        try:
            result = push_provider.push_send(
                endpoint=subscription.endpoint, p256dh=subscription.p256dh, auth=subscription.auth, payload=payload
            )
        except push_provider.PushSubscriptionGone:
            gone.append(subscription.id)
        except push_provider.PushRejected as error:
            errors.append(str(error))
        except (TransientError, OSError) as error:
            retry = True
            errors.append(f"{type(error).__name__}: {error}")
        else:
            sent.append(result.provider_id or subscription.endpoint)
    if sent:
        return Outcome(DeliveryStatus.SENT, provider_id=sent[0], error="; ".join(errors), gone=gone)
    if retry:
        return Outcome(RETRY, error="; ".join(errors), gone=gone)
    return Outcome(DeliveryStatus.FAILED, error="; ".join(errors) or "no live subscription", gone=gone)


# --- the sweep and later reports --------------------------------------------------------------


def deliveries_due(*, now=None, limit: int = 5000) -> dict[str, list[list[str]]]:
    """Queued deliveries that are due (after quiet hours, a digest's hour, a retry's wait, or a
    lease a dead worker left), by channel. A read across people: the beat job's discovery scope."""
    now = now or timezone.now()
    due: dict[str, list[list[str]]] = defaultdict(list)
    rows = (
        Delivery.objects.filter(status=DeliveryStatus.QUEUED, due_at__lte=now)
        .order_by("due_at")
        .values_list("channel", "user_id", "id")[:limit]
    )
    for channel, user_id, delivery_id in rows:
        due[channel].append([str(user_id), str(delivery_id)])
    return dict(due)


REPORTED = {
    "delivered": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.FAILED,
    "bounced": DeliveryStatus.BOUNCED,
    "rejected": DeliveryStatus.FAILED,
}


def delivery_report_record(*, provider_id: str, status: str, error: str = "") -> bool:
    """A provider's later word on a sent delivery. False when no delivery has that id or the
    status means nothing to us; repeating a report changes nothing."""
    outcome = REPORTED.get(status)
    if outcome is None or not provider_id:
        return False
    with system_scope(reason="notifications: whose delivery a provider reports on", audit=False):
        found = Delivery.objects.filter(provider_id=provider_id).values_list("id", "user_id").first()
    if found is None:
        return False
    delivery_id, user_id = found
    now = timezone.now()
    with user_scope(user_id):
        delivery = Delivery.objects.select_for_update().get(id=delivery_id)
        if delivery.status not in (DeliveryStatus.SENT, outcome):
            return False
        if delivery.status == outcome:
            return True
        fields = {"status": outcome, "updated_at": now, "last_error": error[:500]}
        if outcome == DeliveryStatus.DELIVERED:
            fields["delivered_at"] = now
        Delivery.objects.filter(id=delivery_id).update(**fields)
        DeliveryAttempt.objects.filter(delivery_id=delivery_id, provider_id=provider_id).update(
            status=outcome, error=error[:500], updated_at=now
        )
    logger.info("notifications.delivery_reported", extra={"delivery_id": str(delivery_id), "status": outcome})
    return True
