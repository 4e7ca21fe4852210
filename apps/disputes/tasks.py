"""Beat jobs of disputes: the response deadlines. The job finds, under the bypass scope, the
organizations with cases due, and fans out one task per organization, which acts in its scope."""

from __future__ import annotations

from celery import shared_task

from apps.core.task_bases import SystemTask, TenantTask
from apps.disputes import services


@shared_task(base=TenantTask)
def disputes_deadlines_of(*, organization_id: str) -> dict:
    return services.disputes_deadlines_apply()


@shared_task(base=SystemTask)
def disputes_deadlines() -> int:
    """Remind the awaited side before its deadline; send overdue cases to mediation."""
    with disputes_deadlines.discover(reason="disputes.find_cases_due"):
        organization_ids = services.disputes_deadline_organizations()
    return disputes_deadlines.fan_out(disputes_deadlines_of, organization_ids)
