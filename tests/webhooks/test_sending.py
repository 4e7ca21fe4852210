"""Sending deliveries to a real receiver: signed as documented, retried on the schedule (the
service called with a given `now`, no sleeping), the circuit breaker, rotation, redelivery and
pings. Real commits: the sender keeps no transaction open while the receiver answers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.webhooks import services
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.tasks import webhooks_retry_due
from tests.beat import run_beat_job
from tests.factories import OrganizationFactory
from tests.webhooks.conftest import endpoint_for
from tests.webhooks.events import order_created

pytestmark = pytest.mark.usefixtures("committed")

SCHEDULE = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
]


def _actor(organization) -> Actor:
    return Actor(user_id=None, organization_id=organization.id, role="org_admin")


def _delivery(organization, event) -> WebhookDelivery:
    with tenant_scope(organization.id):
        return WebhookDelivery.objects.get(event_id=event.id)


def _reload(organization, delivery) -> WebhookDelivery:
    with tenant_scope(organization.id):
        return WebhookDelivery.objects.get(pk=delivery.pk)


def _endpoint(organization, endpoint_id) -> WebhookEndpoint:
    with tenant_scope(organization.id):
        return WebhookEndpoint.objects.get(pk=endpoint_id)


def _attempts(organization, delivery) -> list[WebhookAttempt]:
    with tenant_scope(organization.id):
        return list(WebhookAttempt.objects.filter(delivery_id=delivery.id).order_by("sequence", "number"))


def signed_at(request) -> int:
    return int(request.headers["manifest-signature"].split(",")[0].removeprefix("t="))


def _send(organization, delivery, **kwargs):
    return services.delivery_send(delivery_id=delivery.id, organization_id=organization.id, **kwargs)


def test_a_delivery_reaches_the_receiver_signed_as_the_documentation_says(receiver):
    organization = OrganizationFactory()
    _, secret = endpoint_for(organization, receiver.url())
    event = order_created(organization)
    delivery = _delivery(organization, event)

    assert _send(organization, delivery) == DeliveryStatus.DELIVERED

    [request] = receiver.received
    assert request.body == delivery.body.encode()
    assert request.verifies_with(secret)
    assert not request.verifies_with("whsec_not-the-secret")
    assert request.headers["manifest-event-id"] == str(event.id)
    assert request.headers["manifest-event-type"] == "order.created"
    assert request.headers["manifest-delivery-id"] == str(delivery.id)
    assert request.headers["user-agent"] == "Manifest-Webhooks/1"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body)["data"]["number"] == "FR-2026-000001"
    [attempt] = _attempts(organization, delivery)
    assert (attempt.succeeded, attempt.status_code, attempt.response_excerpt) == (True, 200, "ok")
    assert attempt.latency_ms is not None
    assert _send(organization, delivery) is None  # delivered: nothing more to send
    assert len(receiver.received) == 1


def test_a_replayed_request_is_refused_by_the_recipe(receiver):
    organization = OrganizationFactory()
    _, secret = endpoint_for(organization, receiver.url())
    _send(organization, _delivery(organization, order_created(organization)))
    [request] = receiver.received
    assert request.verifies_with(secret, now=signed_at(request) + 299)
    assert not request.verifies_with(secret, now=signed_at(request) + 301)


def test_during_the_rotation_overlap_both_secrets_verify_and_after_it_only_the_new(receiver, settings):
    organization = OrganizationFactory()
    endpoint, old = endpoint_for(organization, receiver.url())
    now = timezone.now()
    with tenant_scope(organization.id):
        _, new = services.endpoint_rotate_secret(actor=_actor(organization), endpoint_id=endpoint.id, now=now)
    during = _delivery(organization, order_created(organization))
    after = _delivery(organization, order_created(organization))
    later = now + settings.WEBHOOKS["ROTATION_OVERLAP"] + timedelta(seconds=1)

    _send(organization, during, now=now + timedelta(minutes=1))
    _send(organization, after, now=later)

    first, second = receiver.received
    assert first.headers["manifest-signature"].count("v1=") == 2
    assert first.verifies_with(new, now=signed_at(first)) and first.verifies_with(old, now=signed_at(first))
    assert second.headers["manifest-signature"].count("v1=") == 1
    assert second.verifies_with(new, now=signed_at(second))
    assert not second.verifies_with(old, now=signed_at(second))


def test_a_failing_receiver_is_retried_on_the_schedule_then_the_delivery_fails(receiver):
    # Given a receiver that answers 500 (the breaker set out of reach)
    receiver.status, receiver.body = 500, b"down for maintenance"
    organization = OrganizationFactory()
    endpoint_for(organization, receiver.url())
    delivery = _delivery(organization, order_created(organization))
    now = timezone.now()

    # When each attempt is made when it is due
    for number, delay in enumerate(SCHEDULE, start=1):
        assert _send(organization, delivery, now=now) == DeliveryStatus.PENDING
        due = _reload(organization, delivery).next_attempt_at
        # Then the next one waits the schedule's delay plus at most 10 % jitter
        assert now + delay <= due <= now + delay * 1.1, number
        assert _send(organization, delivery, now=due - timedelta(seconds=1)) is None  # not due yet
        now = due

    # And the 7th failure is the last: failed, nothing more is due
    assert _send(organization, delivery, now=now) == DeliveryStatus.FAILED
    failed = _reload(organization, delivery)
    assert (failed.next_attempt_at, failed.attempt_count, failed.last_status_code) == (None, 7, 500)
    attempts = _attempts(organization, delivery)
    assert [attempt.number for attempt in attempts] == [1, 2, 3, 4, 5, 6, 7]
    assert {attempt.response_excerpt for attempt in attempts} == {"down for maintenance"}
    assert len(receiver.received) == 7
    assert _send(organization, delivery, now=now + timedelta(days=2)) is None


def test_a_redirect_is_a_failed_attempt_and_the_response_excerpt_is_capped(receiver):
    receiver.status, receiver.headers, receiver.body = 301, {"Location": "http://elsewhere.example.test/"}, b"y" * 5000
    organization = OrganizationFactory()
    endpoint_for(organization, receiver.url())
    delivery = _delivery(organization, order_created(organization))

    assert _send(organization, delivery) == DeliveryStatus.PENDING

    [attempt] = _attempts(organization, delivery)
    assert attempt.succeeded is False and attempt.status_code == 301
    assert "redirect not followed" in attempt.error
    assert len(attempt.response_excerpt.encode()) == 1024
    assert len(receiver.received) == 1


def test_an_unreachable_receiver_is_a_failed_attempt_with_its_error():
    organization = OrganizationFactory()
    endpoint_for(organization, "http://127.0.0.1:9/hooks")  # the discard port: nobody listens
    delivery = _delivery(organization, order_created(organization))

    assert _send(organization, delivery) == DeliveryStatus.PENDING

    [attempt] = _attempts(organization, delivery)
    assert attempt.status_code is None and "failed" in attempt.error


def _failing_deliveries(organization, receiver, count):
    receiver.status = 503
    endpoint, _ = endpoint_for(organization, receiver.url())
    return endpoint, [_delivery(organization, order_created(organization)) for _ in range(count)]


def test_the_circuit_breaker_disables_an_endpoint_that_keeps_failing_and_tells_its_organization(receiver, settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "DISABLE_AFTER_FAILURES": 3, "DISABLE_AFTER_SPAN": timedelta(hours=1)}
    organization = OrganizationFactory()
    endpoint, deliveries = _failing_deliveries(organization, receiver, 4)
    start = timezone.now()

    # Three failures in a row, but within minutes: not yet
    for minutes, delivery in zip([0, 1, 2], deliveries, strict=False):
        _send(organization, delivery, now=start + timedelta(minutes=minutes))
    assert _endpoint(organization, endpoint.id).is_active

    # The fourth, past the span: switched off, with the reason, and the event published
    _send(organization, deliveries[3], now=start + timedelta(hours=2))
    disabled = _endpoint(organization, endpoint.id)
    assert (disabled.is_active, disabled.consecutive_failures) == (False, 4)
    assert disabled.disabled_reason.startswith("4 failed attempts in a row since")
    with system_scope(reason="test: the published event", audit=False):
        event = OutboxEvent.objects.get(event_type="webhook_endpoint.disabled")
    assert event.organization_id == organization.id
    assert event.payload == {
        "endpoint_id": str(endpoint.id),
        "url": endpoint.url,
        "reason": disabled.disabled_reason,
        "failures": 4,
    }
    # Nothing more is sent to it, even what is due
    assert _send(organization, deliveries[0], now=start + timedelta(days=1)) is None

    # Switching it back on resets the count, and what was pending goes out again
    receiver.status = 200
    with tenant_scope(organization.id):
        services.endpoint_update(actor=_actor(organization), endpoint_id=endpoint.id, data={"is_active": True})
    reenabled = _endpoint(organization, endpoint.id)
    assert (reenabled.is_active, reenabled.consecutive_failures, reenabled.failing_since) == (True, 0, None)
    assert _send(organization, deliveries[0], now=start + timedelta(days=1)) == DeliveryStatus.DELIVERED


def test_a_success_resets_the_failure_count(receiver):
    organization = OrganizationFactory()
    endpoint, (first, second) = _failing_deliveries(organization, receiver, 2)
    _send(organization, first)
    assert _endpoint(organization, endpoint.id).consecutive_failures == 1

    receiver.status = 204
    _send(organization, second)

    assert (
        _endpoint(organization, endpoint.id).consecutive_failures,
        _endpoint(organization, endpoint.id).failing_since,
    ) == (0, None)


def test_a_redelivery_sends_the_same_body_with_a_fresh_signature(receiver):
    organization = OrganizationFactory()
    _, secret = endpoint_for(organization, receiver.url())
    delivery = _delivery(organization, order_created(organization))
    assert _send(organization, delivery) == DeliveryStatus.DELIVERED
    later = timezone.now() + timedelta(seconds=30)

    with tenant_scope(organization.id):
        services.delivery_redeliver(actor=_actor(organization), delivery_id=delivery.id, now=later)
    assert _send(organization, delivery, now=later) == DeliveryStatus.DELIVERED

    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["manifest-delivery-id"] == second.headers["manifest-delivery-id"]
    assert first.headers["manifest-signature"] != second.headers["manifest-signature"]
    assert second.verifies_with(secret, now=later.timestamp())
    assert [(attempt.sequence, attempt.number) for attempt in _attempts(organization, delivery)] == [(1, 1), (2, 1)]


def test_a_ping_is_sent_once_and_leaves_the_circuit_breaker_alone(receiver):
    organization = OrganizationFactory()
    endpoint, secret = endpoint_for(organization, receiver.url())
    with tenant_scope(organization.id):
        ping = services.endpoint_ping(actor=_actor(organization), endpoint_id=endpoint.id)

    assert _send(organization, ping) == DeliveryStatus.DELIVERED
    [request] = receiver.received
    assert request.headers["manifest-event-type"] == "webhook.ping" and request.verifies_with(secret)
    assert json.loads(request.body)["data"]["endpoint_id"] == str(endpoint.id)

    receiver.status = 500
    with tenant_scope(organization.id):
        failing = services.endpoint_ping(actor=_actor(organization), endpoint_id=endpoint.id)
    assert _send(organization, failing) == DeliveryStatus.FAILED
    assert _endpoint(organization, endpoint.id).consecutive_failures == 0


def test_the_beat_job_sends_what_is_due_and_leaves_the_rest(receiver):
    organization = OrganizationFactory()
    endpoint_for(organization, receiver.url())
    due = _delivery(organization, order_created(organization))
    waiting = _delivery(organization, order_created(organization))
    with tenant_scope(organization.id):
        WebhookDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))

    results = run_beat_job(webhooks_retry_due)

    assert results == [DeliveryStatus.DELIVERED]
    assert [request.headers["manifest-delivery-id"] for request in receiver.received] == [str(due.id)]
    assert _reload(organization, waiting).status == DeliveryStatus.PENDING
