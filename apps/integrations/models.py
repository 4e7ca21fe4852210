"""Platform integrations: the shops an organization connects (Shopee, Lazada, Shopify, TikTok Shop),
the binding of each platform order to our order, the sync log, what could not be imported, the
probable duplicates across platforms, the fulfilments pushed back, the webhooks received and the
billing records of platform orders. Every row is its organization's (row-level security)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.rls import Owned


class Platform(models.TextChoices):
    SHOPEE = "shopee", "Shopee"
    LAZADA = "lazada", "Lazada"
    SHOPIFY = "shopify", "Shopify"
    TIKTOK_SHOP = "tiktok_shop", "TikTok Shop"


class Health(models.TextChoices):
    UNVERIFIED = "UNVERIFIED", "Not synced yet"
    HEALTHY = "HEALTHY", "Healthy"
    DEGRADED = "DEGRADED", "Last run failed"
    PAUSED = "PAUSED", "Paused by the circuit breaker"


class PlatformConfiguration(TimeStampedModel):
    """One connected shop of an organization (seed 004 `PlatformConfiguration`)."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    shop_id = models.CharField(
        max_length=128, help_text="The platform's id of the shop (Shopify: its myshopify.com domain)."
    )
    name = models.CharField(max_length=200)
    # JSON of the platform's credentials, Fernet-encrypted (apps/integrations/credentials.py).
    credentials_encrypted = models.TextField()
    # When the access token expires (platforms whose tokens do), to refresh it in time.
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    sync_interval = models.PositiveIntegerField(help_text="Seconds between two scheduled syncs.")
    is_active = models.BooleanField(default=True)
    health = models.CharField(max_length=16, choices=Health.choices, default=Health.UNVERIFIED)
    # Every order updated up to here has been read (a run's end, once it finished).
    watermark = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    # The claim of the run under way: nobody else syncs the shop before this time.
    lease_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    circuit_opened_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    webhooks_registered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["platform", "name"]
        constraints = [
            # A shop belongs to one organization: its webhooks name the shop, not us.
            models.UniqueConstraint(fields=["platform", "shop_id"], name="integration_platform_shop_unique"),
        ]
        indexes = [models.Index(fields=["is_active", "next_sync_at"], name="integration_config_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.name}"


class PlatformOrderLink(models.Model):
    """The binder: a platform order and our order, one to one. Re-syncs and webhooks find the order
    here and update it; `content_hash` says whether anything the platform sent has changed."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    configuration = models.ForeignKey(PlatformConfiguration, on_delete=models.PROTECT, related_name="links")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    shop_id = models.CharField(max_length=128)
    external_id = models.CharField(max_length=128)
    order_id = models.UUIDField(unique=True)
    order_number = models.CharField(max_length=32)
    platform_status = models.CharField(max_length=64, help_text="The platform's own status, as it sent it.")
    # Ours as the platform's status maps to it ("" when it maps to none): a push-back is needed
    # only when the platform is behind us.
    mapped_status = models.CharField(max_length=24, blank=True)
    platform_created_at = models.DateTimeField()
    platform_updated_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=15, decimal_places=3)
    is_paid = models.BooleanField(default=False)
    # Who bought and what, hashed: the duplicate check compares these across platforms.
    customer_key = models.CharField(max_length=64, blank=True)
    items_key = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    raw_payload = models.JSONField()
    # The fulfilment we pushed (or will push) back to the platform.
    tracking_number = models.CharField(max_length=100, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-platform_created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "shop_id", "external_id"], name="integration_link_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "customer_key", "platform_created_at"], name="integration_link_dup_idx"
            ),
            models.Index(fields=["configuration", "platform_updated_at"], name="integration_link_config_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id} → {self.order_number}"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "SCHEDULE", "Schedule"
    MANUAL = "MANUAL", "Sync now"
    WEBHOOK = "WEBHOOK", "Webhook"


class SyncStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"


class SyncRun(models.Model):
    """The sync log: one row per run of a configuration, with its progress."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    configuration = models.ForeignKey(PlatformConfiguration, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=SyncTrigger.choices)
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0, help_text="Requests asked again after a 429 or 5xx.")
    error_code = models.CharField(max_length=32, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["configuration", "started_at"], name="integration_run_config_idx")]

    def __str__(self) -> str:
        return f"{self.configuration_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class QuarantinedOrder(models.Model):
    """A platform order that could not be imported as it is (a missing field, an unknown currency,
    items in two currencies): kept with the reason, never half-imported. Imported and released
    when a later read of it is sound."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    configuration = models.ForeignKey(PlatformConfiguration, on_delete=models.CASCADE, related_name="quarantine")
    external_id = models.CharField(max_length=128)
    reason = models.TextField()
    raw_payload = models.JSONField()
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    times_seen = models.PositiveIntegerField(default=1)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["configuration", "external_id"], name="integration_quarantine_unique")
        ]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.reason[:60]}"


class DuplicateStatus(models.TextChoices):
    OPEN = "OPEN", "To review"
    DUPLICATE = "DUPLICATE", "Confirmed duplicate"
    NOT_DUPLICATE = "NOT_DUPLICATE", "Not a duplicate"


class DuplicateFlag(models.Model):
    """Two orders from different platforms that look like one purchase (the same customer, items
    and amount within a window): flagged for staff review, never merged."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(PlatformOrderLink, on_delete=models.CASCADE, related_name="+")
    other_link = models.ForeignKey(PlatformOrderLink, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    flagged_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-flagged_at"]
        constraints = [models.UniqueConstraint(fields=["link", "other_link"], name="integration_duplicate_unique")]
        indexes = [models.Index(fields=["status", "flagged_at"], name="integration_duplicate_open_idx")]

    def __str__(self) -> str:
        return f"{self.link_id} ~ {self.other_link_id} ({self.status})"


class PushState(models.TextChoices):
    PENDING = "PENDING", "To send"
    SENT = "SENT", "Sent"
    FAILED = "FAILED", "Failed"


class StatusPush(models.Model):
    """A fulfilment to push back to the platform (our order shipped): made in the transaction that
    shipped it (through the outbox), sent and retried by the worker."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(PlatformOrderLink, on_delete=models.CASCADE, related_name="pushes")
    # The order.status_changed event it answers: a redelivered event pushes once.
    event_id = models.UUIDField(unique=True)
    status = models.CharField(max_length=24, help_text="Our order status pushed (in_transit: shipped).")
    tracking_number = models.CharField(max_length=100, blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=16, choices=PushState.choices, default=PushState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="integration_push_due_idx")]

    def __str__(self) -> str:
        return f"{self.link_id} → {self.status} ({self.state})"


class WebhookReceipt(models.Model):
    """A platform webhook that passed its signature check: applied once (its key is unique per
    shop), then the order it names is fetched from the platform."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    configuration = models.ForeignKey(PlatformConfiguration, on_delete=models.CASCADE, related_name="+")
    dedupe_key = models.CharField(max_length=128, help_text="The platform's event id, or the body's SHA-256.")
    topic = models.CharField(max_length=100, blank=True)
    external_order_id = models.CharField(max_length=128, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["configuration", "dedupe_key"], name="integration_webhook_once"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.external_order_id}"


class BillingKind(models.TextChoices):
    INVOICE = "INVOICE", "Invoice"
    PAYMENT = "PAYMENT", "Payment"
    REFUND = "REFUND", "Refund"


class BillingStatus(models.TextChoices):
    ISSUED = "ISSUED", "Issued"
    VOID = "VOID", "Void"


class BillingRecord(models.Model):
    """Seed 004's `billing_records`: the invoice of a platform order, its payment and its refund,
    for the point-of-sale and billing side. One of each kind per order."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(PlatformOrderLink, on_delete=models.PROTECT, related_name="billing_records")
    order_id = models.UUIDField()
    kind = models.CharField(max_length=16, choices=BillingKind.choices)
    number = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=15, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=BillingStatus.choices, default=BillingStatus.ISSUED)
    issued_at = models.DateTimeField()
    external_reference = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-issued_at", "number"]
        constraints = [
            models.UniqueConstraint(fields=["link", "kind"], name="integration_billing_once"),
            models.UniqueConstraint(fields=["organization", "number"], name="integration_billing_number_unique"),
        ]
        indexes = [models.Index(fields=["organization", "issued_at", "id"], name="integration_billing_list_idx")]

    def __str__(self) -> str:
        return self.number
