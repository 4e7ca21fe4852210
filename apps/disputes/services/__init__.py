"""Every write of disputes, one function per use case (split by group below, one façade here)."""

from apps.disputes.services.cases import DisputeInput, dispute_change_status, dispute_open
from apps.disputes.services.deadlines import disputes_deadline_organizations, disputes_deadlines_apply
from apps.disputes.services.evidence import Upload, evidence_add
from apps.disputes.services.previews import evidence_preview_render

__all__ = [
    "DisputeInput",
    "Upload",
    "dispute_change_status",
    "dispute_open",
    "disputes_deadline_organizations",
    "disputes_deadlines_apply",
    "evidence_add",
    "evidence_preview_render",
]
