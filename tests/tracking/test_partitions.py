"""The tracking events table is partitioned by month: events land in their month's partition,
the beat job makes the months ahead and drops those past retention, and a partition cannot be
read around its parent's row-level security."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.tracking import partitions
from apps.tracking.models import TrackedShipment, TrackingEvent
from apps.tracking.tasks import tracking_partitions_maintain
from tests.factories import OrganizationFactory
from tests.tracking.factories import tracked_order

pytestmark = pytest.mark.django_db


def _month(day: date) -> str:
    return f"tracking_trackingevent_{day:%Y%m}"


def test_the_migration_leaves_partitions_for_two_months_back_to_three_ahead():
    names = partitions.partition_names()
    today = timezone.now().date().replace(day=1)

    assert _month(today) in names
    assert _month(partitions._months_before(today, 2)) in names
    assert _month(partitions._months_before(today, -3)) in names


def test_the_beat_job_makes_the_months_ahead_once():
    far = timezone.now().date().replace(day=1)
    with system_scope(reason="test: partitions", audit=False):
        made = partitions.partitions_ensure(today=partitions._months_before(far, -10), months_ahead=1)
        again = partitions.partitions_ensure(today=partitions._months_before(far, -10), months_ahead=1)

    assert (made, again) == (2, 0)
    assert _month(partitions._months_before(far, -11)) in partitions.partition_names()


def test_partitions_past_retention_are_dropped_and_recent_ones_kept():
    today = timezone.now().date()
    old = partitions._months_before(today.replace(day=1), 30)
    partitions.partitions_ensure(today=old, months_ahead=0)
    assert _month(old) in partitions.partition_names()

    dropped = partitions.partitions_drop_expired(today=today, retention_months=24)

    names = partitions.partition_names()
    assert dropped >= 1
    assert _month(old) not in names
    assert _month(today) in names


def test_the_maintenance_task_reports_what_it_did():
    result = tracking_partitions_maintain.run()

    assert set(result) == {"made", "dropped"}
    assert _month(timezone.now().date()) in partitions.partition_names()


def _shipment_with_event(occurred_at):
    organization = OrganizationFactory()
    parties = {"client_organization_id": organization.id, "supplier_organization_id": organization.id}
    with system_scope(reason="test: a tracked shipment", audit=False):
        shipment = tracked_order(organization, organization)
        TrackingEvent.objects.create(
            shipment_id=shipment.id,
            event_type="milestone",
            source="manual",
            occurred_at=occurred_at,
            received_at=timezone.now(),
            **parties,
        )
    return organization, shipment


def test_an_event_lands_in_the_partition_of_its_month():
    occurred_at = timezone.now() - timedelta(days=40)
    organization, shipment = _shipment_with_event(occurred_at)

    with tenant_scope(organization.id), connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM tracking_trackingevent WHERE shipment_id = %s", [shipment.id]
        )
        assert cursor.fetchone()[0] == _month(occurred_at.date())


def test_a_partition_read_directly_is_refused_even_to_its_tenant():
    organization, _ = _shipment_with_event(timezone.now())

    with (
        tenant_scope(organization.id),
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f'SELECT count(*) FROM "{_month(timezone.now().date())}"')
    with tenant_scope(organization.id):
        assert TrackingEvent.objects.filter(shipment_id__in=TrackedShipment.objects.values("id")).count() == 1
