"""Celery tasks of the marketplace: the beat jobs, each calling one service."""

from celery import shared_task

from apps.marketplace import services


@shared_task
def marketplace_expire_rfqs() -> int:
    return services.rfqs_expire_due()


@shared_task
def marketplace_expire_offers() -> int:
    return services.offers_expire_due()
