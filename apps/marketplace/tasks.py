"""Celery tasks of the marketplace: the beat jobs, each calling one service.

Each beat job finds, under the bypass scope, the organizations that have something past
its date and fans out one task per organization, which expires that organization's RFQs,
offers or bookings, or deletes its old quote records, in its own scope. Idempotent: a retry or a
second run finds nothing left to do."""

from celery import shared_task
from django.utils import timezone

from apps.core.task_bases import SystemTask, TenantTask
from apps.marketplace import services


@shared_task(base=TenantTask)
def marketplace_expire_rfqs_of(*, organization_id: str) -> int:
    return services.rfqs_expire_due()


@shared_task(base=TenantTask)
def marketplace_expire_offers_of(*, organization_id: str) -> int:
    return services.offers_expire_due()


@shared_task(base=SystemTask)
def marketplace_expire_rfqs() -> int:
    with marketplace_expire_rfqs.discover(reason="marketplace.find_rfqs_past_deadline"):
        organization_ids = services.rfqs_due_organizations()
    return marketplace_expire_rfqs.fan_out(marketplace_expire_rfqs_of, organization_ids)


@shared_task(base=SystemTask)
def marketplace_expire_offers() -> int:
    with marketplace_expire_offers.discover(reason="marketplace.find_offers_past_validity"):
        organization_ids = services.offers_due_organizations()
    return marketplace_expire_offers.fan_out(marketplace_expire_offers_of, organization_ids)


@shared_task(base=TenantTask)
def marketplace_delete_old_quotes_of(*, organization_id: str) -> int:
    return services.quote_records_delete_old(now=timezone.now())


@shared_task(base=SystemTask)
def marketplace_delete_old_quotes() -> int:
    with marketplace_delete_old_quotes.discover(reason="marketplace.find_old_quote_records"):
        organization_ids = services.quote_records_due_organizations(now=timezone.now())
    return marketplace_delete_old_quotes.fan_out(marketplace_delete_old_quotes_of, organization_ids)


@shared_task(base=TenantTask)
def marketplace_expire_bookings_of(*, organization_id: str) -> int:
    return services.bookings_expire_due()


@shared_task(base=SystemTask)
def marketplace_expire_bookings() -> int:
    with marketplace_expire_bookings.discover(reason="marketplace.find_bookings_past_confirmation_time"):
        organization_ids = services.bookings_due_organizations()
    return marketplace_expire_bookings.fan_out(marketplace_expire_bookings_of, organization_ids)
