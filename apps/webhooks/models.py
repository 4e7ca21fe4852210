"""Outbound webhooks: an organization's endpoints, one delivery per event and endpoint, and
each attempt at sending it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.core.rls import Owned


class WebhookEndpoint(TimeStampedModel):
    """A URL of an organization that receives the events matching its patterns, signed with
    its secret (stored encrypted; shown once, when made or rotated)."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    # fnmatch patterns of event types ("order.*", "escrow.funded", "*").
    event_types = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    secret_encrypted = models.TextField()
    # The secret before the last rotation still signs (a second v1) until it expires.
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # The circuit breaker: failed attempts in a row, and when the first of them was made.
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="webhook_endpoint_org_idx")]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


PING_EVENT_TYPE = "webhook.ping"


class WebhookDelivery(TimeStampedModel):
    """One event for one endpoint: its body frozen at fan-out (a redelivery sends the same
    bytes), its state and when it is next tried.

    `organization` is the endpoint's. The fan-out runs in the acting organization's scope and
    writes deliveries for the other organizations the event concerns (the parties), hence
    `open_insert`: any tenant may insert a row for another, never read or change it."""

    row_visibility = Owned(open_insert=True)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    # A manual redelivery starts a new sequence of attempts (same body, fresh signature).
    sequence = models.PositiveIntegerField(default=1)
    attempt_count = models.PositiveIntegerField(default=0)  # in the current sequence
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["organization", "endpoint", "-created_at", "-id"], name="webhook_delivery_log_idx"),
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due_idx", condition=Q(status=DeliveryStatus.PENDING)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One request of a delivery and what came back (or why none did)."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    sequence = models.PositiveIntegerField()
    number = models.PositiveIntegerField()  # within the sequence, from 1
    requested_at = models.DateTimeField()
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)  # at most WEBHOOKS["RESPONSE_EXCERPT_BYTES"]
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["organization", "delivery", "requested_at"], name="webhook_attempt_delivery_idx")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.sequence}.{self.number}"
