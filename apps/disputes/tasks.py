"""Tasks of disputes: the response deadlines (a beat job that finds, under the bypass scope, the
organizations with cases due, and fans out one task per organization, which acts in its scope),
and the previews of evidence files, drawn off the request in the shared sandbox (documents
queue), with a beat job that asks again for those a lost task left pending."""

from __future__ import annotations

from uuid import UUID

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.core.context import tenant_scope
from apps.core.preview_sandbox import PreviewOutcome
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


@shared_task(base=TenantTask)
def evidence_preview_resubmit(*, evidence_id: str, organization_id: str) -> str:
    evidence = services.evidence_preview_resubmit(evidence_id=UUID(evidence_id))
    return evidence.preview_status if evidence is not None else ""


@shared_task(base=SystemTask)
def disputes_previews_resubmit() -> int:
    """The beat job's safety net: ask again for every evidence preview a lost task left pending;
    returns how many."""
    with disputes_previews_resubmit.discover(reason="disputes.find_previews_left_pending"):
        waiting = services.evidence_previews_waiting()
    calls = [
        {"evidence_id": evidence_id, "organization_id": organization_id} for evidence_id, organization_id in waiting
    ]
    return disputes_previews_resubmit.fan_out(evidence_preview_resubmit, calls)


# The child process is stopped at DISPUTES["PREVIEW_TIMEOUT_SECONDS"]; the task's own limits are
# the net under that (reading the file, storage). Routed to the documents queue (config/celery.py).
# Not atomic: the service reads the file and stores the drawing in two short transactions, each in
# the organization's scope, and none stays open while the child process draws.
@shared_task(
    base=TenantTask,
    atomic=False,
    soft_time_limit=settings.DISPUTES["PREVIEW_TIMEOUT_SECONDS"] + 10,
    time_limit=settings.DISPUTES["PREVIEW_TIMEOUT_SECONDS"] + 20,
)
def evidence_preview_render(evidence_id: str, organization_id: str) -> str:
    """Draw a file evidence's preview for the mediation page; returns its preview status."""
    try:
        evidence = services.evidence_preview_render(
            evidence_id=UUID(evidence_id), organization_id=UUID(organization_id)
        )
    except SoftTimeLimitExceeded:
        with tenant_scope(UUID(organization_id)):  # a non-atomic task: a short transaction of its own
            outcome = PreviewOutcome(None, "Drawing the preview took longer than the task's time limit.")
            evidence = services.evidence_preview_store(evidence_id=UUID(evidence_id), outcome=outcome)
    return evidence.preview_status if evidence is not None else ""
