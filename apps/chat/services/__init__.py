"""Every write of chat, one function per use case (split by group below, one façade here)."""

from apps.chat.services.attachments import (
    Upload,
    attachment_upload,
    attachments_sweep_unsent,
    attachments_unsent_organizations,
)
from apps.chat.services.messages import (
    message_delete,
    message_edit,
    message_send,
    messages_purge_deleted,
    messages_purge_due_organizations,
    moderation_notice,
)
from apps.chat.services.reports import message_hide, message_report, report_dismiss
from apps.chat.services.threads import participant_add, participant_join, thread_open, thread_read

__all__ = [
    "Upload",
    "attachment_upload",
    "attachments_sweep_unsent",
    "attachments_unsent_organizations",
    "message_delete",
    "message_edit",
    "message_hide",
    "message_report",
    "message_send",
    "messages_purge_deleted",
    "messages_purge_due_organizations",
    "moderation_notice",
    "participant_add",
    "participant_join",
    "report_dismiss",
    "thread_open",
    "thread_read",
]
