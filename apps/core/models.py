"""Shared base models and the platform's own tables: the outbox, idempotency records, the audit log."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.rls import AppendOnly, Owned, Personal


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


class AuditLog(models.Model):
    """Append-only: the application role has no UPDATE/DELETE grant, no policy allows them,
    and a trigger refuses them for everyone, the owner included."""

    # erasable: a person's erasure rewrites their identifiers out of the values (docs/accounts.md).
    row_visibility = AppendOnly(erasable=True)

    # A client-made key: an INSERT ... RETURNING would have to pass the read policy,
    # which rows of no organization (failed logins) never do.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True)
    # Plain ids, not foreign keys: the record outlives the user or organization it names.
    actor_id = models.UUIDField(null=True, blank=True)
    organization_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=60)
    resource_type = models.CharField(max_length=60, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        # The table keeps the name it was created with in tenancy: its policies, triggers and
        # erasure function (tenancy migrations 0001 and 0005) name it, and no row moves.
        db_table = "tenancy_auditlog"
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["organization_id", "occurred_at"], name="audit_org_time_idx"),
            models.Index(fields=["resource_type", "resource_id"], name="audit_resource_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_type}:{self.resource_id}"
