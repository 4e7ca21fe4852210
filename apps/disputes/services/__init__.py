"""Every write of disputes, one function per use case (split by group below, one façade here)."""

from apps.disputes.services.cases import (
    DisputeInput,
    dispute_change_status,
    dispute_freeze_funded_escrow,
    dispute_open,
)
from apps.disputes.services.deadlines import disputes_deadline_organizations, disputes_deadlines_apply
from apps.disputes.services.evidence import Upload, evidence_add
from apps.disputes.services.mediation import dispute_assign_mediator, dispute_request_information
from apps.disputes.services.previews import (
    evidence_preview_render,
    evidence_preview_resubmit,
    evidence_preview_store,
    evidence_previews_waiting,
)
from apps.disputes.services.resolutions import ResolutionInput, dispute_resolve, resolution_answer

__all__ = [
    "DisputeInput",
    "ResolutionInput",
    "Upload",
    "dispute_assign_mediator",
    "dispute_change_status",
    "dispute_freeze_funded_escrow",
    "dispute_open",
    "dispute_request_information",
    "dispute_resolve",
    "disputes_deadline_organizations",
    "disputes_deadlines_apply",
    "evidence_add",
    "evidence_preview_render",
    "evidence_preview_resubmit",
    "evidence_preview_store",
    "evidence_previews_waiting",
    "resolution_answer",
]
