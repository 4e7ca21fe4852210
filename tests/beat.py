"""Running a beat job in the test's process: its SystemTask finds the work under the bypass
scope, and each TenantTask it fans out runs at once, in process and in its organization's
scope, instead of going to the broker (tests with a real worker need none of this)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from apps.core.task_bases import SystemTask


def run_beat_job(system_task: SystemTask, *args: Any, **kwargs: Any) -> list[Any]:
    """Run `system_task` with its fan-out run in process; the results of the tasks it fanned out."""
    results: list[Any] = []

    def run_now(self, task, call_kwargs):
        results.append(task(**call_kwargs))

    with mock.patch.object(SystemTask, "enqueue", run_now):
        system_task(*args, **kwargs)
    return results
