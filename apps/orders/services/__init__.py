"""Writes of the orders context, one module per group of use cases; import them from here."""

# The states other contexts pass to and compare with these services (escrow sets the payment status).
from apps.orders.models import OrderStatus, PaymentStatus
from apps.orders.services.files import Upload
from apps.orders.services.orders import (
    Actor,
    ItemInput,
    OrderInput,
    order_cancel,
    order_cancel_by_system,
    order_change_status,
    order_create,
    order_move_by_system,
    order_set_payment_status,
)
from apps.orders.services.packages import package_change_status
from apps.orders.services.platform import (
    PlatformOrderInput,
    platform_order_check,
    platform_order_update,
    platform_orders_create,
    platform_status_follows,
)
from apps.orders.services.purchases import (
    AssistedPurchaseResult,
    assisted_purchase_create,
    order_quote,
    order_record_purchase,
    self_purchase_create,
)
from apps.orders.services.receiving import Measurements, ReceiveResult, normalize_tracking_number, warehouse_receive
from apps.orders.services.returns import ReturnItemInput, return_change_status, return_request
from apps.orders.services.shipments import shipment_update
from apps.orders.services.warehouses import (
    WAREHOUSE_FIELDS,
    WAREHOUSE_PERMISSION,
    warehouse_assign_staff,
    warehouse_create,
    warehouse_update,
)

__all__ = [
    "WAREHOUSE_FIELDS",
    "WAREHOUSE_PERMISSION",
    "Actor",
    "AssistedPurchaseResult",
    "ItemInput",
    "Measurements",
    "OrderInput",
    "OrderStatus",
    "PaymentStatus",
    "PlatformOrderInput",
    "ReceiveResult",
    "ReturnItemInput",
    "Upload",
    "assisted_purchase_create",
    "normalize_tracking_number",
    "order_cancel",
    "order_cancel_by_system",
    "order_change_status",
    "order_create",
    "order_move_by_system",
    "order_quote",
    "order_record_purchase",
    "order_set_payment_status",
    "package_change_status",
    "platform_order_check",
    "platform_order_update",
    "platform_orders_create",
    "platform_status_follows",
    "return_change_status",
    "return_request",
    "self_purchase_create",
    "shipment_update",
    "warehouse_assign_staff",
    "warehouse_create",
    "warehouse_receive",
    "warehouse_update",
]
