"""Writes of the KYC context, one module per use-case group (documents: uploads, checks,
review, expiry; previews: drawn by a worker); other code imports from here."""

from apps.kyc.services.documents import (
    ACCEPTED_CONTENT_TYPES,
    HARD_CHECKS_PREFIXES,
    REQUIRED_DATA,
    Upload,
    document_expire,
    document_resubmit,
    document_review,
    document_run_checks,
    document_send_expiry_warning,
    document_upload,
    document_warn_expiring,
    documents_due,
    documents_expiry_sweep,
    required_documents,
    verification_set_target_level,
)
from apps.kyc.services.previews import (
    document_preview_request,
    document_preview_store,
    document_previews_waiting,
    document_render_preview,
)

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "HARD_CHECKS_PREFIXES",
    "REQUIRED_DATA",
    "Upload",
    "document_expire",
    "document_preview_request",
    "document_preview_store",
    "document_previews_waiting",
    "document_render_preview",
    "document_resubmit",
    "document_review",
    "document_run_checks",
    "document_send_expiry_warning",
    "document_upload",
    "document_warn_expiring",
    "documents_due",
    "documents_expiry_sweep",
    "required_documents",
    "verification_set_target_level",
]
