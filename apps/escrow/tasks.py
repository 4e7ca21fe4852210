"""Celery tasks of escrow: each takes ids (and the organization it acts for) and calls one service.

Retried with exponential backoff and jitter on transient failures (the database, or the
payment provider unreachable: GatewayUnavailable is a TransientError); idempotent, so a
retry or a duplicate delivery finds nothing left to do. The beat sweeps pick up whatever an
enqueue or a worker lost, and fan out one task per organization or row."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.escrow import services

SWEEP_AFTER = timedelta(minutes=2)


# Not atomic: the service calls the provider between two short transactions, each in the
# organization's scope (apps/escrow/services/payments.py).
@shared_task(base=TenantTask, atomic=False)
def payment_transaction_submit(*, transaction_id: str, organization_id: str) -> None:
    services.payment_transaction_submit(transaction_id=transaction_id, organization_id=organization_id)


class _WebhookApplyTask(TenantTask):
    def attempt_failed_in_scope(self, error, *, webhook_event_id: int, organization_id: str) -> None:
        """Note why and count the attempt: the attempt's own transaction rolled back with it."""
        services.webhook_record_failure(webhook_event_id=webhook_event_id, error=f"{type(error).__name__}: {error}")


# Retried on any error, not only transient ones: the event must stay unapplied and be retried,
# never lost; each failed attempt is recorded on the event (last_error, attempts).
@shared_task(base=_WebhookApplyTask, autoretry_for=(Exception,))
def payment_webhook_apply(*, webhook_event_id: int, organization_id: str) -> None:
    services.webhook_apply(webhook_event_id=webhook_event_id)


@shared_task(base=SystemTask)
def escrow_payments_sweep() -> int:
    """Beat safety net: resubmit transactions and re-apply webhooks that a lost enqueue or a dead worker left."""
    with escrow_payments_sweep.discover(reason="escrow.resubmit_discovery"):
        unsubmitted = services.payment_transactions_unsubmitted(older_than=SWEEP_AFTER)
        unapplied = services.webhook_events_unapplied(older_than=SWEEP_AFTER)
    submits = [{"transaction_id": row, "organization_id": organization} for row, organization in unsubmitted]
    applies = [{"webhook_event_id": row, "organization_id": organization} for row, organization in unapplied]
    return escrow_payments_sweep.fan_out(payment_transaction_submit, submits) + escrow_payments_sweep.fan_out(
        payment_webhook_apply, applies
    )


@shared_task(base=TenantTask)
def escrow_auto_release_due_of(*, organization_id: str) -> int:
    return services.escrow_auto_release_due()


@shared_task(base=TenantTask)
def escrow_close_settled_of(*, organization_id: str) -> int:
    return services.escrow_close_settled()


@shared_task(base=SystemTask)
def escrow_auto_release_due() -> int:
    with escrow_auto_release_due.discover(reason="escrow.beat_discovery"):
        organization_ids = services.escrows_release_due_organizations()
    return escrow_auto_release_due.fan_out(escrow_auto_release_due_of, organization_ids)


@shared_task(base=SystemTask)
def escrow_close_settled() -> int:
    with escrow_close_settled.discover(reason="escrow.beat_discovery"):
        organization_ids = services.escrows_settled_organizations()
    return escrow_close_settled.fan_out(escrow_close_settled_of, organization_ids)


@shared_task(base=SystemTask)
def exchange_rates_refresh() -> int:
    return services.exchange_rates_refresh()
