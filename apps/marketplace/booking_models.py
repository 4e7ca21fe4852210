"""Bookings of instant quotes: a shipper takes a quote at its price, the carrier confirms or
declines (or lets it expire). Imported by apps.marketplace.models so Django registers them.

A booking is shared by its two parties, the shipper that booked and the carrier of the quoted
offering; no other tenant sees it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, SharedByParties

BOOKING_PARTIES = ("shipper_organization_id", "carrier_organization_id")


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending the carrier's confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled with its order"


class Booking(TimeStampedModel):
    """A shipper's booking of one instant quote, and the freight order it made.

    The price and currency are the quote's, copied: a tariff changed after the quote does not
    change them. The quote record is named by id only: records are deleted a day after they
    were made (`marketplace-delete-old-quotes`), the booking stays."""

    row_visibility = SharedByParties(*BOOKING_PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, help_text="BKG-YYYY-NNNNNN, unique in the shipper's organization.")
    shipper_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    carrier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Copied: row-level security lets neither party read the other's organization row.
    shipper_organization_name = models.CharField(max_length=200)
    carrier_organization_name = models.CharField(max_length=200)
    quote_record_id = models.UUIDField()
    offering_id = models.UUIDField()
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(max_digits=15, decimal_places=3)  # the order's width; 3 places: KWD
    currency = models.CharField(max_length=3)
    transit_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    expires_at = models.DateTimeField(help_text="Unconfirmed by then, the booking expires and its order is cancelled.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shipper_organization", "number"], name="booking_shipper_number_unique"),
            # A quote is booked once: its price holds for one order.
            models.UniqueConstraint(
                fields=["shipper_organization", "quote_record_id"], name="booking_shipper_quote_unique"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="booking_price_not_negative"),
        ]
        indexes = [
            # The list's order with its tie-breaker, one per party (apps/core/visibility.py).
            models.Index(fields=["shipper_organization", "created_at", "id"], name="booking_shipper_created_id_idx"),
            models.Index(fields=["carrier_organization", "created_at", "id"], name="booking_carrier_created_id_idx"),
            # The expiry job looks for pending bookings past their time.
            models.Index(fields=["expires_at"], name="booking_pending_expires_idx", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return self.number


class BookingStatusChange(StatusChange):
    """A booking's history: one row per move, written by `move()`."""

    row_visibility = Derived(*BOOKING_PARTIES)
    subject = "booking"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="status_changes")
    shipper_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    carrier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["shipper_organization", "booking"], name="booking_change_shipper_idx"),
            models.Index(fields=["carrier_organization", "booking"], name="booking_change_carrier_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "shipper_organization_id": subject.shipper_organization_id,
            "carrier_organization_id": subject.carrier_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_status or '-'} -> {self.to_status}"
