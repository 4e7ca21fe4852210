"""Celery tasks of escrow: each takes ids (and the organization it acts for) and calls one service.

Retried with exponential backoff and jitter on transient failures (the database, or the
payment provider unreachable); idempotent, so a retry or a duplicate delivery finds
nothing left to do. The beat sweeps pick up whatever an enqueue or a worker lost."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.core.context import tenant_scope
from apps.escrow import services
from apps.escrow.gateways.base import GatewayUnavailable

TRANSIENT = (OperationalError, InterfaceError)
SWEEP_AFTER = timedelta(minutes=2)


@shared_task(
    autoretry_for=(*TRANSIENT, GatewayUnavailable),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def payment_transaction_submit(*, transaction_id: str, organization_id: str) -> None:
    services.payment_transaction_submit(transaction_id=transaction_id, organization_id=organization_id)


@shared_task(bind=True, retry_backoff=True, retry_jitter=True, max_retries=8)
def payment_webhook_apply(self, *, webhook_event_id: int, organization_id: str) -> None:
    try:
        with tenant_scope(organization_id):
            services.webhook_apply(webhook_event_id=webhook_event_id)
    except Exception as error:  # anything: the event stays unapplied and is retried, never lost
        with tenant_scope(organization_id):
            services.webhook_record_failure(webhook_event_id=webhook_event_id, error=f"{type(error).__name__}: {error}")
        raise self.retry(exc=error) from error


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def escrow_payments_sweep() -> int:
    """Beat safety net: resubmit transactions and re-apply webhooks that a lost enqueue or a dead worker left."""
    swept = 0
    for transaction_id, organization_id in services.payment_transactions_unsubmitted(older_than=SWEEP_AFTER):
        payment_transaction_submit.delay(transaction_id=transaction_id, organization_id=organization_id)
        swept += 1
    for webhook_event_id, organization_id in services.webhook_events_unapplied(older_than=SWEEP_AFTER):
        payment_webhook_apply.delay(webhook_event_id=webhook_event_id, organization_id=organization_id)
        swept += 1
    return swept


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def escrow_auto_release_due() -> int:
    return services.escrow_auto_release_due()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def escrow_close_settled() -> int:
    return services.escrow_close_settled()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def exchange_rates_refresh() -> int:
    return services.exchange_rates_refresh()
