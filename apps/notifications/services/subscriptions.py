"""A person's web-push subscriptions (one per browser)."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from apps.core import outbound
from apps.core.errors import DomainError, ErrorCode, NotFound, ValidationFailed
from apps.notifications.models import PushSubscription
from apps.notifications.providers import push


def push_public_key() -> str:
    """The VAPID public key for browsers; 503 when this deployment has no web push configured."""
    try:
        return push.vapid_public_key()
    except ImproperlyConfigured as error:
        raise DomainError(
            "Web push is not configured here.", code=ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE, status_code=503
        ) from error


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    allowed = {"https"} | ({"http"} if settings.WEB_PUSH["ALLOW_HTTP_ENDPOINTS"] else set())
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise ValidationFailed(
            "The push endpoint must be an https URL of a push service.",
            details={"endpoint": ["An https URL without credentials."]},
        )
    try:
        outbound.check_url(endpoint)  # not a private, loopback or link-local address (SSRF)
    except outbound.OutboundRefused as refused:
        raise ValidationFailed(
            "The push endpoint may not be called.", details={"endpoint": [str(refused)]}
        ) from refused


@transaction.atomic
def push_subscription_add(
    *, user_id: UUID, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keep a browser's subscription; the same endpoint again updates its keys."""
    push_public_key()  # no web push here: nothing to subscribe to
    _check_endpoint(endpoint)
    subscription, created = PushSubscription.objects.update_or_create(
        user_id=user_id, endpoint=endpoint, defaults={"p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]}
    )
    return subscription, created


@transaction.atomic
def push_subscription_remove(*, user_id: UUID, subscription_id: UUID) -> None:
    deleted, _ = PushSubscription.objects.filter(user_id=user_id, id=subscription_id).delete()
    if not deleted:
        raise NotFound("Push subscription not found.")
