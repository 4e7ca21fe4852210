"""Tasks of disputes: the response deadlines (a beat job that finds, under the bypass scope, the
organizations with cases due, and fans out one task per organization, which acts in its scope),
and the previews of evidence files, drawn off the request."""

from __future__ import annotations

from uuid import UUID

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


# The drawing is bounded by the file's declared size (apps/disputes/services/previews.py); the
# soft limit is the net under it (the service then records the preview as failed), the hard one
# stops a worker process the soft one could not reach inside PDFium.
@shared_task(base=TenantTask, soft_time_limit=30, time_limit=60)
def evidence_preview_render(evidence_id: str, organization_id: str) -> str:
    """Draw a file evidence's preview for the mediation page; returns its preview status."""
    evidence = services.evidence_preview_render(evidence_id=UUID(evidence_id))
    return evidence.preview_status if evidence is not None else ""
