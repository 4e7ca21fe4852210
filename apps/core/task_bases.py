"""The two kinds of Celery task, so that every tasks.py reads the same (DESIGN.md §7).

- `TenantTask` acts for one organization: it takes `organization_id`, runs in that
  organization's tenant scope and in one transaction (row-level security sees only its rows;
  a failure rolls the whole attempt back), is acknowledged late, and is retried with
  exponential backoff and jitter on `TRANSIENT` errors only.
- `SystemTask` acts for no single organization: a beat sweep finds work under the audited
  bypass scope (`self.discover(...)`, ids only) and fans out one TenantTask per organization
  or row (`self.fan_out(...)`); platform-wide jobs and mail to a person use it too.

Both log structured events: `task.started`, `task.succeeded`, `task.retrying`, `task.failed`.

    @shared_task(base=TenantTask)
    def document_render(document_id: str, organization_id: str) -> str:
        return services.document_render(document_id=UUID(document_id)).status

    @shared_task(base=SystemTask)
    def documents_sweep() -> int:
        with documents_sweep.discover(reason="documents.find_due"):
            organization_ids = services.documents_due_organizations()
        return documents_sweep.fan_out(documents_sweep_in_organization, organization_ids)
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from celery import Task
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError

from apps.core.context import system_scope, tenant_scope

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure that may not happen again (a provider unreachable, a timeout): retry later.

    Adapters raise a subclass of it (e.g. escrow's GatewayUnavailable), so that the one
    `TRANSIENT` tuple covers them without core knowing any app."""


# The one list of errors worth retrying: the database went away or refused for now
# (connection lost, serialization failure, deadlock: OperationalError), the connection is
# unusable (InterfaceError), the network, a socket, SMTP or the file storage (OSError,
# which ConnectionError and TimeoutError are), or an adapter's TransientError. Anything
# else is a bug or a refusal: retrying would fail the same way.
TRANSIENT: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError, TransientError)


def _described(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}"[:500] if error is not None else ""


class _Base(Task):
    """What both kinds share: late acknowledgement, one retry policy, structured logs."""

    acks_late = True
    autoretry_for = TRANSIENT
    retry_backoff = 2  # seconds before the first retry, doubled each time ...
    retry_backoff_max = 300  # ... up to five minutes
    retry_jitter = True  # a random delay up to that, so retries of many tasks do not arrive together
    max_retries = 8

    def _log_context(self, **fields: Any) -> dict[str, Any]:
        request = self.request
        return {"task": self.name, "task_id": request.id, "attempt": (request.retries or 0) + 1, **fields}

    def _invoke(self, args: tuple, kwargs: dict) -> Any:
        """Run the body. Inside a worker (or `apply()`) the request is already on the stack:
        Celery's own __call__ would push a second, empty one (losing `retries`, `is_eager`)."""
        request = self.request_stack.top
        if request is not None and not request.called_directly:
            return self.run(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _logged(self, run, fields: dict[str, Any], args: tuple, kwargs: dict) -> Any:
        context = self._log_context(**fields)
        started = time.monotonic()
        logger.info("task.started", extra=context)
        try:
            result = run()
        except Retry as retry:
            logger.warning("task.retrying", extra={**context, "error": _described(retry.exc), "countdown": retry.when})
            self.attempt_failed(retry.exc, fields, args, kwargs)
            raise
        except Exception as error:
            logger.error("task.failed", extra={**context, "error": _described(error)})
            self.attempt_failed(error, fields, args, kwargs)
            raise
        logger.info("task.succeeded", extra={**context, "duration_ms": round((time.monotonic() - started) * 1000)})
        return result

    def attempt_failed(self, error: BaseException | None, fields: dict[str, Any], args: tuple, kwargs: dict) -> None:
        """Called after a failed attempt was rolled back, before it is retried or given up."""


class TenantTask(_Base):
    """A task that acts for one organization, named by its `organization_id` argument.

    The run is wrapped in `tenant_scope(organization_id)`: one transaction whose row-level
    security settings are that tenant's, so the task sees only its rows and a failure leaves
    nothing half-written. With `atomic = False` no transaction is opened: for the few
    services that call a provider or a sandbox between two short transactions, and open each
    in the organization's scope themselves (their docstrings say so).
    """

    atomic = True

    def organization_of(self, args: tuple, kwargs: dict) -> Any:
        """The `organization_id` argument, passed by keyword or by position."""
        if "organization_id" in kwargs:
            return kwargs["organization_id"]
        try:
            bound = inspect.signature(self.run).bind_partial(*args, **kwargs)
        except TypeError:
            bound = None
        if bound is None or "organization_id" not in bound.arguments:
            raise TypeError(f"{self.name} acts for an organization: pass organization_id")
        return bound.arguments["organization_id"]

    def __call__(self, *args, **kwargs):
        organization_id = self.organization_of(args, kwargs)
        fields = {"organization_id": str(organization_id) if organization_id else None}
        if not self.atomic:
            return self._logged(lambda: self._invoke(args, kwargs), fields, args, kwargs)
        if not organization_id:
            raise TypeError(f"{self.name} acts for an organization: organization_id is empty")
        tenant = UUID(str(organization_id))

        def run_in_scope():
            with tenant_scope(tenant):
                return self._invoke(args, kwargs)

        return self._logged(run_in_scope, fields, args, kwargs)

    def attempt_failed(self, error: BaseException | None, fields: dict[str, Any], args: tuple, kwargs: dict) -> None:
        if type(self).attempt_failed_in_scope is TenantTask.attempt_failed_in_scope or not fields["organization_id"]:
            return
        arguments = inspect.signature(self.run).bind(*args, **kwargs).arguments
        with tenant_scope(UUID(fields["organization_id"])):
            self.attempt_failed_in_scope(error, **arguments)

    def attempt_failed_in_scope(self, error: BaseException | None, **kwargs: Any) -> None:
        """Record a failed attempt, in the organization's scope and a transaction of its own
        (the attempt's was rolled back). Does nothing unless a task overrides it."""


class SystemTask(_Base):
    """A task that acts for no single organization.

    A beat sweep opens the bypass scope only to find ids (`discover`), closes it, and fans
    out one TenantTask per organization or row (`fan_out`), so the work itself runs under
    row-level security, each item in its own transaction and with its own retries. A job
    over platform data (exchange rates, stored files) or mail to a person also uses this base.
    """

    def __call__(self, *args, **kwargs):
        return self._logged(lambda: self._invoke(args, kwargs), {}, args, kwargs)

    def discover(self, *, reason: str, audit: bool = False) -> AbstractContextManager:
        """The bypass scope, to find which organizations or rows have work (read ids, nothing else).

        Always logged (`rls.bypass`); `audit=True` also writes an audit row. The block is one
        transaction: leave it before fanning out."""
        return system_scope(reason=f"{self.name}: {reason}", audit=audit)

    def fan_out(self, task: TenantTask, calls: Iterable[Mapping[str, Any] | Any]) -> int:
        """Enqueue `task` once per item: an organization id, or the keyword arguments of one
        call (which name `organization_id`). Returns how many were enqueued."""
        enqueued = 0
        for call in calls:
            kwargs = dict(call) if isinstance(call, Mapping) else {"organization_id": call}
            kwargs = {name: str(value) if isinstance(value, UUID) else value for name, value in kwargs.items()}
            self.enqueue(task, kwargs)
            enqueued += 1
        logger.info("task.fanned_out", extra={"task": self.name, "to": task.name, "count": enqueued})
        return enqueued

    def enqueue(self, task: TenantTask, kwargs: dict[str, Any]) -> None:
        """Send one call to the broker (tests run it in process instead: tests/beat.py)."""
        task.delay(**kwargs)
