"""Celery tasks of chat: the beat job that tells threads of users whose process died."""

from __future__ import annotations

from celery import shared_task

from apps.chat import presence
from apps.core.task_bases import SystemTask


@shared_task(base=SystemTask)
def chat_presence_sweep() -> int:
    """Announce offline the users whose only live sockets were on a process that died without
    saying goodbye (their presence entries expired). Reads Redis only, no tenant's rows; a run
    that fails leaves the entries for the next one."""
    return len(presence.presence_sweep())
