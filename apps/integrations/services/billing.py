"""Billing records of platform orders (seed 004 `billing_records`), for the point-of-sale and
billing side: an invoice when the order is imported, a payment when the platform says it is paid,
a refund when a paid order is cancelled (an unpaid one's invoice is voided instead). One of each
kind per order (a unique constraint), so a re-sync or a webhook writes each once."""

from __future__ import annotations

from datetime import datetime

from apps.core.services import number_next, numbers_take
from apps.integrations.models import BillingKind, BillingRecord, BillingStatus, PlatformOrderLink

CANCELLED = "cancelled"
PREFIXES = {BillingKind.INVOICE: "INV", BillingKind.PAYMENT: "PAY", BillingKind.REFUND: "REF"}


def _issue(link: PlatformOrderLink, kind: str, *, now: datetime) -> None:
    if BillingRecord.objects.filter(link=link, kind=kind).exists():
        return
    BillingRecord.objects.create(
        organization_id=link.organization_id,
        link=link,
        order_id=link.order_id,
        kind=kind,
        number=number_next(organization_id=link.organization_id, name=f"billing_{kind.lower()}", prefix=PREFIXES[kind]),
        amount=link.total_amount,
        currency=link.currency,
        issued_at=now,
        external_reference=f"{link.platform}:{link.external_id}",
    )


def billing_follow_order(link: PlatformOrderLink, *, status: str, was_paid: bool, now: datetime) -> None:
    """Write the records the order's new state calls for (`status` ours, "" when unchanged)."""
    _issue(link, BillingKind.INVOICE, now=now)
    if link.is_paid and not was_paid:
        _issue(link, BillingKind.PAYMENT, now=now)
    if status == CANCELLED:
        if link.is_paid:
            _issue(link, BillingKind.REFUND, now=now)
        else:
            BillingRecord.objects.filter(link=link, kind=BillingKind.INVOICE, status=BillingStatus.ISSUED).update(
                status=BillingStatus.VOID
            )


def billing_for_new_orders(links: list[PlatformOrderLink], *, statuses: list[str], now: datetime) -> None:
    """The records of a page of newly imported orders at once: each an invoice (void when it came
    cancelled unpaid), a payment when paid, a refund when paid and cancelled."""
    if not links:
        return
    wanted: dict[str, list[tuple[PlatformOrderLink, str]]] = {kind: [] for kind in PREFIXES}
    for link, status in zip(links, statuses, strict=True):
        cancelled = status == CANCELLED
        invoice_status = BillingStatus.VOID if cancelled and not link.is_paid else BillingStatus.ISSUED
        wanted[BillingKind.INVOICE].append((link, invoice_status))
        if link.is_paid:
            wanted[BillingKind.PAYMENT].append((link, BillingStatus.ISSUED))
            if cancelled:
                wanted[BillingKind.REFUND].append((link, BillingStatus.ISSUED))
    organization_id = links[0].organization_id
    records = []
    for kind, rows in wanted.items():
        if not rows:
            continue
        numbers = numbers_take(
            organization_id=organization_id, name=f"billing_{kind.lower()}", prefix=PREFIXES[kind], count=len(rows)
        )
        records.extend(
            BillingRecord(
                organization_id=organization_id,
                link=link,
                order_id=link.order_id,
                kind=kind,
                number=number,
                amount=link.total_amount,
                currency=link.currency,
                status=status,
                issued_at=now,
                external_reference=f"{link.platform}:{link.external_id}",
            )
            for number, (link, status) in zip(numbers, rows, strict=True)
        )
    BillingRecord.objects.bulk_create(records)
