"""Every write of disputes, one function per use case (split by group below, one façade here)."""

from apps.disputes.services.cases import DisputeInput, dispute_change_status, dispute_open
from apps.disputes.services.evidence import Upload, evidence_add

__all__ = ["DisputeInput", "Upload", "dispute_change_status", "dispute_open", "evidence_add"]
