"""The structured shipment of a freight order (what a CMR, a bill of lading or a packing list
is filled from) and its amendments after loading.

Parties, places, the route and the cargo lines are JSON values, shaped and checked by
apps/orders/shipment_schema.py: each is a snapshot written on the shipment (a CMR shows the
consignee as it was agreed, not as an address book says later), read and replaced whole,
never queried on its own, and an amendment keeps its old and new value as one JSON value.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.rls import Derived
from apps.orders.models import PARTIES


class Incoterms(models.TextChoices):
    """Incoterms 2020."""

    EXW = "EXW", "Ex Works"
    FCA = "FCA", "Free Carrier"
    CPT = "CPT", "Carriage Paid To"
    CIP = "CIP", "Carriage and Insurance Paid To"
    DAP = "DAP", "Delivered at Place"
    DPU = "DPU", "Delivered at Place Unloaded"
    DDP = "DDP", "Delivered Duty Paid"
    FAS = "FAS", "Free Alongside Ship"
    FOB = "FOB", "Free on Board"
    CFR = "CFR", "Cost and Freight"
    CIF = "CIF", "Cost, Insurance and Freight"


class PaymentInstructions(models.TextChoices):
    CARRIAGE_PAID = "carriage_paid", "Carriage paid"
    CARRIAGE_FORWARD = "carriage_forward", "Carriage forward"


class Shipment(TimeStampedModel):
    """One per freight order: who sends what to whom, from where to where, on which terms."""

    # The order's parties are copied onto the row: row-level security reads it alone.
    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="shipment")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    # Parties (CMR boxes 1, 2, 16, 17; the notify party of a bill of lading).
    shipper = models.JSONField(default=dict, blank=True)
    consignee = models.JSONField(default=dict, blank=True)
    notify_party = models.JSONField(default=dict, blank=True)
    carrier = models.JSONField(default=dict, blank=True)
    successive_carriers = models.JSONField(default=list, blank=True)
    # Places and times (CMR boxes 3 and 4) and the route between them.
    taking_over = models.JSONField(default=dict, blank=True)
    delivery = models.JSONField(default=dict, blank=True)
    route = models.JSONField(default=list, blank=True)
    # Cargo (CMR boxes 6-12).
    cargo_lines = models.JSONField(default=list, blank=True)
    incoterms = models.CharField(max_length=3, choices=Incoterms.choices, blank=True)
    incoterms_place = models.CharField(max_length=200, blank=True)
    # Instructions (CMR boxes 13-15, 19).
    sender_instructions = models.TextField(blank=True)
    payment_instructions = models.CharField(max_length=16, choices=PaymentInstructions.choices, blank=True)
    cash_on_delivery = models.JSONField(null=True, blank=True)  # {amount, currency}; None: none
    special_agreements = models.TextField(blank=True)
    customer_reference = models.CharField(max_length=64, blank=True)
    booking_reference = models.CharField(max_length=64, blank=True)
    # The carrier's part (CMR box 18 and the vehicle).
    vehicle_plate = models.CharField(max_length=20, blank=True)
    trailer_plate = models.CharField(max_length=20, blank=True)
    driver_name = models.CharField(max_length=200, blank=True)
    carrier_reservations = models.TextField(blank=True)
    carrier_observations = models.TextField(blank=True)
    # Proof of delivery: who took the goods over at the place of delivery, and when (CMR box 24).
    # The carrier says it; the move to `delivered` records the time if it did not.
    received_by = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"shipment of {self.order_id}"


class ShipmentAmendment(models.Model):
    """A change to a shipment after loading: who, when, which fields, their old and new values."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="amendments")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    acting_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amended_at = models.DateTimeField(auto_now_add=True)
    # The order's status when it was made (in_transit, delivered): which stage it amends.
    order_status = models.CharField(max_length=24)
    changed_fields = ArrayField(models.CharField(max_length=64))
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)

    class Meta:
        ordering = ["amended_at", "id"]

    def __str__(self) -> str:
        return f"amendment of {self.shipment_id}: {', '.join(self.changed_fields)}"
