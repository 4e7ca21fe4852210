"""Shared base models and the platform's own tables: the outbox and idempotency records."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.rls import Owned, Personal


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class OutboxEvent(UUIDModel):
    """A domain event written in the same transaction as the change it describes.

    The relay (apps.core.tasks) delivers it at least once to the registered
    handlers and stamps `published_at`; consumers deduplicate by `id`.
    """

    row_visibility = Owned()

    organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    actor_id = models.UUIDField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["organization", "created_at"],
                name="outbox_unpublished_idx",
                condition=models.Q(published_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"


class IdempotencyRecord(models.Model):
    """The first response to a POST made with an Idempotency-Key, replayed for retries."""

    row_visibility = Personal()

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization_id = models.UUIDField(null=True, blank=True)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class NumberSequence(models.Model):
    """The last human-readable number an organization gave out for one kind of record in a
    year (orders, RFQs, ...). Per organization, so numbers never reveal another tenant's
    volume (DESIGN.md §3); the row is locked while numbering."""

    row_visibility = Owned()

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=32, help_text="What is numbered, e.g. order or rfq.")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name", "year"], name="number_sequence_org_name_year_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.name} {self.year}: {self.last_value}"
