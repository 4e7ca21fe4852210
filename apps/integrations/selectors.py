"""Reads of platform integrations, for the API and the back-office: the organization's shops, their
sync log, what could not be imported, the probable duplicates, the billing records and the platform
orders (the binder's links) with their billing records and fulfilment pushes.

Every read names the organization it is for: row-level security already limits the rows to the
current tenant, and the explicit filter keeps a read by a user-supplied id from ever reaching
another organization's row (404, as RLS would answer). Each list is ordered by columns that end
with the primary key, so the API pages it by cursor too."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from apps.core.errors import NotFound
from apps.integrations.credentials import credential_summary, credentials_open
from apps.integrations.models import (
    BillingRecord,
    DuplicateFlag,
    PlatformConfiguration,
    PlatformOrderLink,
    QuarantinedOrder,
    StatusPush,
    SyncRun,
)

# What the platform-order list shows: the raw payload (up to a platform's whole order) is left
# unread, the detail has no use for it either.
LINK_COLUMNS = (
    "id",
    "organization_id",
    "configuration_id",
    "platform",
    "shop_id",
    "external_id",
    "order_id",
    "order_number",
    "platform_status",
    "mapped_status",
    "platform_created_at",
    "platform_updated_at",
    "total_amount",
    "currency",
    "is_paid",
    "tracking_number",
    "carrier",
    "imported_at",
    "changed_at",
)


def configuration_credential_summary(configuration: PlatformConfiguration) -> dict[str, str]:
    """The shop's credentials as they may be shown: field names, values masked (never a value)."""
    return credential_summary(credentials_open(configuration.credentials_encrypted))


def configuration_list(*, organization_id: UUID) -> QuerySet[PlatformConfiguration]:
    return PlatformConfiguration.objects.filter(organization_id=organization_id).order_by("-created_at", "-id")


def configuration_get(*, organization_id: UUID, configuration_id: UUID) -> PlatformConfiguration:
    configuration = PlatformConfiguration.objects.filter(organization_id=organization_id, pk=configuration_id).first()
    if configuration is None:
        raise NotFound("Platform configuration not found.")
    return configuration


def sync_run_list(*, organization_id: UUID, configuration_id: UUID) -> QuerySet[SyncRun]:
    """The sync log of one shop, newest run first (404 for a shop that is not the organization's)."""
    configuration = configuration_get(organization_id=organization_id, configuration_id=configuration_id)
    return SyncRun.objects.filter(organization_id=organization_id, configuration=configuration).order_by(
        "-started_at", "-id"
    )


def quarantine_list(*, organization_id: UUID) -> QuerySet[QuarantinedOrder]:
    return QuarantinedOrder.objects.filter(organization_id=organization_id).order_by("-last_seen_at", "-id")


def duplicate_list(*, organization_id: UUID) -> QuerySet[DuplicateFlag]:
    """Probable cross-platform duplicates, newest first, each with its two platform orders."""
    return (
        DuplicateFlag.objects.filter(organization_id=organization_id)
        .select_related("link", "other_link")
        .defer("link__raw_payload", "other_link__raw_payload")
        .order_by("-flagged_at", "-id")
    )


def billing_record_list(*, organization_id: UUID) -> QuerySet[BillingRecord]:
    return BillingRecord.objects.filter(organization_id=organization_id).order_by("-issued_at", "-id")


def platform_order_list(*, organization_id: UUID) -> QuerySet[PlatformOrderLink]:
    return (
        PlatformOrderLink.objects.filter(organization_id=organization_id)
        .only(*LINK_COLUMNS)
        .order_by("-platform_created_at", "-id")
    )


def platform_order_get(*, organization_id: UUID, order_id: UUID) -> PlatformOrderLink:
    """The platform order bound to our order `order_id`, with its billing records and pushes."""
    link = (
        PlatformOrderLink.objects.filter(organization_id=organization_id, order_id=order_id)
        .only(*LINK_COLUMNS)
        .prefetch_related(
            Prefetch("billing_records", queryset=BillingRecord.objects.order_by("issued_at", "id")),
            Prefetch("pushes", queryset=StatusPush.objects.order_by("-created_at", "-id")),
        )
        .first()
    )
    if link is None:
        raise NotFound("Platform order not found.")
    return link
