"""Disputes: a case one party of an order opens against the other, mediated by platform staff,
whose resolution moves the order's escrowed money (through the escrow services) exactly once.

- `Dispute`: the case: who opened it, why, what is claimed and asked for, its status, the
  counterparty's response deadline, the mediator, and the resolution.
- `DisputeStatusChange`: its history, one row per move (apps.core.lifecycle).
- `DisputeEvidence`: what a party or staff put before the mediator: a statement, a file, or a
  link to something the platform already holds. Immutable once added (its preview, rendered by
  a worker, is derived).
- `DisputeResolution`: what the mediator proposes or decides: the held money released to the
  supplier, refunded to the client, or split, with a reason; and each party's answer.

Visibility: a dispute is its order's two parties' (shared by parties, the order's client and
supplier); its history and evidence carry the parties' columns copied from it (derived).
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, SharedByParties

PARTIES = ("client_organization_id", "supplier_organization_id")
MONEY = {"max_digits": 15, "decimal_places": 3}


class DisputeStatus(models.TextChoices):
    CREATED = "created", "Created"
    UNDER_REVIEW = "under_review", "Under review"
    AWAITING_RESPONSE = "awaiting_response", "Awaiting response"
    IN_MEDIATION = "in_mediation", "In mediation"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A dispute in one of these no longer stops another about the same order.
ENDED = (DisputeStatus.CLOSED, DisputeStatus.WITHDRAWN)


class ReasonCategory(models.TextChoices):
    NOT_DELIVERED = "not_delivered", "Not delivered"
    DAMAGED = "damaged", "Damaged"
    LATE = "late", "Late"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    DOCUMENTS = "documents", "Documents"
    PAYMENT = "payment", "Payment"
    OTHER = "other", "Other"


class Outcome(models.TextChoices):
    REFUND = "refund", "Refund"
    PARTIAL_REFUND = "partial_refund", "Partial refund"
    REDELIVERY = "redelivery", "Redelivery"
    OTHER = "other", "Other"


class Side(models.TextChoices):
    CLIENT = "client", "Client"
    SUPPLIER = "supplier", "Supplier"


class Dispute(TimeStampedModel):
    """One case about one order; both of the order's parties see it."""

    row_visibility = SharedByParties(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, help_text="Human-readable, unique in the organization that opened it.")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    order_number = models.CharField(max_length=32)
    # The order's escrow when there was one holding money at the opening (frozen then).
    escrow_id = models.UUIDField(null=True, blank=True)
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    client_organization_name = models.CharField(max_length=200)
    supplier_organization_name = models.CharField(max_length=200)
    # Which party opened the case (the claimant); the other responds. The number is the opener's.
    opened_by_side = models.CharField(max_length=8, choices=Side.choices)
    opened_by_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason_category = models.CharField(max_length=20, choices=ReasonCategory.choices)
    description = models.TextField()
    amount_claimed = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3)
    outcome_requested = models.CharField(max_length=16, choices=Outcome.choices)
    status = models.CharField(max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.CREATED)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # The side whose answer is awaited, and by when (the counterparty at the opening; the side
    # the mediator asks later).
    response_side = models.CharField(max_length=8, choices=Side.choices, blank=True)
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_reminded_at = models.DateTimeField(null=True, blank=True)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mediator_assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A resolved case closes by itself then, unless a party appealed (staff close it after review).
    appeal_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["opened_by_organization", "number"], name="dispute_opener_number_unique"),
            # One case at a time about an order.
            models.UniqueConstraint(
                fields=["order"], condition=~Q(status__in=["closed", "withdrawn"]), name="dispute_one_open_per_order"
            ),
            models.CheckConstraint(
                condition=Q(amount_claimed__isnull=True) | Q(amount_claimed__gt=0), name="dispute_claim_positive"
            ),
        ]
        indexes = [
            # One per party, in the list's order (apps/core/visibility.py party_page).
            models.Index(fields=["client_organization", "created_at", "id"], name="dispute_client_created_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="dispute_supplier_created_idx"),
            models.Index(fields=["supplier_organization", "client_organization"], name="dispute_supplier_client_idx"),
            # The deadline sweep: cases waiting for an answer.
            models.Index(
                fields=["response_due_at"],
                condition=Q(status__in=["created", "awaiting_response"]),
                name="dispute_response_due_idx",
            ),
            # The closing sweep: resolved cases past their appeal window.
            models.Index(fields=["appeal_until"], condition=Q(status="resolved"), name="dispute_appeal_until_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def organization_of(self, side: str):
        return self.client_organization_id if side == Side.CLIENT else self.supplier_organization_id

    def side_of(self, organization_id) -> str | None:
        """Which side the organization is on ("client" or "supplier"), or None."""
        if str(organization_id) == str(self.client_organization_id):
            return Side.CLIENT
        if str(organization_id) == str(self.supplier_organization_id):
            return Side.SUPPLIER
        return None


class DisputeStatusChange(StatusChange):
    """A dispute's history: one row per move, written by `move()`."""

    row_visibility = Derived(*PARTIES)
    subject = "dispute"

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["dispute", "at"], name="dispute_history_idx")]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }


class EvidenceKind(models.TextChoices):
    STATEMENT = "statement", "Statement"
    FILE = "file", "File"
    LINK = "link", "Link to a record of the platform"


class LinkedRecord(models.TextChoices):
    TRACKING_EVENT = "tracking_event", "Tracking event"
    DOCUMENT = "document", "Document"
    CHAT_MESSAGE = "chat_message", "Chat message"
    RETURN_PHOTO = "return_photo", "Return photo"


def evidence_path(evidence: DisputeEvidence, filename: str) -> str:
    # Our own name: the uploader's file name is kept only as data (`filename`).
    suffix = PurePosixPath(filename).suffix.lower()
    return f"disputes/{evidence.client_organization_id}/{evidence.dispute_id}/{evidence.id}{suffix}"


def preview_path(evidence: DisputeEvidence, filename: str) -> str:
    return f"disputes/{evidence.client_organization_id}/{evidence.dispute_id}/{evidence.id}.preview.png"


class PreviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    NONE = "none", "No preview for this type"
    FAILED = "failed", "Failed"


class DisputeEvidence(models.Model):
    """What a party or staff put before the mediator; never changed once added."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="evidence")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=EvidenceKind.choices)
    # Who put it there: a side of the order, or "staff".
    added_by_side = models.CharField(max_length=8)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    statement = models.TextField(blank=True)
    file = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    linked_type = models.CharField(max_length=16, choices=LinkedRecord.choices, blank=True)
    linked_id = models.UUIDField(null=True, blank=True)
    # What the linked record said when it was linked (it may change or go later).
    linked_summary = models.JSONField(default=dict, blank=True)
    # A picture of the file for the mediation page, rendered off the request by a worker.
    preview = models.FileField(upload_to=preview_path, max_length=300, blank=True)
    preview_status = models.CharField(max_length=8, choices=PreviewStatus.choices, blank=True)
    # When a worker was last asked to draw it: a preview pending long after is asked for again.
    preview_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["dispute", "created_at"], name="dispute_evidence_idx"),
            # The resubmit job: previews still waiting for a worker.
            models.Index(
                fields=["preview_requested_at"],
                condition=Q(preview_status="pending"),
                name="dispute_preview_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.dispute_id}"


class ResolutionKind(models.TextChoices):
    PROPOSAL = "proposal", "Proposal"
    DECISION = "decision", "Decision"


class ResolutionOutcome(models.TextChoices):
    RELEASE = "release", "Release to the supplier"
    REFUND = "refund", "Refund to the client"
    SPLIT = "split", "Split between them"


class Answer(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class DisputeResolution(models.Model):
    """What the mediator proposes or decides about the held money; the parties' answers.

    A proposal moves nothing: when both parties accept it, it becomes the decision. A decision
    is executed once (at most one per case, a partial unique constraint): the escrow releases
    and refunds its amounts, which add up to what it held; without escrow it records the
    decision only. A party rejecting a decision within the appeal window appeals it."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="resolutions")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=ResolutionKind.choices)
    outcome = models.CharField(max_length=8, choices=ResolutionOutcome.choices)
    release_amount = models.DecimalField(**MONEY)
    refund_amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The proposal a decision came from (accepted by both parties), if any.
    proposal = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Whether the decision moved escrowed money (False: paid outside escrow, recorded only).
    escrow_moved = models.BooleanField(default=False)
    client_answer = models.CharField(max_length=8, choices=Answer.choices, blank=True)
    client_answered_at = models.DateTimeField(null=True, blank=True)
    supplier_answer = models.CharField(max_length=8, choices=Answer.choices, blank=True)
    supplier_answered_at = models.DateTimeField(null=True, blank=True)
    # A later proposal or a decision replaced this proposal.
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Money moves once: one decision per case, whoever submits it and however often.
            models.UniqueConstraint(fields=["dispute"], condition=Q(kind="decision"), name="dispute_one_decision"),
            models.CheckConstraint(
                condition=Q(release_amount__gte=0) & Q(refund_amount__gte=0), name="dispute_resolution_amounts"
            ),
        ]
        indexes = [models.Index(fields=["dispute", "created_at"], name="dispute_resolution_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"

    def answer_of(self, side: str) -> str:
        return self.client_answer if side == Side.CLIENT else self.supplier_answer

    @property
    def accepted_by_both(self) -> bool:
        return self.client_answer == Answer.ACCEPTED and self.supplier_answer == Answer.ACCEPTED

    @property
    def rejected(self) -> bool:
        return Answer.REJECTED in (self.client_answer, self.supplier_answer)
