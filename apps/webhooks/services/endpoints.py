"""An organization's webhook endpoints: registering, changing, removing, rotating the secret.

The plaintext secret leaves these services only in the return value of `endpoint_create` and
`endpoint_rotate_secret` (the API shows it once); the row holds it encrypted."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.actors import Actor
from apps.core.audit import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.core.outbound import OutboundRefused, check_url
from apps.core.updates import model_update
from apps.webhooks.catalogue import unknown_patterns
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.signing import secret_decrypt, secret_encrypt, secret_new

EDITABLE_FIELDS = ("url", "event_types", "description", "is_active")
# Set together with is_active: switching on resets the circuit breaker, switching off says why.
STATE_FIELDS = ("consecutive_failures", "failing_since", "disabled_reason", "disabled_at")
SWITCHED_OFF = "Switched off by an administrator."
MAX_PATTERNS = 50


def _checked_url(url: str) -> str:
    """The URL, or 400 when it may not be called (outbound rules: apps/core/outbound.py)."""
    try:
        check_url(url)
    except OutboundRefused as refusal:
        raise ValidationFailed("The URL cannot receive webhooks.", details={"url": [str(refusal)]}) from None
    return url.strip()


def _checked_patterns(patterns: list[str]) -> list[str]:
    """The patterns without duplicates (in their order), or 400 when one matches no event type."""
    patterns = list(dict.fromkeys(pattern.strip() for pattern in patterns))
    if not patterns or not all(patterns):
        raise ValidationFailed(
            "Name the events to send.", details={"event_types": ["At least one pattern, none blank."]}
        )
    if len(patterns) > MAX_PATTERNS:
        raise ValidationFailed("Too many patterns.", details={"event_types": [f"At most {MAX_PATTERNS}."]})
    unknown = unknown_patterns(patterns)
    if unknown:
        raise ValidationFailed(
            "Some patterns match no event type.",
            details={"event_types": [f"{pattern!r} matches no event type." for pattern in unknown]},
        )
    return patterns


def endpoint_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    secrets = [secret_decrypt(endpoint.secret_encrypted)]
    expires_at = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires_at is not None and now < expires_at:
        secrets.append(secret_decrypt(endpoint.previous_secret_encrypted))
    return secrets


def _own_endpoint_for_update(*, actor: Actor, endpoint_id: UUID) -> WebhookEndpoint:
    # NO KEY UPDATE: deliveries being inserted (their foreign key takes KEY SHARE) are not blocked.
    endpoint = (
        WebhookEndpoint.objects.select_for_update(no_key=True)
        .filter(organization_id=actor.organization_id, pk=endpoint_id)
        .first()
    )
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


@transaction.atomic
def endpoint_create(
    *, actor: Actor, url: str, event_types: list[str], description: str = "", is_active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the actor's organization; returns it and its secret (the only
    time the secret is given). 400 for a URL that may not be called or an unknown pattern."""
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(
        organization_id=actor.organization_id,
        url=_checked_url(url),
        event_types=_checked_patterns(event_types),
        description=description,
        is_active=is_active,
        created_by_id=actor.user_id,
        secret_encrypted=secret_encrypt(secret),
        disabled_at=None if is_active else timezone.now(),
        disabled_reason="" if is_active else SWITCHED_OFF,
    )
    audit_record(
        action="webhook.endpoint_created",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        new_values={"url": endpoint.url, "event_types": endpoint.event_types, "is_active": endpoint.is_active},
        organization_id=actor.organization_id,
        actor=actor,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(*, actor: Actor, endpoint_id: UUID, data: dict) -> WebhookEndpoint:
    """Change an endpoint. Switching it on (is_active true) resets the circuit breaker's
    count; switching it off keeps its deliveries pending until it is on again."""
    endpoint = _own_endpoint_for_update(actor=actor, endpoint_id=endpoint_id)
    values = {field: data[field] for field in EDITABLE_FIELDS if field in data}
    if "url" in values:
        values["url"] = _checked_url(values["url"])
    if "event_types" in values:
        values["event_types"] = _checked_patterns(values["event_types"])
    if values.get("is_active") is True and not endpoint.is_active:
        values.update(consecutive_failures=0, failing_since=None, disabled_reason="", disabled_at=None)
    elif values.get("is_active") is False and endpoint.is_active:
        values.update(disabled_reason=SWITCHED_OFF, disabled_at=timezone.now())
    endpoint, _ = model_update(
        instance=endpoint,
        data=values,
        fields=(*EDITABLE_FIELDS, *STATE_FIELDS),
        actor=actor,
        resource_type="webhook_endpoint",
        audit_action="webhook.endpoint_updated",
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: Actor, endpoint_id: UUID) -> None:
    """Remove an endpoint with its delivery log; nothing more is sent to it."""
    endpoint = _own_endpoint_for_update(actor=actor, endpoint_id=endpoint_id)
    audit_record(
        action="webhook.endpoint_deleted",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        old_values={"url": endpoint.url, "event_types": endpoint.event_types},
        organization_id=endpoint.organization_id,
        actor=actor,
    )
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(
    *, actor: Actor, endpoint_id: UUID, now: datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret for the endpoint (returned: the only time it is given). The one it replaces
    still signs, as a second v1, for WEBHOOKS["ROTATION_OVERLAP"]; a secret older than that is
    dropped (rotating twice in a row leaves the first one unusable at once)."""
    now = now or timezone.now()
    endpoint = _own_endpoint_for_update(actor=actor, endpoint_id=endpoint_id)
    secret = secret_new()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = now + settings.WEBHOOKS["ROTATION_OVERLAP"]
    endpoint.secret_encrypted = secret_encrypt(secret)
    endpoint.secret_rotated_at = now
    endpoint.save(
        update_fields=[
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "secret_encrypted",
            "secret_rotated_at",
            "updated_at",
        ]
    )
    audit_record(
        action="webhook.secret_rotated",
        resource_type="webhook_endpoint",
        resource_id=endpoint.id,
        new_values={"previous_secret_expires_at": endpoint.previous_secret_expires_at},
        organization_id=endpoint.organization_id,
        actor=actor,
    )
    return endpoint, secret
