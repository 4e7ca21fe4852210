"""Escrow and the double-entry ledger that holds other people's money.

The ledger is the truth: every movement is a journal entry whose postings sum to zero
per currency (a deferred constraint trigger refuses the commit otherwise), and entries
and postings are append-only (triggers refuse UPDATE and DELETE). Balances are sums of
postings. An escrow keeps cached amounts (held, released, refunded, commission taken)
for its own checks; `manage.py ledger_check` proves they equal the postings.

Sign convention: a posting's amount is positive for a debit and negative for a credit.
The clearing account of a payment provider is an asset (debit-normal: what the
provider holds for us); organizations' available and held accounts and the platform's
commission account are what we owe (credit-normal), shown as positive balances.

Visibility (DESIGN.md §3):
- an escrow, its history, its payment transactions, and its journal entries and
  postings are shared by the two parties (client = payer, supplier = payee);
- a ledger account is its organization's own; any tenant may open one (a release by
  the client opens the supplier's), never read another's. Platform accounts have no
  organization: only platform staff read them;
- exchange rates and the payment providers' webhook events are the platform's, not a
  tenant's: the webhook events are read and written only by the webhook path, in the
  scope of the organization the event concerns.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned, SharedByParties

PARTIES = ("client_organization_id", "supplier_organization_id")
MONEY = {"max_digits": 20, "decimal_places": 4}
# Account ids are derived from what the account is, so that a service can post to an
# account it may not read (the other party's) without looking it up first.
ACCOUNT_NAMESPACE = uuid.UUID("5f1c1f8e-3a51-4b0e-9d4a-6c2b8f1d2e70")


class EscrowStatus(models.TextChoices):
    CREATED = "created", "Created"
    FUNDED = "funded", "Funded"
    PARTIALLY_RELEASED = "partially_released", "Partially released"
    RELEASED = "released", "Released"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"
    CLOSED = "closed", "Closed"


class Escrow(TimeStampedModel):
    """The money of one order, held between its client (payer) and supplier (payee)."""

    row_visibility = SharedByParties(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, help_text="Human-readable, unique in the client organization.")
    order = models.OneToOneField("orders.Order", on_delete=models.PROTECT, related_name="escrow")
    order_number = models.CharField(max_length=32)
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    client_organization_name = models.CharField(max_length=200)
    supplier_organization_name = models.CharField(max_length=200)
    provider = models.CharField(max_length=32, help_text="The payment provider that takes the client's money.")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    commission_minimum = models.DecimalField(**MONEY)
    commission_amount = models.DecimalField(**MONEY, help_text="The commission on the whole amount.")
    status = models.CharField(max_length=20, choices=EscrowStatus.choices, default=EscrowStatus.CREATED)
    status_before_dispute = models.CharField(max_length=20, choices=EscrowStatus.choices, blank=True)
    # Cached from the postings (ledger_check proves them); the locks of locks.py guard them.
    held_amount = models.DecimalField(**MONEY, default=Decimal(0))
    released_amount = models.DecimalField(**MONEY, default=Decimal(0), help_text="Released, commission included.")
    refunded_amount = models.DecimalField(**MONEY, default=Decimal(0))
    commission_taken = models.DecimalField(**MONEY, default=Decimal(0))
    funded_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Proof of delivery.")
    auto_release_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When nothing was held any more.")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["client_organization", "number"], name="escrow_client_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="escrow_amount_positive"),
            models.CheckConstraint(condition=Q(held_amount__gte=0), name="escrow_held_not_negative"),
            models.CheckConstraint(
                condition=Q(held_amount__lte=F("amount") - F("released_amount") - F("refunded_amount")),
                name="escrow_never_moves_more_than_its_amount",
            ),
            models.CheckConstraint(
                condition=Q(commission_taken__lte=F("released_amount")), name="escrow_commission_within_released"
            ),
        ]
        indexes = [
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["client_organization", "created_at", "id"], name="escrow_client_created_id_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="escrow_supplier_created_id_idx"),
            models.Index(
                fields=["auto_release_at"],
                name="escrow_auto_release_due_idx",
                condition=Q(status__in=["funded", "partially_released"], auto_release_at__isnull=False),
            ),
            models.Index(fields=["settled_at"], name="escrow_settled_idx", condition=Q(closed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.number


class EscrowStatusChange(StatusChange):
    """An escrow's history: one row per move, written by `move()`."""

    row_visibility = Derived(*PARTIES)
    subject = "escrow"

    escrow = models.ForeignKey(Escrow, on_delete=models.CASCADE, related_name="history")
    client_organization_id = models.UUIDField()
    supplier_organization_id = models.UUIDField()
    # The statuses keep their choices: the API documents them as an enum.
    from_status = models.CharField(max_length=20, choices=EscrowStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EscrowStatus.choices)

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["client_organization_id", "escrow"], name="escrow_history_client_idx"),
            models.Index(fields=["supplier_organization_id", "escrow"], name="escrow_history_supplier_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class TransactionKind(models.TextChoices):
    FUND = "fund", "Fund"
    RELEASE = "release", "Release"
    REFUND = "refund", "Refund"
    COMMISSION = "commission", "Commission"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class PaymentTransaction(TimeStampedModel):
    """One movement of an escrow's money; fund and refund cross the payment provider.

    Its id is the reference and the idempotency key we give the provider, so a retried
    request can never take or return the money twice.
    """

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    escrow = models.ForeignKey(Escrow, on_delete=models.PROTECT, related_name="transactions")
    client_organization_id = models.UUIDField()
    supplier_organization_id = models.UUIDField()
    kind = models.CharField(max_length=12, choices=TransactionKind.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=TransactionStatus.choices, default=TransactionStatus.PENDING)
    provider = models.CharField(max_length=32, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    payment_method = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    submit_attempts = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_transaction_amount_not_negative"),
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=~Q(external_id=""),
                name="payment_transaction_external_id_unique",
            ),
            # One funding in flight at a time: a second fund request joins the first. (A
            # completed one is not unique: a charge the provider confirms after the escrow was
            # cancelled or funded otherwise is still booked, to the client's available balance.)
            models.UniqueConstraint(
                fields=["escrow"],
                condition=Q(kind="fund", status="pending"),
                name="payment_transaction_one_pending_funding",
            ),
        ]
        indexes = [
            models.Index(fields=["client_organization_id", "escrow"], name="payment_tx_client_idx"),
            models.Index(fields=["supplier_organization_id", "escrow"], name="payment_tx_supplier_idx"),
            models.Index(
                fields=["submitted_at"],
                name="payment_tx_unsubmitted_idx",
                condition=Q(status="pending", external_id="", kind__in=["fund", "refund"]),
            ),
        ]


class AccountKind(models.TextChoices):
    AVAILABLE = "available", "Available"
    HELD = "held", "Held in escrow"
    COMMISSION = "commission", "Platform commission"
    CLEARING = "clearing", "Provider clearing"


DEBIT_NORMAL = {AccountKind.CLEARING}


class LedgerAccount(models.Model):
    """An account of the ledger: an organization's available or held money in one currency,
    the platform's commission, or a payment provider's clearing account."""

    row_visibility = Owned(open_insert=True)

    id = models.UUIDField(primary_key=True, editable=False)
    organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "kind", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "currency", "provider"],
                nulls_distinct=False,
                name="ledger_account_unique",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["available", "held"], organization__isnull=False, provider="")
                    | Q(kind="commission", organization__isnull=True, provider="")
                    | Q(kind="clearing", organization__isnull=True) & ~Q(provider="")
                ),
                name="ledger_account_kind_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = self.provider if self.kind == AccountKind.CLEARING else (self.organization_id or "platform")
        return f"{self.get_kind_display()} {self.currency} ({owner})"

    @staticmethod
    def id_for(*, organization_id, kind: str, currency: str, provider: str = "") -> uuid.UUID:
        return uuid.uuid5(ACCOUNT_NAMESPACE, f"{organization_id or 'platform'}:{kind}:{currency}:{provider}")

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class EntryKind(models.TextChoices):
    FUNDING = "funding", "Escrow funded"
    RELEASE = "release", "Escrow released"
    REFUND = "refund", "Escrow refunded"
    REFUND_FAILED = "refund_failed", "Refund failed: credited to available"
    ADJUSTMENT = "adjustment", "Manual adjustment"


class JournalEntry(models.Model):
    """One balanced movement of money. Never changed: a mistake is corrected by another entry."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    escrow = models.ForeignKey(Escrow, null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    payment_transaction = models.ForeignKey(
        PaymentTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    # The organizations whose accounts the entry moves (an adjustment has one).
    client_organization_id = models.UUIDField(null=True, blank=True)
    supplier_organization_id = models.UUIDField(null=True, blank=True)
    description = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "journal entries"
        indexes = [
            models.Index(fields=["client_organization_id", "created_at"], name="journal_entry_client_idx"),
            models.Index(fields=["supplier_organization_id", "created_at"], name="journal_entry_supplier_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class Posting(models.Model):
    """One line of a journal entry: a debit (positive) or credit (negative) to one account."""

    row_visibility = Derived(*PARTIES)

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="postings")
    # Copied from the account and the entry, so that statements and policies need no join.
    organization_id = models.UUIDField(null=True, blank=True, help_text="The account's organization.")
    account_kind = models.CharField(max_length=12, choices=AccountKind.choices)
    escrow = models.ForeignKey(Escrow, null=True, blank=True, on_delete=models.PROTECT, related_name="postings")
    client_organization_id = models.UUIDField(null=True, blank=True)
    supplier_organization_id = models.UUIDField(null=True, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="posting_amount_not_zero")]
        indexes = [
            models.Index(fields=["client_organization_id", "created_at"], name="posting_client_idx"),
            models.Index(fields=["supplier_organization_id", "created_at"], name="posting_supplier_idx"),
            models.Index(fields=["organization_id", "created_at"], name="posting_owner_created_idx"),
            models.Index(fields=["account", "created_at"], name="posting_account_idx"),
            models.Index(fields=["escrow", "account_kind"], name="posting_escrow_idx"),
        ]

    def __str__(self) -> str:
        return f"{'Dr' if self.amount > 0 else 'Cr'} {abs(self.amount)} {self.currency} {self.account_kind}"


class ExchangeRate(models.Model):
    """How many units of `quote` one unit of `base` buys, as a provider said at `as_of`.

    For showing equivalents only: no money is ever converted with it.
    """

    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=24, decimal_places=10)
    as_of = models.DateTimeField()
    provider = models.CharField(max_length=32)
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["base", "quote"]
        constraints = [
            models.UniqueConstraint(fields=["base", "quote"], name="exchange_rate_pair_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote}"


class WebhookEvent(models.Model):
    """A payment provider's signed notice, recorded once per event id before it is applied."""

    row_visibility = Owned()

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=64)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    reference = models.UUIDField(help_text="The payment transaction the event is about.")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]
        indexes = [
            models.Index(fields=["organization", "received_at"], name="webhook_event_org_idx"),
            models.Index(fields=["received_at"], name="webhook_event_unapplied_idx", condition=Q(applied_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
