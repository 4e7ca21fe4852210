"""The carrier poller across the real wire: a due shipment is read page by page to the end
and stored once, its next poll scheduled after success, backoff, Retry-After or refusals; the
beat job hands out only due shipments, each in its supplier's scope.

The tests that store events take `ingest_service` (tests/tracking/carrier_support.py): the
stand-in until t17-ingest is merged, the real service after."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.context import system_scope, tenant_scope
from apps.core.task_bases import SystemTask
from apps.tracking import tasks
from apps.tracking.models import Alert, TrackedShipment, TrackingEvent
from apps.tracking.services.carrier_polling import carrier_poll
from tests.beat import run_beat_job
from tests.factories import OrganizationFactory
from tests.tracking.carrier_support import new_number
from tests.tracking.factories import tracked_order

pytestmark = pytest.mark.django_db

BASE = timedelta(seconds=60)


@pytest.fixture
def polling(settings, sandbox_carrier):
    settings.TRACKING = {
        **settings.TRACKING,
        "CARRIER_POLL_INTERVAL": timedelta(minutes=10),
        "CARRIER_POLL_BACKOFF_BASE": BASE,
        "CARRIER_POLL_BACKOFF_MAX": timedelta(minutes=8),
        "CARRIER_POLL_MAX_REFUSALS": 3,
    }
    return settings.TRACKING


@pytest.fixture
def parties():
    return OrganizationFactory(), OrganizationFactory()  # the shipper (client), the carrier (supplier)


def _tracked(parties, number: str, **fields) -> TrackedShipment:
    shipper, carrier = parties
    with tenant_scope(shipper.id):
        fields = {"poll_next_at": timezone.now() - timedelta(seconds=1), **fields}
        return tracked_order(shipper, carrier, carrier_code="sandbox", external_tracking_number=number, **fields)


def _events(count: int, *, prefix: str = "e") -> list[dict]:
    first = datetime.now(UTC) - timedelta(hours=2)
    return [
        {
            "id": f"{prefix}{index}",
            "status": "IN_TRANSIT",
            "occurred_at": (first + timedelta(minutes=10 * index)).isoformat(),
            "latitude": 52.1 + index / 100,
            "longitude": 13.4,
        }
        for index in range(count)
    ]


def _poll(shipment: TrackedShipment):
    return carrier_poll(shipment_id=shipment.id, organization_id=shipment.supplier_organization_id)


def _due_again(shipment: TrackedShipment) -> None:
    with tenant_scope(shipment.supplier_organization_id):
        TrackedShipment.objects.filter(id=shipment.id).update(poll_next_at=timezone.now() - timedelta(seconds=1))


def _reloaded(shipment: TrackedShipment) -> TrackedShipment:
    with tenant_scope(shipment.supplier_organization_id):
        return TrackedShipment.objects.get(id=shipment.id)


def _stored_ids(shipment: TrackedShipment) -> list[str]:
    with tenant_scope(shipment.supplier_organization_id):
        return sorted(
            TrackingEvent.objects.filter(shipment_id=shipment.id).values_list("metadata__carrier_event_id", flat=True)
        )


def _assert_between(moment, low, high) -> None:
    assert low <= moment <= high, f"{moment} not within {low} .. {high}"


def test_a_due_poll_reads_every_page_and_stores_each_event(polling, parties, carrier_sandbox, ingest_service):
    # given a shipment whose carrier has five events, two a page
    number = new_number()
    carrier_sandbox.register(number, _events(5))
    shipment = _tracked(parties, number)

    # when it is polled
    before = timezone.now()
    outcome = _poll(shipment)

    # then three pages were read, the five events stored, the next poll set an interval ahead
    assert (outcome.status, outcome.pages, outcome.stored) == ("done", 3, 5)
    assert [request["status"] for request in carrier_sandbox.requests(number)] == [200, 200, 200]
    assert _stored_ids(shipment) == ["e0", "e1", "e2", "e3", "e4"]
    polled = _reloaded(shipment)
    assert polled.poll_cursor != ""
    interval = polling["CARRIER_POLL_INTERVAL"]
    _assert_between(polled.poll_next_at, before + interval, timezone.now() + interval)
    assert (polled.poll_failures, polled.poll_error_code) == (0, "")
    with tenant_scope(shipment.supplier_organization_id):
        event = TrackingEvent.objects.get(shipment_id=shipment.id, metadata__carrier_event_id="e0")
    assert (event.source, event.event_type) == ("carrier_api", "location_update")


def test_the_next_poll_starts_from_the_saved_cursor(polling, parties, carrier_sandbox, ingest_service):
    # given a shipment polled to the end
    number = new_number()
    carrier_sandbox.register(number, _events(3))
    shipment = _tracked(parties, number)
    _poll(shipment)
    cursor = _reloaded(shipment).poll_cursor

    # when the carrier learns one more event and the next poll is due
    carrier_sandbox.append(number, _events(1, prefix="late"))
    _due_again(shipment)
    outcome = _poll(shipment)

    # then only the new event was asked for and stored
    assert (outcome.pages, outcome.stored) == (1, 1)
    assert carrier_sandbox.requests(number)[-1]["cursor"] == cursor
    assert _stored_ids(shipment) == ["e0", "e1", "e2", "late0"]


def test_a_carrier_event_read_twice_is_stored_once(polling, parties, carrier_sandbox, ingest_service):
    # given a shipment polled to the end, whose cursor is then lost (a crash before it was saved)
    number = new_number()
    carrier_sandbox.register(number, _events(3))
    shipment = _tracked(parties, number)
    _poll(shipment)
    with tenant_scope(shipment.supplier_organization_id):
        TrackedShipment.objects.filter(id=shipment.id).update(poll_cursor="", poll_next_at=timezone.now())

    # when it is polled again from the start
    outcome = _poll(shipment)

    # then every event was read again and none stored twice
    assert (outcome.stored, outcome.duplicates) == (0, 3)
    assert _stored_ids(shipment) == ["e0", "e1", "e2"]


def test_an_event_sent_again_with_another_time_stays_one(polling, parties, carrier_sandbox, ingest_service):
    # given a shipment polled to the end
    number = new_number()
    carrier_sandbox.register(number, _events(2))
    shipment = _tracked(parties, number)
    _poll(shipment)

    # when the carrier sends its first event again, re-timed, and the next poll is due
    carrier_sandbox.append(number, [{**_events(1)[0], "occurred_at": datetime.now(UTC).isoformat()}])
    _due_again(shipment)
    outcome = _poll(shipment)

    # then it is known by its id, and not stored again
    assert (outcome.stored, outcome.duplicates) == (0, 1)
    assert _stored_ids(shipment) == ["e0", "e1"]


def test_a_poll_stops_at_the_page_cap_and_is_due_again_at_once(polling, parties, carrier_sandbox, ingest_service):
    polling["CARRIER_POLL_MAX_PAGES"] = 2
    number = new_number()
    carrier_sandbox.register(number, _events(5))
    shipment = _tracked(parties, number)

    first = _poll(shipment)
    due_at = _reloaded(shipment).poll_next_at
    second = _poll(shipment)

    assert (first.status, first.pages, first.stored) == ("more", 2, 4)
    assert due_at <= timezone.now()
    assert (second.status, second.pages, second.stored) == ("done", 1, 1)
    assert _stored_ids(shipment) == ["e0", "e1", "e2", "e3", "e4"]


def test_a_5xx_backs_off_and_the_next_poll_succeeds(polling, parties, carrier_sandbox, ingest_service):
    # given a carrier that fails once
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    carrier_sandbox.fault(number, 500)
    shipment = _tracked(parties, number)

    # when it is polled, then polled again once due
    before = timezone.now()
    failed = _poll(shipment)
    after_failure = _reloaded(shipment)
    _due_again(shipment)
    succeeded = _poll(shipment)

    # then the failure was counted and backed off (half to all of the base), then cleared
    assert (failed.status, failed.error_code) == ("failed", "unavailable")
    assert (after_failure.poll_failures, after_failure.poll_error_code) == (1, "unavailable")
    _assert_between(after_failure.poll_next_at, before + BASE / 2, timezone.now() + BASE)
    assert (succeeded.status, succeeded.stored) == ("done", 1)
    assert (_reloaded(shipment).poll_failures, _reloaded(shipment).poll_error) == (0, "")


def test_failures_in_a_row_back_off_exponentially_up_to_the_cap(polling, parties, carrier_sandbox):
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    carrier_sandbox.fault(number, 503, count=6)
    shipment = _tracked(parties, number)

    waits = []
    for _ in range(6):
        before = timezone.now()
        _poll(shipment)
        waits.append(_reloaded(shipment).poll_next_at - before)
        _due_again(shipment)

    # the base times 1, 2, 4, 8, then the cap of 8 minutes: each between half of it and all of it
    for wait, full in zip(waits, [1, 2, 4, 8, 8, 8], strict=True):
        assert full * BASE / 2 - timedelta(seconds=1) <= wait <= full * BASE + timedelta(seconds=1)
    assert _reloaded(shipment).poll_failures == 6
    assert _reloaded(shipment).poll_stopped_at is None  # an outage never stops the polling


def test_a_429_with_retry_after_is_honoured(polling, parties, carrier_sandbox):
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    carrier_sandbox.fault(number, 429, retry_after=600)
    shipment = _tracked(parties, number)

    before = timezone.now()
    outcome = _poll(shipment)

    polled = _reloaded(shipment)
    assert (outcome.status, polled.poll_error_code, polled.poll_failures) == ("failed", "rate_limited", 1)
    _assert_between(polled.poll_next_at, before + timedelta(seconds=600), timezone.now() + timedelta(seconds=600))


def test_a_429_without_retry_after_backs_off(polling, parties, carrier_sandbox):
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    carrier_sandbox.fault(number, 429)
    shipment = _tracked(parties, number)

    before = timezone.now()
    _poll(shipment)

    polled = _reloaded(shipment)
    assert polled.poll_error_code == "rate_limited"
    _assert_between(polled.poll_next_at, before + BASE / 2, timezone.now() + BASE)


def test_a_number_the_carrier_keeps_refusing_stops_the_polling_with_an_alert(polling, parties, carrier_sandbox):
    # given a number the carrier does not know
    shipment = _tracked(parties, new_number())

    # when it is polled as often as the refusals allow
    outcomes = []
    for attempt in range(polling["CARRIER_POLL_MAX_REFUSALS"]):
        if attempt:
            _due_again(shipment)
        outcomes.append(_poll(shipment).status)
    stopped = _reloaded(shipment)

    # then the last refusal stopped the polling, and both parties see a no-signal alert
    assert outcomes == ["failed", "failed", "stopped"]
    assert stopped.poll_next_at is None and stopped.poll_stopped_at is not None
    assert (stopped.poll_error_code, stopped.poll_failures) == ("unknown_number", 3)
    with tenant_scope(shipment.client_organization_id):
        alert = Alert.objects.get(shipment_id=shipment.id)
    assert (alert.alert_type, alert.status, alert.condition_key) == ("no_signal", "open", "carrier_polling")


def test_a_refusal_after_an_outage_starts_its_own_count(polling, parties, carrier_sandbox):
    number = new_number()
    shipment = _tracked(parties, number)
    carrier_sandbox.fault(number, 500, count=2)

    _poll(shipment)
    _due_again(shipment)
    _poll(shipment)
    _due_again(shipment)
    refused = _poll(shipment)  # the fault is spent: the carrier now says it does not know the number

    assert refused.status == "failed"
    assert (_reloaded(shipment).poll_failures, _reloaded(shipment).poll_error_code) == (1, "unknown_number")


def test_a_shipment_not_due_is_not_polled(polling, parties, carrier_sandbox):
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    shipment = _tracked(parties, number, poll_next_at=timezone.now() + timedelta(minutes=5))

    outcome = _poll(shipment)

    assert outcome.status == "skipped"
    assert carrier_sandbox.requests(number) == []


def test_a_poll_for_an_organization_that_is_no_party_sees_nothing(polling, parties, carrier_sandbox):
    # given a due shipment of two parties, and a third organization
    number = new_number()
    carrier_sandbox.register(number, _events(1))
    shipment = _tracked(parties, number)
    outsider = OrganizationFactory()

    # when the task runs in the third organization's scope
    status = tasks.tracking_poll_carrier(shipment_id=str(shipment.id), organization_id=str(outsider.id))

    # then it found no shipment: the carrier was not asked and nothing changed
    assert status == "skipped"
    assert carrier_sandbox.requests(number) == []
    assert _reloaded(shipment).poll_next_at == shipment.poll_next_at


def test_the_beat_job_hands_out_only_due_shipments_in_their_suppliers_scope(polling, parties):
    # given shipments due, not yet due, no longer tracked, and without a carrier's number
    due = _tracked(parties, new_number())
    _tracked(parties, new_number(), poll_next_at=timezone.now() + timedelta(minutes=5))
    _tracked(parties, new_number(), is_active=False)
    _tracked(parties, "", poll_next_at=None)
    _tracked(parties, new_number(), poll_next_at=None)  # polling stopped

    # when beat runs the job
    handed_out = []
    with mock.patch.object(SystemTask, "enqueue", lambda self, task, kwargs: handed_out.append((task.name, kwargs))):
        count = tasks.tracking_poll_carriers()

    # then one poll was handed out, for the due shipment, in its supplier's scope
    assert count == 1
    assert handed_out == [
        (
            "apps.tracking.tasks.tracking_poll_carrier",
            {"shipment_id": str(due.id), "organization_id": str(due.supplier_organization_id)},
        )
    ]


def test_the_beat_job_polls_a_due_shipment_end_to_end(polling, parties, carrier_sandbox, ingest_service):
    number = new_number()
    carrier_sandbox.register(number, _events(3))
    shipment = _tracked(parties, number)

    results = run_beat_job(tasks.tracking_poll_carriers)

    assert results == ["done"]
    assert _stored_ids(shipment) == ["e0", "e1", "e2"]
    with system_scope(reason="test", audit=False):
        assert TrackingEvent.objects.filter(shipment_id=shipment.id, source="carrier_api").count() == 3


def test_the_database_takes_a_carrier_event_of_a_shipment_once(parties):
    # given a stored carrier event (the index on the partitioned table holds whatever skips the poller)
    shipment = _tracked(parties, new_number())
    occurred_at = timezone.now() - timedelta(hours=1)

    def store(event_id: str, source: str = "carrier_api") -> None:
        TrackingEvent.objects.create(
            shipment_id=shipment.id,
            client_organization_id=shipment.client_organization_id,
            supplier_organization_id=shipment.supplier_organization_id,
            event_type="status_change",
            source=source,
            occurred_at=occurred_at,
            received_at=timezone.now(),
            metadata={"carrier_event_id": event_id},
        )

    with tenant_scope(shipment.supplier_organization_id):
        store("c1")
        store("c2")  # another event of the same moment
        store("c1", source="manual")  # not a carrier's: not its key

        # when the same carrier event comes again, then it is refused
        with pytest.raises(IntegrityError), transaction.atomic():
            store("c1")
        assert TrackingEvent.objects.filter(shipment_id=shipment.id).count() == 3
