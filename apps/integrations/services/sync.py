"""The synchronizer: one run reads a shop's orders updated since its watermark and applies them.

A run (`configuration_sync`, a non-atomic task in the organization's scope):
1. claims the configuration: a lease (`lease_until`) that no other run may take before it ends,
   so one run per shop at a time (a run that dies is taken over when its lease ends); a
   `SyncRun` row is the sync log;
2. refreshes the access token when it expires within TOKEN_REFRESH_MARGIN (and once more if the
   platform says it expired during the run);
3. reads from `watermark - SYNC_OVERLAP` (a new shop: INITIAL_LOOKBACK) to the run's start, page
   by page to the end, outside any transaction; each page is applied in a short transaction of
   its own with the run's progress and a renewed lease;
4. on success moves the watermark to the run's start; on failure counts it, schedules the next
   run with exponential backoff and jitter (or the platform's Retry-After) and, after
   CIRCUIT_FAILURES in a row, opens the circuit: the shop is PAUSED until CIRCUIT_COOLDOWN has
   passed, then one trial run closes it or opens it again. Each failure publishes `sync.failed`
   (the notifications catalogue tells the org admins when it paused the shop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.context import tenant_scope
from apps.core.services import outbox_publish
from apps.integrations import events
from apps.integrations.adapters import adapter_for
from apps.integrations.adapters.base import (
    PlatformAdapter,
    PlatformAuthExpired,
    PlatformError,
    PlatformRateLimited,
    RefreshedCredentials,
    backoff_seconds,
)
from apps.integrations.credentials import credentials_open, credentials_seal
from apps.integrations.models import Health, PlatformConfiguration, SyncRun, SyncStatus, SyncTrigger
from apps.integrations.services.binder import ApplyResult, orders_apply
from apps.tenancy.selectors import feature_is_active

FEATURE = "platform_integrations"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    configuration_id: UUID
    run_id: UUID
    window_start: datetime
    window_end: datetime


def _options():
    return settings.INTEGRATIONS


def configurations_due(*, now: datetime | None = None, limit: int | None = None) -> list[tuple[UUID, UUID]]:
    """(configuration id, organization id) of the active shops whose scheduled run is due: their
    next run's time has come and no run holds them. Read under the bypass scope by the beat job."""
    now = now or timezone.now()
    return list(
        PlatformConfiguration.objects.filter(is_active=True)
        .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_sync_at")
        .values_list("id", "organization_id")[: limit or _options()["DUE_BATCH"]]
    )


@transaction.atomic
def _claim(configuration_id: UUID, *, trigger: str, now: datetime, full: bool) -> Claim | None:
    configuration = PlatformConfiguration.objects.select_for_update().filter(pk=configuration_id).first()
    if configuration is None or not configuration.is_active:
        return None
    if configuration.lease_until is not None and configuration.lease_until > now:
        return None  # a run holds it
    if trigger == SyncTrigger.SCHEDULE and configuration.next_sync_at is not None and configuration.next_sync_at > now:
        return None  # claimed and run by someone else since the beat read it
    options = _options()
    window_start = (
        configuration.watermark - options["SYNC_OVERLAP"]
        if configuration.watermark and not full
        else now - options["INITIAL_LOOKBACK"]
    )
    # A run still RUNNING here lost its worker before it finished (its lease ran out): say so in the log.
    SyncRun.objects.filter(configuration=configuration, status=SyncStatus.RUNNING).update(
        status=SyncStatus.FAILED,
        finished_at=now,
        error_code="ABANDONED",
        error="The run stopped before it finished (its worker died) and its lease ran out.",
    )
    run = SyncRun.objects.create(
        organization_id=configuration.organization_id,
        configuration=configuration,
        trigger=trigger,
        started_at=now,
        window_start=window_start,
        window_end=now,
    )
    configuration.lease_until = now + options["SYNC_LEASE"]
    configuration.last_sync_at = now
    configuration.save(update_fields=["lease_until", "last_sync_at", "updated_at"])
    return Claim(configuration_id=configuration.id, run_id=run.id, window_start=window_start, window_end=now)


def _adapter(configuration: PlatformConfiguration, *, http=None) -> PlatformAdapter:
    """The shop's adapter, with its credentials opened for this run only."""
    return adapter_for(
        platform=configuration.platform,
        shop_id=configuration.shop_id,
        credentials=credentials_open(configuration.credentials_encrypted),
        http=http,
    )


@transaction.atomic
def credentials_store_refreshed(*, configuration_id: UUID, refreshed: RefreshedCredentials) -> None:
    """Keep the credentials a token refresh returned (encrypted, as ever)."""
    PlatformConfiguration.objects.filter(pk=configuration_id).update(
        credentials_encrypted=credentials_seal(refreshed.credentials),
        access_token_expires_at=refreshed.access_token_expires_at,
        updated_at=timezone.now(),
    )


def _refresh(organization_id: UUID, configuration: PlatformConfiguration, adapter: PlatformAdapter) -> None:
    refreshed = adapter.refresh_credentials()
    adapter.credentials = dict(refreshed.credentials)
    with tenant_scope(organization_id):
        credentials_store_refreshed(configuration_id=configuration.id, refreshed=refreshed)


def _needs_refresh(configuration: PlatformConfiguration, adapter: PlatformAdapter, now: datetime) -> bool:
    expires = configuration.access_token_expires_at
    return adapter.refreshes_tokens and expires is not None and expires <= now + _options()["TOKEN_REFRESH_MARGIN"]


def _read(
    organization_id: UUID, claim: Claim, configuration: PlatformConfiguration, adapter: PlatformAdapter
) -> ApplyResult:
    total = ApplyResult()
    for page in adapter.iter_orders(updated_from=claim.window_start, updated_to=claim.window_end):
        with tenant_scope(organization_id), transaction.atomic():
            applied = orders_apply(configuration=configuration, adapter=adapter, raws=page)
            total.add(applied)
            _progress(claim, applied, retries=adapter.http.retries)
    return total


def _progress(claim: Claim, applied: ApplyResult, *, retries: int) -> None:
    from django.db.models import F

    SyncRun.objects.filter(pk=claim.run_id).update(
        pages=F("pages") + 1,
        fetched=F("fetched") + applied.fetched,
        created=F("created") + applied.created,
        updated=F("updated") + applied.updated,
        unchanged=F("unchanged") + applied.unchanged,
        quarantined=F("quarantined") + applied.quarantined,
        retries=retries,
    )
    PlatformConfiguration.objects.filter(pk=claim.configuration_id).update(
        lease_until=timezone.now() + _options()["SYNC_LEASE"]
    )


def configuration_sync(
    *,
    configuration_id: UUID,
    organization_id: UUID,
    trigger: str = SyncTrigger.SCHEDULE,
    full: bool = False,
    now: datetime | None = None,
    http=None,
) -> SyncRun | None:
    """One run of the shop's sync (see the module's docstring); None when it was not due or a
    run holds it. `full`: read the whole INITIAL_LOOKBACK again, not from the watermark (a
    re-sync after a platform's outage of its own; unchanged orders still change nothing).
    Call it outside a transaction: each step opens the organization's scope."""
    now = now or timezone.now()
    with tenant_scope(organization_id):
        if not feature_is_active(organization_id=organization_id, name=FEATURE):
            return None  # switched off: the shop stays connected and is not synced
        claim = _claim(configuration_id, trigger=trigger, now=now, full=full)
        if claim is None:
            return None
        configuration = PlatformConfiguration.objects.get(pk=configuration_id)
    adapter = None
    try:
        adapter = _adapter(configuration, http=http)
        if _needs_refresh(configuration, adapter, now):
            _refresh(organization_id, configuration, adapter)
        try:
            _read(organization_id, claim, configuration, adapter)
        except PlatformAuthExpired:
            if not adapter.refreshes_tokens:
                raise
            _refresh(organization_id, configuration, adapter)
            _read(organization_id, claim, configuration, adapter)
    except PlatformError as error:
        retries = adapter.http.retries if adapter is not None else 0
        with tenant_scope(organization_id):
            return _failed(claim, error, retries=retries)
    with tenant_scope(organization_id):
        return _succeeded(claim, retries=adapter.http.retries)


@transaction.atomic
def _succeeded(claim: Claim, *, retries: int) -> SyncRun:
    now = timezone.now()
    configuration = PlatformConfiguration.objects.select_for_update().get(pk=claim.configuration_id)
    configuration.watermark = max(claim.window_end, configuration.watermark or claim.window_end)
    configuration.last_success_at = now
    configuration.next_sync_at = claim.window_end + timedelta(seconds=configuration.sync_interval)
    configuration.lease_until = None
    configuration.consecutive_failures = 0
    configuration.circuit_opened_at = None
    configuration.health = Health.HEALTHY
    configuration.last_error_code = configuration.last_error = ""
    configuration.save()
    run = SyncRun.objects.get(pk=claim.run_id)
    run.status, run.finished_at, run.retries = SyncStatus.SUCCEEDED, now, retries
    run.save(update_fields=["status", "finished_at", "retries"])
    logger.info(
        "integrations.sync_succeeded",
        extra={"configuration_id": str(configuration.id), "fetched": run.fetched, "imported": run.created},
    )
    return run


@transaction.atomic
def _failed(claim: Claim, error: PlatformError, *, retries: int) -> SyncRun:
    now = timezone.now()
    options = _options()
    configuration = PlatformConfiguration.objects.select_for_update().get(pk=claim.configuration_id)
    configuration.consecutive_failures += 1
    failures = configuration.consecutive_failures
    message = str(error)[:500]
    paused = failures >= options["CIRCUIT_FAILURES"]
    if paused:
        configuration.health = Health.PAUSED
        configuration.circuit_opened_at = now
        configuration.next_sync_at = now + options["CIRCUIT_COOLDOWN"]
    else:
        configuration.health = Health.DEGRADED
        delay = backoff_seconds(
            failures - 1,
            base=options["RUN_BACKOFF_BASE"].total_seconds(),
            cap=options["RUN_BACKOFF_MAX"].total_seconds(),
        )
        if isinstance(error, PlatformRateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        configuration.next_sync_at = now + timedelta(seconds=delay)
    configuration.lease_until = None
    configuration.last_error_code = error.code
    configuration.last_error = message
    configuration.save()
    run = SyncRun.objects.get(pk=claim.run_id)
    run.status, run.finished_at, run.retries = SyncStatus.FAILED, now, retries
    run.error_code, run.error = error.code, message
    run.save(update_fields=["status", "finished_at", "retries", "error_code", "error"])
    outbox_publish(
        events.SyncFailed(
            organization_id=configuration.organization_id,
            configuration_id=str(configuration.id),
            platform=configuration.platform,
            shop_id=configuration.shop_id,
            shop_name=configuration.name,
            run_id=str(run.id),
            error_code=error.code,
            error=message,
            consecutive_failures=failures,
            paused=paused,
        )
    )
    logger.warning(
        "integrations.sync_failed",
        extra={"configuration_id": str(configuration.id), "error_code": error.code, "failures": failures},
    )
    return run


def order_fetch_and_apply(*, configuration_id: UUID, organization_id: UUID, external_id: str, http=None) -> ApplyResult:
    """Fetch one order from the platform and apply it (a webhook named it): the webhook's payload
    only says which order to read. Outside a transaction, like a run."""
    with tenant_scope(organization_id):
        configuration = PlatformConfiguration.objects.get(pk=configuration_id)
    adapter = _adapter(configuration, http=http)
    if _needs_refresh(configuration, adapter, timezone.now()):
        _refresh(organization_id, configuration, adapter)
    try:
        raw = adapter.fetch_order(external_id)
    except PlatformAuthExpired:
        if not adapter.refreshes_tokens:
            raise
        _refresh(organization_id, configuration, adapter)
        raw = adapter.fetch_order(external_id)
    if raw is None:
        return ApplyResult()
    with tenant_scope(organization_id):
        return orders_apply(configuration=configuration, adapter=adapter, raws=[raw])
