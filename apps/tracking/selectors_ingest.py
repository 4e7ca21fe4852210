"""Reads of ingest and devices: the tracked shipment of an order or a package, an
organization's devices and their assignments. Row-level security limits each to the tenant;
the filters say the organization again (never a lookup by a caller's id alone)."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.tracking import selectors_alerts
from apps.tracking.models import Device, DeviceAssignment

# The tracked shipment of an order or a package for a party (404 otherwise): one lookup for
# ingest, devices and alerts.
tracked_shipment_of = selectors_alerts.tracked_shipment_of


def device_list(*, organization_id: UUID, created_by_id: UUID | None = None) -> QuerySet[Device]:
    """The organization's devices, by name (with an `:own` grant: those the user registered)."""
    queryset = Device.objects.filter(organization_id=organization_id)
    if created_by_id is not None:
        queryset = queryset.filter(created_by_id=created_by_id)
    return queryset.order_by("name", "id")


def device_get(*, organization_id: UUID, device_id: UUID, created_by_id: UUID | None = None) -> Device:
    device = device_list(organization_id=organization_id, created_by_id=created_by_id).filter(pk=device_id).first()
    if device is None:
        raise NotFound("Device not found.")
    return device


def assignment_list(*, device: Device) -> QuerySet[DeviceAssignment]:
    """The device's assignments, latest window first, with their shipments."""
    return (
        DeviceAssignment.objects.filter(organization_id=device.organization_id, device=device)
        .select_related("shipment")
        .order_by("-valid_from", "-id")
    )
