"""The sandbox carrier's adapter across the real wire: pages to the end from a cursor, events
normalized to ours, and each failure as the exception the poller acts on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.tracking.carriers import UnknownCarrier, carrier_for
from apps.tracking.carriers.base import (
    CarrierRateLimited,
    CarrierRejected,
    CarrierUnavailable,
    TrackingNumberUnknown,
)
from tests.tracking.carrier_support import new_number


def _journey(count: int, *, first: datetime | None = None) -> list[dict]:
    first = first or datetime.now(UTC) - timedelta(hours=2)
    return [
        {
            "id": f"e{index}",
            "status": "IN_TRANSIT",
            "occurred_at": (first + timedelta(minutes=10 * index)).isoformat(),
            "latitude": 52.1 + index / 100,
            "longitude": 13.1234567,
            "address": f"Km {index}",
        }
        for index in range(count)
    ]


def _read_to_end(carrier, number: str, cursor: str = "") -> tuple[list, str, int]:
    events, pages = [], 0
    while True:
        page = carrier.fetch_events(tracking_number=number, cursor=cursor)
        events += page.events
        cursor, pages = page.next_cursor, pages + 1
        if not page.has_more:
            return events, cursor, pages


def test_pages_are_read_from_the_cursor_to_the_end(sandbox_carrier, carrier_sandbox):
    # given five events and pages of two
    number = new_number()
    carrier_sandbox.register(number, _journey(5))

    # when the adapter reads from the start to the end
    events, _, pages = _read_to_end(sandbox_carrier, number)

    # then three pages gave every event once, in order, normalized to ours
    assert pages == 3
    assert [event.carrier_event_id for event in events] == ["e0", "e1", "e2", "e3", "e4"]
    first = events[0]
    assert first.event_type == "location_update" and first.status_code == "IN_TRANSIT"
    assert first.latitude == Decimal("52.100000") and first.longitude == Decimal("13.123457")  # six places
    assert first.occurred_at.tzinfo is not None
    assert first.as_row(carrier_code="sandbox")["metadata"] == {
        "carrier_code": "sandbox",
        "carrier_event_id": "e0",
        "carrier_status": "IN_TRANSIT",
    }


def test_the_last_cursor_gives_only_what_came_after_it(sandbox_carrier, carrier_sandbox):
    # given a number read to the end
    number = new_number()
    carrier_sandbox.register(number, _journey(3))
    _, cursor, _ = _read_to_end(sandbox_carrier, number)

    # when the carrier learns two more events and the adapter reads from the saved cursor
    empty = sandbox_carrier.fetch_events(tracking_number=number, cursor=cursor)
    carrier_sandbox.append(number, [{"id": "late1", "status": "ARRIVED", "occurred_at": datetime.now(UTC).isoformat()}])
    events, _, _ = _read_to_end(sandbox_carrier, number, cursor)

    # then nothing was new before, and only the new event after
    assert empty.events == [] and empty.has_more is False
    assert [(event.carrier_event_id, event.event_type) for event in events] == [("late1", "warehouse_scan")]


def test_an_event_whose_time_has_not_come_is_not_served(sandbox_carrier, carrier_sandbox):
    number = new_number()
    now = datetime.now(UTC)
    carrier_sandbox.register(
        number,
        [
            {"id": "done", "status": "PICKED_UP", "occurred_at": (now - timedelta(minutes=5)).isoformat()},
            {"id": "later", "status": "DELIVERED", "occurred_at": (now + timedelta(hours=5)).isoformat()},
        ],
    )

    events, _, _ = _read_to_end(sandbox_carrier, number)

    assert [(event.carrier_event_id, event.event_type) for event in events] == [("done", "milestone")]


def test_an_unknown_number_is_refused_as_unknown(sandbox_carrier):
    with pytest.raises(TrackingNumberUnknown):
        sandbox_carrier.fetch_events(tracking_number=new_number(), cursor="")


@pytest.mark.parametrize(("retry_after", "expected"), [(30, 30), (None, None)])
def test_a_429_says_how_long_the_carrier_asked_to_wait(sandbox_carrier, carrier_sandbox, retry_after, expected):
    number = new_number()
    carrier_sandbox.register(number, _journey(1))
    carrier_sandbox.fault(number, 429, retry_after=retry_after)

    with pytest.raises(CarrierRateLimited) as raised:
        sandbox_carrier.fetch_events(tracking_number=number, cursor="")

    assert raised.value.retry_after == expected


def test_a_5xx_is_transient_and_the_next_call_is_answered(sandbox_carrier, carrier_sandbox):
    number = new_number()
    carrier_sandbox.register(number, _journey(1))
    carrier_sandbox.fault(number, 500)

    with pytest.raises(CarrierUnavailable):
        sandbox_carrier.fetch_events(tracking_number=number, cursor="")
    page = sandbox_carrier.fetch_events(tracking_number=number, cursor="")

    assert [event.carrier_event_id for event in page.events] == ["e0"]


def test_a_wrong_key_is_a_refusal(carrier_sandbox, settings):
    settings.TRACKING_CARRIERS = carrier_sandbox.carrier_settings(API_KEY="not-the-key")

    with pytest.raises(CarrierRejected) as raised:
        carrier_for("sandbox").fetch_events(tracking_number=new_number(), cursor="")

    assert raised.value.status_code == 401


def test_an_unreachable_carrier_is_transient(settings):
    backend = "apps.tracking.carriers.sandbox.SandboxCarrier"
    settings.TRACKING_CARRIERS = {"sandbox": {"BACKEND": backend, "URL": "http://127.0.0.1:9", "API_KEY": "k"}}

    with pytest.raises(CarrierUnavailable):
        carrier_for("sandbox").fetch_events(tracking_number="X1", cursor="")


def test_a_carrier_not_configured_is_refused(settings):
    settings.TRACKING_CARRIERS = {}

    with pytest.raises(UnknownCarrier):
        carrier_for("sandbox")
