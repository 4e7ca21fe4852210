"""Platform webhooks: `POST /api/v1/integrations/webhooks/{platform}`.

The request carries no user and no tenant: the shop it names (not yet trusted) finds the
configuration, whose credentials check the signature over the raw body. An unknown shop or a bad
signature is 401 and logged (what was claimed, never the body or a secret). A verified webhook is
recorded once per shop by its key (the platform's event id, or the body's SHA-256), so a replay or
a duplicate delivery is applied once; applying it means fetching the order it names from the
platform (a webhook says which order changed, the platform's API says what it now is)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.core.context import system_scope, tenant_scope
from apps.core.errors import DomainError, ErrorCode, NotFound
from apps.integrations.adapters import adapter_class
from apps.integrations.credentials import credentials_open
from apps.integrations.models import Platform, PlatformConfiguration, WebhookReceipt
from apps.tenancy.selectors import feature_is_active

logger = logging.getLogger(__name__)


class WebhookUnauthorized(DomainError):
    status_code = 401
    code = ErrorCode.AUTH_TOKEN_INVALID


@dataclass(frozen=True)
class WebhookOutcome:
    receipt_id: UUID
    duplicate: bool
    external_order_id: str


def webhook_url(platform: str) -> str:
    """The URL the platform calls (and Shopee signs): from settings, never from the Host header."""
    return f"{settings.INTEGRATIONS['WEBHOOK_BASE_URL']}/api/v1/integrations/webhooks/{platform}"


def _refuse(platform: str, reason: str, *, shop_id: str, remote: str) -> WebhookUnauthorized:
    logger.warning(
        "integrations.webhook_refused",
        extra={"platform": platform, "reason": reason, "shop_id": shop_id[:128], "remote_address": remote},
    )
    return WebhookUnauthorized("The webhook's shop or signature is not one we accept.")


def webhook_receive(*, platform: str, headers: Mapping[str, str], body: bytes, remote: str = "") -> WebhookOutcome:
    if platform not in Platform.values:
        raise NotFound("Unknown platform.")
    adapter = adapter_class(platform)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        shop_id = adapter.webhook_shop_id(headers=lowered, body=body)
    except ValueError:
        shop_id = ""
    if not shop_id:
        raise _refuse(platform, "no shop", shop_id="", remote=remote)
    with system_scope(reason="integrations.webhook_shop", audit=False):
        found = (
            PlatformConfiguration.objects.filter(platform=platform, shop_id=shop_id)
            .values_list("id", "organization_id")
            .first()
        )
    if found is None:
        raise _refuse(platform, "unknown shop", shop_id=shop_id, remote=remote)
    configuration_id, organization_id = found
    with tenant_scope(organization_id):
        configuration = PlatformConfiguration.objects.get(pk=configuration_id)
        credentials = credentials_open(configuration.credentials_encrypted)
        if not adapter.webhook_verify(credentials=credentials, headers=lowered, body=body, url=webhook_url(platform)):
            raise _refuse(platform, "bad signature", shop_id=shop_id, remote=remote)
        notice = adapter.webhook_notice(headers=lowered, body=body)
        try:
            with transaction.atomic():
                receipt = WebhookReceipt.objects.create(
                    organization_id=organization_id,
                    configuration_id=configuration_id,
                    dedupe_key=notice.dedupe_key[:128],
                    topic=notice.topic[:100],
                    external_order_id=notice.external_order_id[:128],
                )
        except IntegrityError:
            receipt = WebhookReceipt.objects.get(configuration_id=configuration_id, dedupe_key=notice.dedupe_key[:128])
            logger.info("integrations.webhook_duplicate", extra={"platform": platform, "receipt_id": str(receipt.id)})
            return WebhookOutcome(receipt_id=receipt.id, duplicate=True, external_order_id=receipt.external_order_id)
        if (
            notice.external_order_id
            and configuration.is_active
            and feature_is_active(organization_id=organization_id, name="platform_integrations")
        ):
            receipt_text, organization_text = str(receipt.id), str(organization_id)

            def enqueue():
                from apps.integrations import tasks

                tasks.integrations_webhook_apply.delay(receipt_id=receipt_text, organization_id=organization_text)

            transaction.on_commit(enqueue)
    return WebhookOutcome(receipt_id=receipt.id, duplicate=False, external_order_id=notice.external_order_id)


def webhook_apply(*, receipt_id: UUID, organization_id: UUID, http=None) -> str:
    """Fetch and apply the order a recorded webhook named (the task; outside a transaction)."""
    from django.utils import timezone

    from apps.integrations.adapters.base import PlatformRejected
    from apps.integrations.services.sync import order_fetch_and_apply

    with tenant_scope(organization_id):
        receipt = WebhookReceipt.objects.filter(pk=receipt_id).first()
        if receipt is None or receipt.processed_at is not None:
            return "skipped"
    try:
        applied = order_fetch_and_apply(
            configuration_id=receipt.configuration_id,
            organization_id=organization_id,
            external_id=receipt.external_order_id,
            http=http,
        )
        result = (
            f"created {applied.created}, updated {applied.updated}, "
            f"unchanged {applied.unchanged}, quarantined {applied.quarantined}"
        )
        if applied.fetched == 0:
            result = "the platform does not know the order"
    except PlatformRejected as error:  # anything else is retried by the task
        result = f"{error.code}: {str(error)[:150]}"
    with tenant_scope(organization_id):
        WebhookReceipt.objects.filter(pk=receipt_id).update(processed_at=timezone.now(), result=result[:200])
    return result
