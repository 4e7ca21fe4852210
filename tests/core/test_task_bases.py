"""The two task bases, run by a real worker on a real broker: a TenantTask works in its
organization's scope and one transaction, is retried on a transient error and only on one;
a SystemTask finds work under the bypass and fans out one TenantTask per organization."""

from __future__ import annotations

from uuid import uuid4

import pytest
from celery import signals
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from apps.core.context import current_organization_id, tenant_scope
from apps.core.models import NumberSequence
from apps.core.task_bases import TRANSIENT, SystemTask, TenantTask
from apps.escrow.gateways.base import GatewayUnavailable
from config.celery import app
from tests.factories import OrganizationFactory, ScopedFactory
from tests.support import wait_until

PREFIX = "tests.core.task_bases"


class NumberSequenceFactory(ScopedFactory):
    class Meta:
        model = NumberSequence

    name = "probe"
    year = 2026


@app.task(base=TenantTask, name=f"{PREFIX}.visible_counters")
def visible_counters(*, organization_id: str, key: str) -> None:
    """Note which organizations' counters the task sees, unfiltered: row-level security decides."""
    seen = sorted(str(row) for row in NumberSequence.objects.values_list("organization_id", flat=True))
    cache.set(f"{key}:{organization_id}", {"scope": str(current_organization_id()), "seen": seen}, 60)


@app.task(base=TenantTask, name=f"{PREFIX}.write_then_fail_once")
def write_then_fail_once(*, organization_id: str, key: str, error: str) -> None:
    """Write a counter, then fail the first attempt with `error` after the write."""
    attempt = 1 if cache.add(key, 1, 60) else cache.incr(key)
    NumberSequence.objects.create(organization_id=organization_id, name="attempt", year=timezone.now().year)
    if attempt == 1:
        raise {"transient": OperationalError, "gateway": GatewayUnavailable, "bug": ValueError}[error](
            "the first attempt fails"
        )


@app.task(base=SystemTask, name=f"{PREFIX}.sweep_counters")
def sweep_counters(*, key: str) -> int:
    with sweep_counters.discover(reason="test: which organizations have counters"):
        organization_ids = set(NumberSequence.objects.values_list("organization_id", flat=True))
    return sweep_counters.fan_out(
        visible_counters, [{"organization_id": organization_id, "key": key} for organization_id in organization_ids]
    )


@pytest.fixture
def outcomes():
    """The worker's verdicts on the test tasks, as Celery signals them: (signal, task name)."""
    seen: list[tuple[str, str]] = []

    def record(kind):
        def handler(sender=None, **kwargs):
            name = getattr(sender, "name", "") or ""
            if name.startswith(PREFIX):
                seen.append((kind, name))

        return handler

    handlers = {
        signal: record(kind)
        for kind, signal in {
            "retry": signals.task_retry,
            "failure": signals.task_failure,
            "success": signals.task_success,
        }.items()
    }
    for signal, handler in handlers.items():
        signal.connect(handler, weak=False)
    yield seen
    for signal, handler in handlers.items():
        signal.disconnect(handler)


def counters_of(organization) -> int:
    with tenant_scope(organization.id):
        return NumberSequence.objects.filter(name="attempt").count()


@pytest.fixture
def two_tenants():
    first, second = OrganizationFactory(), OrganizationFactory()
    NumberSequenceFactory(organization=first, name="a")
    NumberSequenceFactory(organization=first, name="b")
    NumberSequenceFactory(organization=second, name="a")
    return first, second


def test_a_tenant_task_sees_only_its_organizations_rows(celery_worker, two_tenants):
    first, _other = two_tenants  # the other tenant has a counter too
    key = f"visible:{uuid4()}"

    visible_counters.delay(organization_id=str(first.id), key=key)

    assert wait_until(lambda: cache.get(f"{key}:{first.id}") is not None), "the worker never ran the task"
    assert cache.get(f"{key}:{first.id}") == {"scope": str(first.id), "seen": [str(first.id), str(first.id)]}


def test_a_transient_error_is_retried_and_the_failed_attempt_leaves_nothing_behind(celery_worker, outcomes):
    organization = OrganizationFactory()
    key = f"attempts:{uuid4()}"

    write_then_fail_once.delay(organization_id=str(organization.id), key=key, error="transient")

    name = write_then_fail_once.name
    assert wait_until(lambda: ("success", name) in outcomes, timeout=30), outcomes
    assert outcomes == [("retry", name), ("success", name)]
    assert cache.get(key) == 2
    assert counters_of(organization) == 1  # the first attempt's row was rolled back with it


def test_an_adapters_transient_error_is_in_the_one_transient_tuple(celery_worker, outcomes):
    organization = OrganizationFactory()
    key = f"attempts:{uuid4()}"

    write_then_fail_once.delay(organization_id=str(organization.id), key=key, error="gateway")

    name = write_then_fail_once.name
    assert wait_until(lambda: ("success", name) in outcomes, timeout=30), outcomes
    assert issubclass(GatewayUnavailable, TRANSIENT)
    assert outcomes == [("retry", name), ("success", name)]


def test_a_non_transient_error_is_not_retried(celery_worker, outcomes):
    organization = OrganizationFactory()
    key = f"attempts:{uuid4()}"

    write_then_fail_once.delay(organization_id=str(organization.id), key=key, error="bug")

    name = write_then_fail_once.name
    assert wait_until(lambda: ("failure", name) in outcomes), outcomes
    assert outcomes == [("failure", name)]  # a retry would have been signalled instead of the failure
    assert cache.get(key) == 1
    assert counters_of(organization) == 0


def test_a_system_task_fans_out_one_tenant_task_per_organization(celery_worker, two_tenants):
    first, second = two_tenants
    bystander = OrganizationFactory()  # no counters: nothing to do for it
    key = f"sweep:{uuid4()}"

    sweep_counters.delay(key=key)

    assert wait_until(lambda: cache.get(f"{key}:{first.id}") and cache.get(f"{key}:{second.id}")), "no fan-out"
    assert cache.get(f"{key}:{first.id}") == {"scope": str(first.id), "seen": [str(first.id)] * 2}
    assert cache.get(f"{key}:{second.id}") == {"scope": str(second.id), "seen": [str(second.id)]}
    assert cache.get(f"{key}:{bystander.id}") is None


def test_a_tenant_task_without_an_organization_is_refused():
    with pytest.raises(TypeError, match="acts for an organization"):
        visible_counters(key="no organization")


def test_every_task_of_the_apps_is_on_one_of_the_two_bases():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if name.startswith("apps.")}

    assert ours, "no task of the apps is registered"
    assert [name for name, task in ours.items() if not isinstance(task, TenantTask | SystemTask)] == []


def test_every_beat_entry_names_a_registered_system_task(settings):
    app.loader.import_default_modules()

    beat_tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert [name for name in beat_tasks if not isinstance(app.tasks.get(name), SystemTask)] == []
