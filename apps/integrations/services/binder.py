"""The binder: platform orders applied to our orders, once each.

`orders_apply` takes one page of raw platform orders (a sync's page, or the one order a webhook
names) and, in the caller's transaction and the organization's scope:
- maps each (the adapter's `normalize`); one that cannot be mapped is quarantined with the reason;
- takes a transaction lock per (configuration, external id), so a sync and a webhook applying the
  same order at once apply it one after the other;
- creates the order, its link, its billing records and `platform_order.imported` for an order never
  seen; updates the order and the link and publishes `platform_order.updated` for one that changed;
  writes nothing at all for one whose content hash is unchanged (a re-sync changes 0 rows; an
  update that only moved the platform's update time changes nothing we keep), nor for a copy
  older than the one applied (a sync's page read before a webhook's fresher fetch of the order,
  applied after it, must not take the order back);
- flags probable duplicates across platforms (the same customer, items and amount within
  INTEGRATIONS["DUPLICATE_WINDOW"]) for staff review; nothing is merged.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.errors import DomainError
from apps.core.services import outbox_publish, outbox_publish_many
from apps.integrations import events
from apps.integrations.adapters.base import MalformedOrder, NormalizedOrder, PlatformAdapter
from apps.integrations.models import DuplicateFlag, PlatformConfiguration, PlatformOrderLink, QuarantinedOrder
from apps.integrations.services.billing import billing_follow_order, billing_for_new_orders
from apps.orders.services import (
    ItemInput,
    PlatformOrderInput,
    platform_order_check,
    platform_order_update,
    platform_orders_create,
)

PENDING = "pending"


@dataclass
class ApplyResult:
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    order_ids: list[str] = field(default_factory=list)

    def add(self, other: ApplyResult) -> None:
        for name in ("fetched", "created", "updated", "unchanged", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _lock_key(configuration_id, external_id: str) -> int:
    digest = hashlib.sha256(f"integrations:{configuration_id}:{external_id}".encode()).digest()
    return struct.unpack(">q", digest[:8])[0]


def _lock(configuration_id, external_ids: Iterable[str]) -> None:
    """Transaction-level advisory locks, taken in one order (no deadlock between two pages)."""
    keys = sorted({_lock_key(configuration_id, external_id) for external_id in external_ids})
    if keys:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
                [keys],
            )


def customer_key(order: NormalizedOrder) -> str:
    """Who bought, hashed: the phone's last nine digits (the same number written +62 812… or
    0812…), else the e-mail; nothing when masked or missing (then never a duplicate of anyone).
    The phone first: the Asian marketplaces give it, and hide the e-mail more often."""
    phone = order.customer.phone or order.shipping_address.get("phone", "")
    digits = "".join(character for character in phone if character.isdigit())
    if len(digits) >= 9 and "*" not in phone:
        return hashlib.sha256(f"phone:{digits[-9:]}".encode()).hexdigest()
    email = order.customer.email.strip().lower()
    if email and "*" not in email:
        return hashlib.sha256(f"email:{email}".encode()).hexdigest()
    return ""


def items_key(order: NormalizedOrder) -> str:
    lines = sorted(f"{(item.sku or item.name).strip().lower()}x{item.quantity}" for item in order.items)
    return hashlib.sha256("|".join(lines).encode()).hexdigest()


def _order_metadata(configuration: PlatformConfiguration, order: NormalizedOrder) -> dict:
    return {
        "platform": configuration.platform,
        "shop_id": configuration.shop_id,
        "external_id": order.external_id,
        "platform_status": order.platform_status,
        "customer": {"name": order.customer.name, "email": order.customer.email, "phone": order.customer.phone},
    }


def _items(order: NormalizedOrder) -> list[ItemInput]:
    return [
        ItemInput(name=item.name, quantity=item.quantity, unit_price=item.unit_price, sku=item.sku)
        for item in order.items
    ]


def _quarantine(configuration: PlatformConfiguration, *, external_id: str, reason: str, raw: Mapping, now) -> None:
    row, created = QuarantinedOrder.objects.get_or_create(
        configuration=configuration,
        external_id=external_id[:128],
        defaults={
            "organization_id": configuration.organization_id,
            "reason": reason,
            "raw_payload": dict(raw),
            "first_seen_at": now,
            "last_seen_at": now,
        },
    )
    if not created:
        row.reason, row.raw_payload, row.last_seen_at, row.released_at = reason, dict(raw), now, None
        row.times_seen += 1
        row.save(update_fields=["reason", "raw_payload", "last_seen_at", "released_at", "times_seen"])


def _event(cls, configuration: PlatformConfiguration, link: PlatformOrderLink, status: str, **extra):
    return cls(
        organization_id=configuration.organization_id,
        order_id=str(link.order_id),
        number=link.order_number,
        platform=configuration.platform,
        shop_id=configuration.shop_id,
        external_id=link.external_id,
        configuration_id=str(configuration.id),
        status=status,
        platform_status=link.platform_status,
        **extra,
    )


@transaction.atomic
def orders_apply(
    *,
    configuration: PlatformConfiguration,
    adapter: PlatformAdapter,
    raws: list[Mapping[str, Any]],
    now: datetime | None = None,
) -> ApplyResult:
    """Apply one page of raw platform orders of `configuration` (see the module's docstring)."""
    now = now or timezone.now()
    result = ApplyResult(fetched=len(raws))
    latest: dict[str, NormalizedOrder] = {}
    for raw in raws:
        external_id = adapter.external_id_of(raw)
        try:
            order = adapter.normalize(raw)
        except MalformedOrder as error:
            _quarantine(configuration, external_id=external_id or "(no id)", reason=error.reason, raw=raw, now=now)
            result.quarantined += 1
            continue
        seen = latest.get(order.external_id)
        if seen is None or order.updated_at >= seen.updated_at:
            latest[order.external_id] = order
    if not latest:
        return result
    _lock(configuration.id, latest)
    links = {
        link.external_id: link
        for link in PlatformOrderLink.objects.filter(configuration=configuration, external_id__in=list(latest))
    }
    quarantined = set(
        QuarantinedOrder.objects.filter(
            configuration=configuration, external_id__in=list(latest), released_at__isnull=True
        ).values_list("external_id", flat=True)
    )
    new: list[tuple[NormalizedOrder, PlatformOrderInput, str]] = []
    applied_ids = []
    for external_id, order in latest.items():
        link = links.get(external_id)
        content_hash = order.content_hash()
        if link is not None and (link.content_hash == content_hash or order.updated_at < link.platform_updated_at):
            result.unchanged += 1
            continue
        try:
            if link is None:
                order_input = _input(configuration, order)
                platform_order_check(order_input)
                new.append((order, order_input, content_hash))
                continue
            with transaction.atomic():
                _update(configuration, link, order, content_hash=content_hash, now=now)
        except DomainError as error:  # amounts that do not fit the currency, for one
            _quarantine(configuration, external_id=external_id, reason=error.message, raw=order.raw, now=now)
            result.quarantined += 1
            continue
        result.updated += 1
        applied_ids.append(external_id)
        result.order_ids.append(str(link.order_id))
    if new:
        created = _create(configuration, new, now=now)
        result.created += len(created)
        applied_ids.extend(link.external_id for link in created)
        result.order_ids.extend(str(link.order_id) for link in created)
        _flag_duplicates(configuration, [(link, order) for link, (order, _, _) in zip(created, new, strict=True)])
    released = quarantined.intersection(applied_ids)
    if released:
        QuarantinedOrder.objects.filter(configuration=configuration, external_id__in=released).update(released_at=now)
    return result


def _input(configuration: PlatformConfiguration, order: NormalizedOrder) -> PlatformOrderInput:
    return PlatformOrderInput(
        organization_id=configuration.organization_id,
        currency=order.currency,
        items=_items(order),
        total_amount=order.total_amount,
        status=order.status or PENDING,
        shipping_address=dict(order.shipping_address),
        metadata=_order_metadata(configuration, order),
    )


def _create(
    configuration: PlatformConfiguration, new: list[tuple[NormalizedOrder, PlatformOrderInput, str]], *, now
) -> list[PlatformOrderLink]:
    """The page's new orders at once: orders (with their history, audit and order.created), links,
    billing records and platform_order.imported, each in one statement or a few."""
    orders = platform_orders_create(
        order_inputs=[order_input for _, order_input, _ in new],
        reason=f"Imported from {configuration.get_platform_display()}",
    )
    links = PlatformOrderLink.objects.bulk_create(
        PlatformOrderLink(
            organization_id=configuration.organization_id,
            configuration=configuration,
            platform=configuration.platform,
            shop_id=configuration.shop_id,
            external_id=order.external_id,
            order_id=created.id,
            order_number=created.number,
            platform_status=order.platform_status,
            mapped_status=order.status,
            platform_created_at=order.created_at,
            platform_updated_at=order.updated_at,
            currency=order.currency,
            total_amount=order.total_amount,
            is_paid=order.is_paid,
            customer_key=customer_key(order),
            items_key=items_key(order),
            content_hash=content_hash,
            raw_payload=dict(order.raw),
            imported_at=now,
            changed_at=now,
        )
        for created, (order, _, content_hash) in zip(orders, new, strict=True)
    )
    billing_for_new_orders(links, statuses=[created.status for created in orders], now=now)
    outbox_publish_many(
        [
            _event(events.PlatformOrderImported, configuration, link, created.status)
            for link, created in zip(links, orders, strict=True)
        ]
    )
    return links


def _update(
    configuration: PlatformConfiguration, link: PlatformOrderLink, order: NormalizedOrder, *, content_hash: str, now
) -> None:
    changed = platform_order_update(
        order_id=link.order_id,
        organization_id=configuration.organization_id,
        status=order.status,
        reason=f"{configuration.get_platform_display()} status {order.platform_status}",
        shipping_address=dict(order.shipping_address),
        metadata=_order_metadata(configuration, order),
        items=_items(order),
        total_amount=order.total_amount,
    )
    was_paid = link.is_paid
    if link.platform_status != order.platform_status:
        changed.append("platform_status")
    link.platform_status = order.platform_status
    link.mapped_status = order.status
    link.platform_updated_at = order.updated_at
    link.total_amount = order.total_amount
    link.is_paid = order.is_paid or was_paid
    link.customer_key = customer_key(order)
    link.items_key = items_key(order)
    link.content_hash = content_hash
    link.raw_payload = dict(order.raw)
    link.changed_at = now
    link.save()
    billing_follow_order(link, status=order.status, was_paid=was_paid, now=now)
    outbox_publish(_event(events.PlatformOrderUpdated, configuration, link, order.status, changed=sorted(set(changed))))


def _flag_duplicates(
    configuration: PlatformConfiguration, created: list[tuple[PlatformOrderLink, NormalizedOrder]]
) -> None:
    """One query for the page: other platforms' orders of the same customers within the window,
    then the same items, amount and currency."""
    window = settings.INTEGRATIONS["DUPLICATE_WINDOW"]
    keyed = [(link, order) for link, order in created if link.customer_key]
    if not keyed:
        return
    earliest = min(order.created_at for _, order in keyed) - window
    latest = max(order.created_at for _, order in keyed) + window
    candidates = list(
        PlatformOrderLink.objects.filter(
            organization_id=configuration.organization_id,
            customer_key__in={link.customer_key for link, _ in keyed},
            platform_created_at__range=(earliest, latest),
        ).exclude(platform=configuration.platform)
    )
    flags = []
    for link, order in keyed:
        for other in candidates:
            if (
                other.customer_key == link.customer_key
                and other.items_key == link.items_key
                and other.total_amount == link.total_amount
                and other.currency == link.currency
                and abs(other.platform_created_at - order.created_at) <= window
            ):
                flags.append(
                    DuplicateFlag(
                        organization_id=configuration.organization_id,
                        link=link,
                        other_link=other,
                        reasons=["same customer", "same items", "same amount", f"within {window}"],
                    )
                )
    DuplicateFlag.objects.bulk_create(flags, ignore_conflicts=True)
