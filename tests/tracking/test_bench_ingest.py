"""The tracking-ingest benchmark (bench/tracking_ingest.py) runs, briefly: its seed gives each
shipment an assigned device, its batches go through the endpoint whole, its COPY writes rows."""

import pytest

from apps.core.context import system_scope
from apps.tracking.models import TrackingEvent
from bench import tracking_ingest


@pytest.fixture
def seeded(committed):
    return tracking_ingest._seed(shipments=2)


def test_the_scenarios_batches_are_stored_whole_and_its_copy_writes_as_many_rows(seeded, settings):
    settings.ALLOWED_HOSTS = ["localhost"]

    seconds, stored = tracking_ingest._ingest(seeded, batches=2, warmup=1, size=50)
    copy_seconds = tracking_ingest._copy(seeded, rows=stored, size=50)

    assert stored == 100 and seconds > 0 and copy_seconds > 0
    with system_scope(reason="test", audit=False):
        # warm-up, timed, copied (the geofence entries and milestones the pipeline derives aside)
        assert TrackingEvent.objects.filter(source="device", event_type="location_update").count() == 150 + 100
        assert set(TrackingEvent.objects.values_list("shipment_id", flat=True)) == set(seeded.shipment_ids)
