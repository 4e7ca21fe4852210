"""Beat jobs of chat. The clean-ups find, under the bypass scope, the organizations with work and
fan out one task per organization, which acts in its own scope (a thread's rows are found through
its first party). Idempotent: a second run finds nothing left to do. The presence sweep reads
Redis only."""

from __future__ import annotations

from celery import shared_task

from apps.chat import presence, services
from apps.core.task_bases import SystemTask, TenantTask


@shared_task(base=TenantTask)
def chat_purge_deleted_of(*, organization_id: str) -> int:
    return services.messages_purge_deleted()


@shared_task(base=SystemTask)
def chat_purge_deleted() -> int:
    """Erase the content of messages deleted longer ago than the retention period."""
    with chat_purge_deleted.discover(reason="chat.find_deleted_messages_past_retention"):
        organization_ids = services.messages_purge_due_organizations()
    return chat_purge_deleted.fan_out(chat_purge_deleted_of, organization_ids)


@shared_task(base=TenantTask)
def chat_sweep_unsent_attachments_of(*, organization_id: str) -> int:
    return services.attachments_sweep_unsent()


@shared_task(base=SystemTask)
def chat_sweep_unsent_attachments() -> int:
    """Delete uploads no message sent in time."""
    with chat_sweep_unsent_attachments.discover(reason="chat.find_unsent_uploads"):
        organization_ids = services.attachments_unsent_organizations()
    return chat_sweep_unsent_attachments.fan_out(chat_sweep_unsent_attachments_of, organization_ids)


@shared_task(base=SystemTask)
def chat_presence_sweep() -> int:
    """Announce offline the users whose only live sockets were on a process that died without
    saying goodbye (their presence entries expired). Reads Redis only, no tenant's rows; a run
    that fails leaves the entries for the next one."""
    return len(presence.presence_sweep())
