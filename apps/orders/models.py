"""Orders of every kind, shared by their two party organizations, and warehouses."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned, SharedByParties

PARTIES = ("client_organization_id", "supplier_organization_id")


class OrderKind(models.TextChoices):
    FREIGHT = "freight", "Freight (from an awarded RFQ)"
    ASSISTED_PURCHASE = "assisted_purchase", "Assisted purchase"
    SELF_PURCHASE = "self_purchase", "Self purchase"
    PLATFORM = "platform", "E-commerce platform"


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    # Assisted purchase only, before the common shipping states.
    REQUESTED = "requested", "Requested"
    QUOTED = "quoted", "Quoted"
    PAID = "paid", "Paid"
    PURCHASED = "purchased", "Purchased"
    RECEIVED_AT_WAREHOUSE = "received_at_warehouse", "Received at the warehouse"
    # Every kind.
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PENDING = "pending", "Payment pending"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class Warehouse(TimeStampedModel):
    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="warehouses")
    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=32, help_text="Short code, unique in the organization (e.g. HAM-1).")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    city = models.CharField(max_length=100)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="warehouse_org_code_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class OrderNumberSequence(models.Model):
    """The last order number an organization gave out in a year (locked while numbering)."""

    row_visibility = Owned()

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="order_number_sequence_org_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}: {self.last_value}"


class Order(TimeStampedModel):
    """One order of any kind; both party organizations see it (row-level security)."""

    row_visibility = SharedByParties(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, help_text="Human-readable, unique in the client organization.")
    kind = models.CharField(max_length=20, choices=OrderKind.choices)
    status = models.CharField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID)
    client_organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="orders_as_client"
    )
    supplier_organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, related_name="orders_as_supplier"
    )
    # The parties' names when the order was made. Row-level security does not let one
    # party read the other's organization row, and an order shows the names it was made with.
    client_organization_name = models.CharField(max_length=200)
    supplier_organization_name = models.CharField(max_length=200)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="outgoing_orders"
    )
    destination_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="incoming_orders"
    )
    shipping_address = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    metadata = models.JSONField(default=dict, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["client_organization", "number"], name="order_client_number_unique")
        ]
        indexes = [
            models.Index(fields=["client_organization", "created_at"], name="order_client_created_idx"),
            models.Index(fields=["supplier_organization", "created_at"], name="order_supplier_created_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    # The order's parties are copied onto the row: row-level security reads it alone.
    row_visibility = Derived(*PARTIES)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class OrderStatusChange(models.Model):
    """The order's history: one row per status change, written by the service that changes it."""

    row_visibility = Derived(*PARTIES)

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acting_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"
