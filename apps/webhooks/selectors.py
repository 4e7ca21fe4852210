"""Reads of webhooks: an organization's endpoints, their delivery logs, one delivery's attempts."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from apps.core.errors import NotFound
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, organization_id: UUID) -> QuerySet[WebhookEndpoint]:
    """The organization's endpoints, newest first."""
    return WebhookEndpoint.objects.filter(organization_id=organization_id).order_by("-created_at", "-id")


def endpoint_get(*, organization_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
    endpoint = endpoint_list(organization_id=organization_id).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def delivery_list(*, organization_id: UUID, endpoint_id: UUID, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """An endpoint's delivery log, newest first (404 for another organization's endpoint);
    the bodies are left out (the detail has them)."""
    endpoint_get(organization_id=organization_id, endpoint_id=endpoint_id)
    deliveries = (
        WebhookDelivery.objects.filter(organization_id=organization_id, endpoint_id=endpoint_id)
        .defer("body")
        .order_by("-created_at", "-id")
    )
    return deliveries if status is None else deliveries.filter(status=status)


def delivery_get(*, organization_id: UUID, delivery_id: UUID) -> WebhookDelivery:
    """One delivery of the organization with its attempts (oldest first)."""
    delivery = (
        WebhookDelivery.objects.filter(organization_id=organization_id, pk=delivery_id)
        .prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("requested_at", "id")))
        .first()
    )
    if delivery is None:
        raise NotFound("Webhook delivery not found.")
    return delivery
