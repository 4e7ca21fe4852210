"""Faults on the wire and in the worker: a worker that dies at any step of applying a webhook
leaves nothing applied and the retry applies it exactly once; a failing apply task says why
and the beat sweep picks up what was left; a provider that times out, declines or is down
never charges twice and never loses the transaction.

Faults are injected with monkeypatch: the step runs, then raises, as a worker killed right
after it would (everything else is real: PostgreSQL, Redis, the sandbox provider over HTTP)."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.models import OutboxEvent
from apps.escrow import selectors, services, tasks
from apps.escrow.gateways.base import GatewayUnavailable
from apps.escrow.models import (
    Escrow,
    EscrowStatus,
    PaymentTransaction,
    TransactionStatus,
    WebhookEvent,
)
from apps.escrow.services import escrows, ledger, steps
from apps.orders.models import Order, PaymentStatus
from tests.escrow.parties import (
    charge_event,
    entry_kinds,
    escrow_now,
    signed,
)
from tests.support import free_port, wait_until

# --- reading the outcome, as the platform ---------------------------------------------------------


def transaction_now(transaction_id) -> PaymentTransaction:
    with system_scope(reason="test: the outcome", audit=False):
        return PaymentTransaction.objects.get(pk=transaction_id)


def event_now(event_id) -> WebhookEvent:
    with system_scope(reason="test: the outcome", audit=False):
        return WebhookEvent.objects.get(pk=event_id)


def order_payment_status(escrow) -> str:
    with system_scope(reason="test: the outcome", audit=False):
        return Order.objects.get(pk=escrow.order_id).payment_status


def published(event_type: str, escrow) -> int:
    with system_scope(reason="test: the outcome", audit=False):
        return OutboxEvent.objects.filter(event_type=event_type, aggregate_id=str(escrow.id)).count()


def available_of(party) -> Decimal:
    with tenant_scope(party.org.id):
        return sum((balance.available for balance in selectors.balances(organization_id=party.org.id)), Decimal(0))


# --- the provider's side ---------------------------------------------------------------------


def receive(event: dict) -> int:
    """Record a signed event as the webhook endpoint does; its row id."""
    body, headers = signed(event)
    recorded, created = services.webhook_receive(provider="sandbox", body=body, headers=headers)
    assert created
    return recorded.pk


def apply(event_id: int, organization_id) -> WebhookEvent:
    with tenant_scope(organization_id):
        return services.webhook_apply(webhook_event_id=event_id)


def deliver_recorded(webhook: dict) -> WebhookEvent:
    """The sandbox's recorded delivery, byte for byte, received and applied as the worker would."""
    recorded, _ = services.webhook_receive(provider="sandbox", body=webhook["body"], headers=webhook["headers"])
    return apply(recorded.pk, recorded.organization_id)


def fund(client_party, escrow, payment_method: str = "pm_card_ok") -> PaymentTransaction:
    with tenant_scope(client_party.org.id, user_id=client_party.staff.id):
        return services.escrow_fund(actor=client_party.actor(), escrow_id=escrow.id, payment_method=payment_method)


def submit(funding: PaymentTransaction):
    return services.payment_transaction_submit(
        transaction_id=funding.id, organization_id=funding.client_organization_id
    )


def dies_after(target, name: str):
    """`target.name` that does its work, then raises: the worker died right after that step."""
    step = getattr(target, name)

    def run_then_die(*args, **kwargs):
        step(*args, **kwargs)
        raise RuntimeError(f"the worker died after {name}")

    return run_then_die


# --- a worker dying while it applies a webhook ------------------------------------------------------

STEPS_OF_A_CHARGE_SUCCEEDED = [
    pytest.param(escrows, "lock_escrow", id="escrow locked"),
    pytest.param(PaymentTransaction, "save", id="transaction completed"),
    pytest.param(ledger, "ledger_post", id="journal entry posted"),
    pytest.param(escrows, "move", id="status moved"),
    pytest.param(Escrow, "save", id="escrow saved"),
    pytest.param(escrows, "order_set_payment_status", id="order marked paid"),
    pytest.param(steps, "audit_record", id="audited"),
    pytest.param(escrows, "outbox_publish", id="event published"),
    pytest.param(WebhookEvent, "save", id="webhook marked applied"),
]

STEPS_OF_A_REFUND_FAILED = [
    pytest.param(escrows, "lock_escrow", id="escrow locked"),
    pytest.param(PaymentTransaction, "save", id="transaction failed"),
    pytest.param(ledger, "ledger_post", id="journal entry posted"),
    pytest.param(escrows, "outbox_publish", id="event published"),
    pytest.param(WebhookEvent, "save", id="webhook marked applied"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "step"), STEPS_OF_A_CHARGE_SUCCEEDED)
def test_a_worker_dying_while_it_applies_a_charge_succeeded_leaves_nothing_and_the_retry_applies_it_once(
    monkeypatch, client_party, escrow, target, step
):
    funding = fund(client_party, escrow)
    event_id = receive(charge_event(funding, "charge.succeeded"))

    with monkeypatch.context() as fault:
        fault.setattr(target, step, dies_after(target, step))
        with pytest.raises(RuntimeError, match=f"died after {step}"):
            apply(event_id, client_party.org.id)

    after_fault = escrow_now(escrow.id)
    assert (after_fault.status, after_fault.held_amount, after_fault.funded_at) == (EscrowStatus.CREATED, 0, None)
    assert entry_kinds(escrow.id) == []
    assert transaction_now(funding.id).status == TransactionStatus.PENDING
    assert order_payment_status(escrow) == PaymentStatus.PENDING
    assert published("escrow.funded", escrow) == 0
    assert event_now(event_id).applied_at is None

    apply(event_id, client_party.org.id)  # the retry

    retried = escrow_now(escrow.id)
    assert (retried.status, retried.held_amount) == (EscrowStatus.FUNDED, Decimal("1000.00"))
    assert entry_kinds(escrow.id) == ["funding"]
    assert transaction_now(funding.id).status == TransactionStatus.COMPLETED
    assert order_payment_status(escrow) == PaymentStatus.PAID
    assert published("escrow.funded", escrow) == 1
    applied_at = event_now(event_id).applied_at
    assert applied_at is not None

    apply(event_id, client_party.org.id)  # a third time: nothing left to do

    assert entry_kinds(escrow.id) == ["funding"]
    assert published("escrow.funded", escrow) == 1
    assert event_now(event_id).applied_at == applied_at


@pytest.mark.django_db
@pytest.mark.parametrize(("target", "step"), STEPS_OF_A_REFUND_FAILED)
def test_a_worker_dying_while_it_applies_a_refund_failed_leaves_nothing_and_the_retry_credits_the_client_once(
    monkeypatch, client_party, supplier_party, funded_escrow, target, step
):
    with tenant_scope(supplier_party.org.id, user_id=supplier_party.staff.id):
        refund = services.escrow_refund(actor=supplier_party.actor(), escrow_id=funded_escrow.id, amount="400.00")
    event_id = receive(charge_event(refund, "refund.failed"))

    with monkeypatch.context() as fault:
        fault.setattr(target, step, dies_after(target, step))
        with pytest.raises(RuntimeError, match=f"died after {step}"):
            apply(event_id, client_party.org.id)

    assert transaction_now(refund.id).status == TransactionStatus.PENDING
    assert entry_kinds(funded_escrow.id) == ["funding", "refund"]
    assert available_of(client_party) == 0
    assert published("escrow.refund_failed", funded_escrow) == 0
    assert event_now(event_id).applied_at is None

    apply(event_id, client_party.org.id)  # the retry

    assert transaction_now(refund.id).status == TransactionStatus.FAILED
    assert entry_kinds(funded_escrow.id) == ["funding", "refund", "refund_failed"]
    assert available_of(client_party) == Decimal("400.00")
    applied_at = event_now(event_id).applied_at
    assert applied_at is not None

    apply(event_id, client_party.org.id)  # a third time: nothing left to do

    assert entry_kinds(funded_escrow.id) == ["funding", "refund", "refund_failed"]
    assert available_of(client_party) == Decimal("400.00")
    assert event_now(event_id).applied_at == applied_at


# --- the apply task and the beat sweep ---------------------------------------------------------


@pytest.mark.django_db
def test_the_apply_task_that_keeps_failing_records_why_and_counts_every_attempt(monkeypatch, client_party, escrow):
    funding = fund(client_party, escrow)
    event_id = receive(charge_event(funding, "charge.succeeded"))

    with monkeypatch.context() as fault:
        fault.setattr(ledger, "ledger_post", dies_after(ledger, "ledger_post"))
        # Run in process: each retry runs at once, until the task gives up.
        result = tasks.payment_webhook_apply.apply(
            kwargs={"webhook_event_id": event_id, "organization_id": str(client_party.org.id)}
        )

    assert result.failed()
    event = event_now(event_id)
    assert event.applied_at is None
    assert event.last_error == "RuntimeError: the worker died after ledger_post"
    assert event.attempts == tasks.payment_webhook_apply.max_retries + 1
    assert entry_kinds(escrow.id) == []


@pytest.mark.django_db
def test_the_sweep_finds_an_unapplied_webhook_once_it_is_older_than_the_sweep_delay(client_party, escrow):
    event_id = receive(charge_event(fund(client_party, escrow), "charge.succeeded"))
    assert unapplied() == []  # its task may still run

    with system_scope(reason="test: the event was received a while ago", audit=False):
        WebhookEvent.objects.filter(pk=event_id).update(received_at=timezone.now() - tasks.SWEEP_AFTER * 2)

    assert unapplied() == [(event_id, str(client_party.org.id))]


def unapplied() -> list:
    """What the beat sweep finds, in the bypass scope it opens to find it."""
    with system_scope(reason="test: the sweep's discovery", audit=False):
        return services.webhook_events_unapplied(older_than=tasks.SWEEP_AFTER)


def unsubmitted() -> list:
    """What the beat sweep finds, in the bypass scope it opens to find it."""
    with system_scope(reason="test: the sweep's discovery", audit=False):
        return services.payment_transactions_unsubmitted(older_than=tasks.SWEEP_AFTER)


def _broker_refuses(*args, **kwargs):
    raise ConnectionError("the broker is unreachable")


@pytest.mark.usefixtures("committed")
def test_a_webhook_whose_task_was_never_enqueued_is_applied_by_the_beat_sweep_and_a_real_worker(
    celery_worker, payment_sandbox, monkeypatch, client_party, escrow
):
    funding = fund(client_party, escrow)  # the worker submits it to the sandbox
    webhook = payment_sandbox.wait_for_webhooks(str(funding.id))[0]
    with monkeypatch.context() as fault:
        fault.setattr(tasks.payment_webhook_apply, "delay", _broker_refuses)
        recorded, created = services.webhook_receive(
            provider="sandbox", body=webhook["body"], headers=webhook["headers"]
        )
    assert created
    with system_scope(reason="test: the event was received a while ago", audit=False):
        WebhookEvent.objects.filter(pk=recorded.pk).update(received_at=timezone.now() - tasks.SWEEP_AFTER * 2)
    assert escrow_now(escrow.id).status == EscrowStatus.CREATED

    swept = tasks.escrow_payments_sweep.apply().get()

    assert swept == 1
    assert wait_until(lambda: escrow_now(escrow.id).status == EscrowStatus.FUNDED, timeout=10)
    assert entry_kinds(escrow.id) == ["funding"]
    assert event_now(recorded.pk).applied_at is not None


# --- submitting to the provider --------------------------------------------------------------


@pytest.mark.usefixtures("committed")
def test_a_timed_out_charge_retried_with_its_key_is_one_charge_and_funds_the_escrow_once(
    payment_sandbox, settings, client_party, escrow
):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(TIMEOUT=0.5)
    funding = fund(client_party, escrow, "pm_card_timeout")

    with pytest.raises(GatewayUnavailable):
        submit(funding)
    timed_out = transaction_now(funding.id)
    assert (timed_out.status, timed_out.external_id, timed_out.submit_attempts) == ("pending", "", 1)

    submit(funding)  # the task's retry, with the same idempotency key

    charge_id = transaction_now(funding.id).external_id
    webhooks = payment_sandbox.wait_for_webhooks(str(funding.id))
    # The first request made the charge and its webhook; the retry got that same charge back.
    assert {(webhook["event_id"], webhook["type"]) for webhook in webhooks} == {
        (webhooks[0]["event_id"], "charge.succeeded")
    }
    assert charge_id and f'"id":"{charge_id}"'.encode() in webhooks[0]["body"]
    assert payment_sandbox.charge(charge_id)["status"] == "succeeded"
    deliver_recorded(webhooks[0])
    deliver_recorded(payment_sandbox.resend(webhooks[0]["event_id"]))  # and a duplicate delivery
    funded = escrow_now(escrow.id)
    assert (funded.status, funded.held_amount) == (EscrowStatus.FUNDED, Decimal("1000.00"))
    assert entry_kinds(escrow.id) == ["funding"]
    assert transaction_now(funding.id).submit_attempts == 2


@pytest.mark.usefixtures("committed")
def test_a_declined_card_fails_the_funding_and_leaves_the_escrow_created(payment_sandbox, client_party, escrow):
    funding = fund(client_party, escrow, "pm_card_declined")

    submit(funding)
    (webhook,) = payment_sandbox.wait_for_webhooks(str(funding.id))
    deliver_recorded(webhook)

    assert webhook["type"] == "charge.failed"
    failed = transaction_now(funding.id)
    assert (failed.status, failed.failure_reason) == (TransactionStatus.FAILED, "card_declined")
    assert escrow_now(escrow.id).status == EscrowStatus.CREATED
    assert order_payment_status(escrow) == PaymentStatus.UNPAID
    assert entry_kinds(escrow.id) == []


@pytest.mark.usefixtures("committed")
def test_a_provider_that_is_down_leaves_the_funding_pending_for_the_sweep(
    payment_sandbox, settings, client_party, escrow
):
    settings.PAYMENT_GATEWAYS = payment_sandbox.gateway_settings(URL=f"http://127.0.0.1:{free_port()}")
    funding = fund(client_party, escrow)

    for _ in range(2):
        with pytest.raises(GatewayUnavailable):
            submit(funding)

    pending = transaction_now(funding.id)
    assert (pending.status, pending.external_id, pending.submit_attempts) == ("pending", "", 2)
    assert unsubmitted() == []  # its retries may still run
    with system_scope(reason="test: the funding was requested a while ago", audit=False):
        PaymentTransaction.objects.filter(pk=funding.id).update(created_at=timezone.now() - tasks.SWEEP_AFTER * 2)
    assert unsubmitted() == [(str(funding.id), str(client_party.org.id))]
    assert escrow_now(escrow.id).status == EscrowStatus.CREATED


@pytest.mark.usefixtures("committed")
def test_a_webhook_applied_before_the_providers_answer_arrives_stays_consistent(payment_sandbox, client_party, escrow):
    funding = fund(client_party, escrow, "pm_card_timeout")  # the sandbox holds its answer 1.5 s
    answered = []

    def submit_and_wait_for_the_answer():
        try:
            answered.append(submit(funding))
        finally:
            connections.close_all()

    submitting = threading.Thread(target=submit_and_wait_for_the_answer)
    submitting.start()
    # Meanwhile the charge settles and its webhook arrives and is applied first.
    (webhook,) = payment_sandbox.wait_for_webhooks(str(funding.id))
    deliver_recorded(webhook)
    funded_first = transaction_now(funding.id)
    assert submitting.is_alive(), "the provider's answer came before the webhook was applied"
    submitting.join(timeout=10)

    assert len(answered) == 1  # the submission ended normally when the answer came
    completed = transaction_now(funding.id)
    assert completed.status == TransactionStatus.COMPLETED
    assert completed.external_id == funded_first.external_id
    assert f'"id":"{completed.external_id}"'.encode() in webhook["body"]
    assert escrow_now(escrow.id).status == EscrowStatus.FUNDED
    assert entry_kinds(escrow.id) == ["funding"]
