"""Points and referrals (seed 002 `point_transactions` and `invitation/`): a per-person points
ledger that domain events feed through rules staff edit in the back-office, and personal invite
codes whose referrals are rewarded when the referred organization completes its first order.

- `PointRule`: what earns (or costs) points: a domain event type, whose payload names the person
  (`recipient`), the transaction's type, category and amount. Platform-wide, no organization.
- `PointAccount`: a person's balance, the row locked while points are recorded (FOR UPDATE), so
  the running balance is exact under any concurrency.
- `PointTransaction`: one line of the ledger: signed amount and the balance after it, numbered per
  person (`sequence`: 1, 2, 3, ... with no gap), append-only (a trigger refuses UPDATE and
  DELETE). `source_key` is unique per person: an event redelivered, or a staff adjustment
  retried, records once.
- `ReferralCode`: a person's invite code (unambiguous alphabet, unique).
- `Referral`: who referred whom (and, once known, the referred organization), PENDING ->
  QUALIFIED (the organization's first completed order) -> REWARDED, or REFUSED (self-referral,
  loops); each move has its history row (`ReferralStatusChange`).

Visibility: every row here is a person's (`Personal`): the ledger, the account and the code are
their owner's; a referral is the referrer's (the people they referred). Awarding, attribution
and qualification write across people inside the audited all-tenants scope.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.lifecycle import StatusChange
from apps.core.rls import Personal


class TransactionType(models.TextChoices):
    REWARD = "REWARD", "Reward"
    CREDIT = "CREDIT", "Credit"
    PENALTY = "PENALTY", "Penalty"


class Category(models.TextChoices):
    SERVICE = "SERVICE", "Service"
    REVIEW = "REVIEW", "Review"
    REFERRAL = "REFERRAL", "Referral"
    DEVICE = "DEVICE", "Device"
    MEMBERSHIP = "MEMBERSHIP", "Membership"


# A rule's recipient that is not a payload field: the event's actor (OutboxEvent.actor_id).
ACTOR = "actor"


class PointRule(models.Model):
    """What earns points: when an event of `event_type` is delivered (and its payload meets
    `conditions`), the person `recipient` names gets `amount` points of `transaction_type`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(max_length=64, unique=True, help_text="A stable name, e.g. service-order-completed.")
    event_type = models.CharField(max_length=100, help_text="A domain event type, e.g. service_order.completed.")
    recipient = models.CharField(
        max_length=64,
        help_text='The payload field that holds the person\'s id (e.g. expert_user_id), or "actor" for the '
        "person whose action published the event.",
    )
    conditions = models.JSONField(
        default=dict,
        blank=True,
        help_text='Payload fields and the values that qualify, e.g. {"to_level": ["SILVER", "GOLD"]}: '
        "every field must hold one of its values. Empty: every event of the type.",
    )
    transaction_type = models.CharField(max_length=8, choices=TransactionType.choices, default=TransactionType.REWARD)
    category = models.CharField(max_length=10, choices=Category.choices)
    amount = models.PositiveIntegerField(help_text="Points; a PENALTY subtracts them.")
    allows_negative = models.BooleanField(
        default=False, help_text="A penalty may take the balance below zero (otherwise it is not applied)."
    )
    description = models.CharField(max_length=200, help_text="What people read on their ledger line.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_type", "key"]
        indexes = [models.Index(fields=["event_type", "is_active"], name="point_rule_event_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=1), name="point_rule_amount_positive")]

    def __str__(self) -> str:
        return self.key


class PointAccount(models.Model):
    """A person's balance and how many ledger lines it sums (the last line's `sequence`)."""

    row_visibility = Personal()

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(default=0)
    transaction_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class PointTransaction(models.Model):
    """One line of a person's ledger. Append-only: a trigger refuses UPDATE and DELETE."""

    row_visibility = Personal()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField(help_text="The line's number in the person's ledger, from 1.")
    type = models.CharField(max_length=8, choices=TransactionType.choices)
    category = models.CharField(max_length=10, choices=Category.choices, blank=True)
    amount = models.IntegerField(help_text="Signed: a PENALTY is negative.")
    balance = models.BigIntegerField(help_text="The balance after this line.")
    description = models.CharField(max_length=200)
    rule = models.ForeignKey(PointRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # What recorded it, once per person: "event:<outbox event id>:<rule key>" or "manual:<key>".
    source_key = models.CharField(max_length=200)
    source_event_id = models.UUIDField(null=True, blank=True)
    # The staff member who credited or penalized by hand (no foreign key: the ledger is never rewritten).
    actor_id = models.UUIDField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["user", "sequence"], name="point_tx_user_sequence_unique"),
            models.UniqueConstraint(fields=["user", "source_key"], name="point_tx_user_source_unique"),
            models.CheckConstraint(
                condition=(Q(type="PENALTY", amount__lt=0) | (~Q(type="PENALTY") & Q(amount__gt=0))),
                name="point_tx_amount_sign",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="point_tx_sequence_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} #{self.sequence}: {self.amount:+d} = {self.balance}"


class ReferralCode(models.Model):
    """A person's invite code: the link `<public base>/signup?ref=<code>` carries it."""

    row_visibility = Personal()

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class ReferralStatus(models.TextChoices):
    PENDING = "PENDING", "Pending (no completed order yet)"
    QUALIFIED = "QUALIFIED", "Qualified (first order completed)"
    REWARDED = "REWARDED", "Rewarded"
    REFUSED = "REFUSED", "Refused"


class ReferralSource(models.TextChoices):
    SIGN_UP = "SIGN_UP", "Code given at sign-up"
    CLAIM = "CLAIM", "Code claimed after sign-up"


class Referral(models.Model):
    """One person brought by another. A person is referred once (`referred` is unique)."""

    row_visibility = Personal("referrer_id")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    referred = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=16)
    source = models.CharField(max_length=8, choices=ReferralSource.choices)
    # What the referrer is shown of the person: a first name and an initial (or a masked address).
    referred_name = models.CharField(max_length=200, blank=True)
    # The first organization the person created or joined as its admin; its first completed
    # order (or service order) qualifies the referral.
    referred_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referred_organization_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    refusal_reason = models.CharField(max_length=300, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    qualifying_event_id = models.UUIDField(null=True, blank=True)
    rewarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["referrer", "created_at", "id"], name="referral_referrer_idx"),
            models.Index(fields=["referred_organization", "status"], name="referral_org_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="referral_not_self"),
            # One referral per organization: its first order rewards one referrer.
            models.UniqueConstraint(
                fields=["referred_organization"], condition=~Q(status="REFUSED"), name="referral_one_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} -> {self.referred_id} ({self.status})"


class ReferralStatusChange(StatusChange):
    """The referral's history: one row per move (who, when, from, to, why)."""

    row_visibility = Personal("referrer_id")
    subject = "referral"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="status_changes")
    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["referrer", "at"], name="referral_history_referrer_idx"),
            models.Index(fields=["referral", "at"], name="referral_history_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {"referrer_id": subject.referrer_id}
