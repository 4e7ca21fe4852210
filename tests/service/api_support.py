"""Helpers of the field-service API tests: the URLs, a matching result written as matching
would (the scorer is another piece of work: the API only reads its rows), what the database
holds, query counts, and files to upload."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.service.models import MatchingResult, ServiceOrder
from tests.passports.api_support import pdf, png, upload

EXPERTS = "/api/v1/experts"
ORDERS = "/api/v1/service-orders"
BREAKDOWN = {
    "skill": "0.3500",
    "distance": "0.2000",
    "availability": "0.1500",
    "rating": "0.1000",
    "urgency": "0.0800",
    "membership": "0.0100",
}

__all__ = ["BREAKDOWN", "EXPERTS", "ORDERS", "match", "pdf", "png", "query_count", "stored_order", "upload"]


def match(order, expert, *, rank: int = 1, offer_status: str = "NONE", breakdown: dict | None = None):
    """A scored candidate of `order`, as matching stores it (a live offer with OFFERED)."""
    breakdown = breakdown or BREAKDOWN
    with system_scope(reason="test: a matching result"):
        return MatchingResult.objects.create(
            organization_id=order.organization_id,
            target_organization_id=expert.organization_id,
            source_id=order.id,
            target_id=expert.id,
            target_user_id=expert.user_id,
            score=sum(Decimal(share) for share in breakdown.values()),
            breakdown=breakdown,
            rank=rank,
            distance_km=Decimal("3.20"),
            offer_status=offer_status,
            offer_round=1 if offer_status != "NONE" else 0,
            offered_at=timezone.now() if offer_status != "NONE" else None,
            summary={"title": order.title, "urgency": order.urgency, "address": order.address},
        )


def stored_order(organization, order_id) -> ServiceOrder | None:
    with tenant_scope(organization.id):
        return ServiceOrder.objects.filter(id=order_id).first()


def query_count(client, url: str) -> tuple[int, dict]:
    """How many queries one GET of `url` runs, and its body."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.json()
    return len(queries.captured_queries), response.json()
