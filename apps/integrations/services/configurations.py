"""Connecting shops: a configuration per shop, its credentials checked against the platform before
they are kept (encrypted), its sync settings, and "sync now"."""

from __future__ import annotations

import logging
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.context import system_scope
from apps.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from apps.integrations.adapters import adapter_class, adapter_for
from apps.integrations.adapters.base import PlatformAuthExpired, PlatformError, PlatformRejected, RefreshedCredentials
from apps.integrations.credentials import credentials_open, credentials_rotate, credentials_seal
from apps.integrations.models import Health, Platform, PlatformConfiguration

logger = logging.getLogger(__name__)

UNSET = object()


class CredentialsRejected(DomainError):
    status_code = 400
    code = ErrorCode.VALIDATION_FIELD_INVALID


class PlatformUnreachable(DomainError):
    status_code = 503
    code = ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE


def _checked_credentials(platform: str, credentials) -> dict:
    """The credentials with exactly the platform's fields, every required one a non-empty string.
    The error names the fields, never their values."""
    if not isinstance(credentials, dict):
        raise ValidationFailed(
            "Credentials are an object of the platform's fields.", details={"credentials": ["An object."]}
        )
    adapter = adapter_class(platform)
    known = set(adapter.credential_fields) | set(adapter.optional_credential_fields)
    errors = {}
    for name in adapter.credential_fields:
        value = credentials.get(name)
        if not isinstance(value, str) or not value.strip():
            errors[name] = ["Required."]
    for name in credentials:
        if name not in known:
            errors[name] = [f"Not a {Platform(platform).label} credential: {', '.join(sorted(known))}."]
        elif not isinstance(credentials[name], str):
            errors[name] = ["A string."]
    if errors:
        raise ValidationFailed("The credentials are incomplete.", details={"credentials": errors})
    return {name: value.strip() for name, value in credentials.items()}


def _validated(platform: str, shop_id: str, credentials: dict) -> tuple[dict, object]:
    """Ask the platform whether it takes the credentials (refreshing an expired token first where it
    can); the credentials to keep and their token's expiry. 400 when it refuses, 503 when it does
    not answer. Nothing of the credentials goes into the error."""
    adapter = adapter_for(platform=platform, shop_id=shop_id, credentials=credentials)
    expires_at = None
    try:
        if adapter.refreshes_tokens and credentials.get("refresh_token"):
            refreshed: RefreshedCredentials = adapter.refresh_credentials()
            adapter.credentials = dict(refreshed.credentials)
            expires_at = refreshed.access_token_expires_at
        adapter.validate_credentials()
    except (PlatformRejected, PlatformAuthExpired) as error:
        raise CredentialsRejected(
            f"{Platform(platform).label} refused the credentials.",
            details={"credentials": [str(error)[:200]]},
        ) from None
    except PlatformError as error:
        raise PlatformUnreachable(
            f"{Platform(platform).label} did not answer; try again later.", details={"platform": [error.code]}
        ) from None
    return adapter.credentials, expires_at


def _interval(value) -> int:
    options = settings.INTEGRATIONS
    if value is None:
        return options["SYNC_INTERVAL_DEFAULT"]
    if not isinstance(value, int) or isinstance(value, bool) or value < options["SYNC_INTERVAL_MIN"]:
        raise ValidationFailed(
            "The sync interval is a whole number of seconds.",
            details={"sync_interval": [f"At least {options['SYNC_INTERVAL_MIN']}."]},
        )
    return value


def _connect_checks(*, platform: str, shop_id: str, credentials, sync_interval: int | None) -> tuple[str, int, dict]:
    """What connecting a shop checks before asking the platform: the platform, the shop's id, the
    interval, the credentials' fields, and that no organization has the shop yet. The shop's id
    (stripped), the interval and the credentials (stripped)."""
    if platform not in Platform.values:
        raise ValidationFailed("Unknown platform.", details={"platform": [f"One of {', '.join(Platform.values)}."]})
    shop_id = (shop_id or "").strip()
    if not shop_id or len(shop_id) > 128:
        raise ValidationFailed("The shop's id is required.", details={"shop_id": ["1 to 128 characters."]})
    interval = _interval(sync_interval)
    checked = _checked_credentials(platform, credentials)
    if _shop_taken(platform, shop_id):
        raise ValidationFailed(
            "This shop is already connected.", details={"shop_id": ["Connected to an organization already."]}
        )
    return shop_id, interval, checked


def _configuration_create(
    *,
    actor: Actor,
    platform: str,
    shop_id: str,
    name: str,
    credentials: dict,
    expires_at,
    interval: int,
    validated: bool,
) -> PlatformConfiguration:
    try:
        with transaction.atomic():
            configuration = PlatformConfiguration.objects.create(
                organization_id=actor.organization_id,
                platform=platform,
                shop_id=shop_id,
                name=(name or "").strip()[:200] or shop_id,
                credentials_encrypted=credentials_seal(credentials),
                access_token_expires_at=expires_at,
                sync_interval=interval,
                next_sync_at=timezone.now(),
                created_by_id=actor.user_id,
            )
    except IntegrityError:
        raise ValidationFailed(
            "This shop is already connected.", details={"shop_id": ["Connected to an organization already."]}
        ) from None
    new_values = {"platform": platform, "shop_id": shop_id, "name": configuration.name}
    if not validated:
        new_values["credentials_checked"] = False
    audit_record(
        action="integration.connected",
        resource_type="platform_configuration",
        resource_id=configuration.id,
        new_values=new_values,
        organization_id=actor.organization_id,
        actor=actor,
    )
    return configuration


@transaction.atomic
def configuration_connect(
    *, actor: Actor, platform: str, shop_id: str, name: str, credentials: dict, sync_interval: int | None = None
) -> PlatformConfiguration:
    """Connect a shop: the credentials are checked against the platform, then kept encrypted. The
    first run is due at once. A shop is connected to one organization only (400 otherwise)."""
    shop_id, interval, checked = _connect_checks(
        platform=platform, shop_id=shop_id, credentials=credentials, sync_interval=sync_interval
    )
    kept, expires_at = _validated(platform, shop_id, checked)
    return _configuration_create(
        actor=actor,
        platform=platform,
        shop_id=shop_id,
        name=name,
        credentials=kept,
        expires_at=expires_at,
        interval=interval,
        validated=True,
    )


@transaction.atomic
def configuration_connect_trusted(
    *, actor: Actor, platform: str, shop_id: str, name: str, credentials: dict, sync_interval: int | None = None
) -> PlatformConfiguration:
    """Connect a shop WITHOUT asking the platform whether it takes the credentials. For seeding
    only (the demo data of `make run`, written while the platform sandbox is not running yet):
    never for credentials a person typed. Every other check of `configuration_connect` holds
    (platform, shop id, interval, the credentials' fields, one organization per shop). The first
    run is due at once and is what finds out whether the credentials work; the token's expiry
    is unknown (None: refreshed when the platform says it expired)."""
    shop_id, interval, checked = _connect_checks(
        platform=platform, shop_id=shop_id, credentials=credentials, sync_interval=sync_interval
    )
    return _configuration_create(
        actor=actor,
        platform=platform,
        shop_id=shop_id,
        name=name,
        credentials=checked,
        expires_at=None,
        interval=interval,
        validated=False,
    )


def _shop_taken(platform: str, shop_id: str) -> bool:
    # Another organization's row is invisible here; the unique constraint is global.
    with system_scope(reason="integrations.shop_taken", audit=False):
        return PlatformConfiguration.objects.filter(platform=platform, shop_id=shop_id).exists()


def _get_locked(actor: Actor, configuration_id: UUID) -> PlatformConfiguration:
    configuration = (
        PlatformConfiguration.objects.select_for_update()
        .filter(pk=configuration_id, organization_id=actor.organization_id)
        .first()
    )
    if configuration is None:
        raise NotFound("Platform configuration not found.")
    return configuration


@transaction.atomic
def configuration_update(
    *, actor: Actor, configuration_id: UUID, name=UNSET, sync_interval=UNSET, is_active=UNSET, credentials=UNSET
) -> PlatformConfiguration:
    """Rename, re-time, pause or resume a shop, or give it new credentials (checked against the
    platform first). Resuming a shop closes its circuit: the next run is due at once."""
    configuration = _get_locked(actor, configuration_id)
    changed = []
    if name is not UNSET:
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed("A name is required.", details={"name": ["Required."]})
        configuration.name = name.strip()[:200]
        changed.append("name")
    if sync_interval is not UNSET:
        configuration.sync_interval = _interval(sync_interval)
        changed.append("sync_interval")
    if credentials is not UNSET:
        checked = _checked_credentials(configuration.platform, credentials)
        kept, expires_at = _validated(configuration.platform, configuration.shop_id, checked)
        configuration.credentials_encrypted = credentials_seal(kept)
        configuration.access_token_expires_at = expires_at
        changed.append("credentials")
    if credentials is not UNSET or (is_active is True and not configuration.is_active):
        configuration.consecutive_failures = 0
        configuration.circuit_opened_at = None
        configuration.next_sync_at = timezone.now()
        if configuration.health == Health.PAUSED:
            configuration.health = Health.DEGRADED
    if is_active is not UNSET:
        if not isinstance(is_active, bool):
            raise ValidationFailed("is_active is true or false.", details={"is_active": ["A boolean."]})
        configuration.is_active = is_active
        changed.append("is_active")
    configuration.save()
    audit_record(
        action="integration.updated",
        resource_type="platform_configuration",
        resource_id=configuration.id,
        new_values={"changed": changed},  # never the credentials themselves
        organization_id=actor.organization_id,
        actor=actor,
    )
    return configuration


@transaction.atomic
def configuration_sync_now(*, actor: Actor, configuration_id: UUID, full: bool = False) -> PlatformConfiguration:
    """A manual run, at once (also for a paused shop: a manual run is the admin's trial), on the
    sync queue after commit. Already running: nothing more (the running one reads to the end).
    `full`: read the whole lookback again, not from the watermark."""
    from apps.integrations import tasks

    configuration = _get_locked(actor, configuration_id)
    if not configuration.is_active:
        raise DomainError("The shop is deactivated: activate it first.", details={"is_active": False})
    configuration_id_text, organization_id_text = str(configuration.id), str(configuration.organization_id)
    transaction.on_commit(
        lambda: tasks.integrations_sync_configuration.delay(
            configuration_id=configuration_id_text, organization_id=organization_id_text, trigger="MANUAL", full=full
        )
    )
    audit_record(
        action="integration.sync_requested",
        resource_type="platform_configuration",
        resource_id=configuration.id,
        new_values={"full": full},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return configuration


def credentials_rotate_all() -> int:
    """Re-encrypt every shop's credentials with the first key of INTEGRATIONS["CREDENTIAL_KEYS"]
    (after adding a new key first); returns how many. Platform staff's command, across tenants."""
    rotated = 0
    with system_scope(reason="integrations.credentials_rotate"):
        for configuration in PlatformConfiguration.objects.select_for_update().only("id", "credentials_encrypted"):
            credentials_open(configuration.credentials_encrypted)  # fails loudly before anything is written
            PlatformConfiguration.objects.filter(pk=configuration.pk).update(
                credentials_encrypted=credentials_rotate(configuration.credentials_encrypted)
            )
            rotated += 1
    return rotated


def configuration_register_webhooks(*, actor: Actor, configuration_id: UUID) -> PlatformConfiguration:
    """Subscribe the shop's order webhooks to our endpoint (where the platform's API allows it)."""
    with transaction.atomic():
        configuration = _get_locked(actor, configuration_id)
    adapter = adapter_for(
        platform=configuration.platform,
        shop_id=configuration.shop_id,
        credentials=credentials_open(configuration.credentials_encrypted),
    )
    url = f"{settings.INTEGRATIONS['WEBHOOK_BASE_URL']}/api/v1/integrations/webhooks/{configuration.platform}"
    try:
        adapter.register_webhooks(callback_url=url)
    except PlatformError as error:
        raise PlatformUnreachable(
            "The platform did not take the webhook subscription.", details={"platform": [error.code]}
        ) from None
    PlatformConfiguration.objects.filter(pk=configuration.pk).update(webhooks_registered_at=timezone.now())
    configuration.webhooks_registered_at = timezone.now()
    return configuration
