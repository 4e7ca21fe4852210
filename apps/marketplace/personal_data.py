"""What the marketplace holds about one person, for their personal data export
(docs/accounts.md, "Personal data"). Called inside the audited all-tenants scope.

An erasure changes nothing here: RFQs and offers are their organizations' records.
"""

from __future__ import annotations

from uuid import UUID

from apps.marketplace.models import Offer, Rfq


def rfqs_of_person(*, user_id: UUID) -> list[dict]:
    """RFQs the person created."""
    return list(
        Rfq.objects.filter(created_by_id=user_id)
        .order_by("created_at", "id")
        .values(
            "id",
            "number",
            "organization_id",
            "organization_name",
            "title",
            "status",
            "audience",
            "service_type",
            "currency",
            "declared_value",
            "deadline",
            "published_at",
            "created_at",
        )
    )


def offers_of_person(*, user_id: UUID) -> list[dict]:
    """Offers the person submitted."""
    return list(
        Offer.objects.filter(submitted_by_id=user_id)
        .order_by("created_at", "id")
        .values(
            "id",
            "rfq_id",
            "rfq_number",
            "carrier_organization_id",
            "carrier_organization_name",
            "status",
            "version",
            "price",
            "currency",
            "transit_days",
            "valid_until",
            "conditions",
            "created_at",
        )
    )
