"""Orders of every kind, shared by their two party organizations, and warehouses."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models

from apps.core.lifecycle import StatusChange
from apps.core.models import TimeStampedModel
from apps.core.rls import Derived, Owned, SharedByParties

PARTIES = ("client_organization_id", "supplier_organization_id")


class OrderKind(models.TextChoices):
    FREIGHT = "freight", "Freight (from an awarded RFQ)"
    ASSISTED_PURCHASE = "assisted_purchase", "Assisted purchase"
    SELF_PURCHASE = "self_purchase", "Self purchase"
    PLATFORM = "platform", "E-commerce platform"
    # The payment side of a priced service order (apps/service): made when an expert takes it,
    # paid through escrow, moved by the service order (never by hand).
    SERVICE = "service", "Field service (a priced service order)"


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
        # Granted per warehouse (django-guardian) to the warehouse staff who work there.
        permissions = [("work_at_warehouse", "Work at this warehouse (receive, see its packages)")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


def purchase_invoice_path(order: Order, filename: str) -> str:
    # Our own name: the client's file name is kept only as data (purchase_invoice_filename).
    return f"orders/{order.client_organization_id}/{order.id}/invoice{PurePosixPath(filename).suffix.lower()}"


def return_photo_path(photo: ReturnPhoto, filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return f"returns/{photo.client_organization_id}/{photo.order_return_id}/{photo.id}{suffix}"


class Product(TimeStampedModel):
    """A product a forwarder was asked to buy (assisted purchase), as found at its shop."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    external_url = models.URLField(max_length=2000)
    title = models.CharField(max_length=300, blank=True)
    # Unknown until the purchase agent quotes.
    price = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    source_platform = models.CharField(max_length=32, help_text="e.g. amazon_de; 'other' for unknown shops.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "created_at"], name="product_org_created_idx")]

    def __str__(self) -> str:
        return self.title or self.external_url


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
    total_amount = models.DecimalField(max_digits=15, decimal_places=3, default=0)
    metadata = models.JSONField(default=dict, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    # Parcel forwarding: what an arriving parcel is matched by, and who buys (assisted purchase).
    product = models.ForeignKey("orders.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    purchase_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_tracking_number = models.CharField(max_length=64, blank=True)
    declared_value = models.DecimalField(max_digits=15, decimal_places=3, null=True, blank=True)
    purchase_invoice = models.FileField(upload_to=purchase_invoice_path, max_length=300, blank=True)
    purchase_invoice_filename = models.CharField(max_length=255, blank=True)
    purchase_invoice_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["client_organization", "number"], name="order_client_number_unique"),
            # The forwarder (supplier side) matches arriving parcels by this number.
            models.UniqueConstraint(
                fields=["supplier_organization", "external_tracking_number"],
                condition=~models.Q(external_tracking_number=""),
                name="order_supplier_tracking_unique",
            ),
        ]
        indexes = [
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["client_organization", "created_at", "id"], name="order_client_created_id_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="order_supplier_created_id_idx"),
            # Both party columns in each: the list's COUNT (client = X OR supplier = X, and the
            # row-level security policy on the same columns) is answered from the indexes.
            models.Index(fields=["client_organization", "supplier_organization"], name="order_client_supplier_idx"),
            models.Index(fields=["supplier_organization", "client_organization"], name="order_supplier_client_idx"),
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
    unit_price = models.DecimalField(max_digits=15, decimal_places=3)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class OrderStatusChange(StatusChange):
    """The order's history: one row per status change, written by `move()`."""

    row_visibility = Derived(*PARTIES)
    subject = "order"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    acting_organization = models.ForeignKey(
        "tenancy.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"


class PackageStatus(models.TextChoices):
    AT_WAREHOUSE = "at_warehouse", "At the warehouse"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"


class Package(TimeStampedModel):
    """A physical parcel of an order, created when a warehouse receives it."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="packages")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    tracking_number = models.CharField(max_length=64)
    weight_g = models.PositiveIntegerField()
    length_cm = models.PositiveIntegerField()
    width_cm = models.PositiveIntegerField()
    height_cm = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=PackageStatus.choices, default=PackageStatus.AT_WAREHOUSE)
    # The warehouse that holds the package, or last held it once it left (status in_transit on).
    current_warehouse = models.ForeignKey(
        Warehouse, null=True, blank=True, on_delete=models.PROTECT, related_name="packages"
    )
    # Where the package was last said to be, in words (set with each move: "Hamburg hub",
    # "Berlin sorting centre"); the tracked position, if any, is tracking's.
    current_location = models.CharField(max_length=300, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    estimated_delivery_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Unique within the forwarder: a global constraint would tell one tenant that
            # another holds a number (DESIGN.md §3).
            models.UniqueConstraint(
                fields=["supplier_organization", "tracking_number"], name="package_supplier_tracking_unique"
            )
        ]
        indexes = [
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["client_organization", "received_at", "id"], name="package_client_recv_id_idx"),
            models.Index(fields=["supplier_organization", "received_at", "id"], name="package_supplier_recv_id_idx"),
        ]

    def __str__(self) -> str:
        return self.tracking_number


class PackageStatusChange(StatusChange):
    """A package's history: one row per move (at the warehouse, in transit, out for delivery,
    delivered), written by `move()`."""

    row_visibility = Derived(*PARTIES)
    subject = "package"

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    location = models.CharField(max_length=300, blank=True)

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["client_organization", "package"], name="package_change_client_idx"),
            models.Index(fields=["supplier_organization", "package"], name="package_change_supplier_idx"),
        ]

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.package_id}: {self.from_status or '-'} -> {self.to_status}"


class UnmatchedArrival(TimeStampedModel):
    """A parcel a warehouse received that no order names: kept for staff, never dropped."""

    row_visibility = Owned()

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="unmatched_arrivals")
    tracking_number = models.CharField(max_length=64)
    weight_g = models.PositiveIntegerField()
    length_cm = models.PositiveIntegerField()
    width_cm = models.PositiveIntegerField()
    height_cm = models.PositiveIntegerField()
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why it could not be matched: no order names the number, or the order it names cannot
    # take a parcel now (e.g. cancelled).
    note = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "tracking_number"], name="unmatched_arrival_org_tracking_unique"
            )
        ]

    def __str__(self) -> str:
        return self.tracking_number


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received back"
    REFUNDED = "refunded", "Refunded"


class OrderReturn(TimeStampedModel):
    """A return of some items of a delivered order; both parties see it."""

    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.TextField()
    rejection_reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The lists' order with its tie-breaker, one per party: each arm of the list's UNION ALL
            # walks one in order (apps/core/visibility.py, docs/decisions/0004-two-party-lists.md).
            models.Index(fields=["client_organization", "created_at", "id"], name="return_client_created_id_idx"),
            models.Index(fields=["supplier_organization", "created_at", "id"], name="return_supplier_created_id_idx"),
        ]

    def __str__(self) -> str:
        return f"return {self.id} of {self.order_id}"


class ReturnItem(models.Model):
    row_visibility = Derived(*PARTIES)

    order_return = models.ForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="+")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_item_id}"


class ReturnPhoto(models.Model):
    row_visibility = Derived(*PARTIES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_return = models.ForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="photos")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=return_photo_path, max_length=300)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_filename


class ReturnStatusChange(StatusChange):
    """A return's history: one row per move, written by `move()`."""

    row_visibility = Derived(*PARTIES)
    subject = "order_return"

    order_return = models.ForeignKey(OrderReturn, on_delete=models.CASCADE, related_name="status_changes")
    client_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    supplier_organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")

    @classmethod
    def fields_of(cls, subject) -> dict:
        return {
            "client_organization_id": subject.client_organization_id,
            "supplier_organization_id": subject.supplier_organization_id,
        }

    def __str__(self) -> str:
        return f"{self.order_return_id}: {self.from_status or '-'} -> {self.to_status}"


# The shipment is part of the freight order aggregate; its models live beside, imported here so
# Django registers them with the app.
from apps.orders.shipment_models import (  # noqa: E402, F401
    Incoterms,
    PaymentInstructions,
    Shipment,
    ShipmentAmendment,
)
