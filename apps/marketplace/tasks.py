"""Celery tasks of the marketplace: the beat jobs, each calling one service.

Both are sweeps over every tenant (each RFQ or offer is then changed in its own
organization's scope) and idempotent: a retry or a second run finds nothing left to do."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.marketplace import services

TRANSIENT = (OperationalError, InterfaceError)


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def marketplace_expire_rfqs() -> int:
    return services.rfqs_expire_due()


@shared_task(autoretry_for=TRANSIENT, retry_backoff=True, retry_jitter=True, max_retries=5)
def marketplace_expire_offers() -> int:
    return services.offers_expire_due()
