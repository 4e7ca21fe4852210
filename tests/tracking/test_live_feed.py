"""The live feed of a shipment over real WebSockets: subscribers of `order.<id>` on two ASGI
processes hear its positions (pushed directly, coalesced) and its alerts (outbox -> real
Celery worker -> channels-redis -> both servers); a third organization may not subscribe."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from apps.accounts.services import session_start
from apps.core.context import tenant_scope
from apps.tenancy.roles import Role
from apps.tracking import live
from apps.tracking.services.alerts import alert_raise
from tests.factories import OrganizationFactory, member
from tests.support import web_processes
from tests.tracking.live_support import (
    feed,
    is_location,
    moments,
    ping,
    receive_until,
    received_within,
    subscribe,
    tracked_order_of,
)


@pytest.fixture
def parties(committed):
    shipper, carrier, stranger = OrganizationFactory(), OrganizationFactory(), OrganizationFactory()
    people = {
        "shipper": member(shipper, Role.SHIPPER),
        "carrier": member(carrier, Role.CARRIER),
        "stranger": member(stranger, Role.CARRIER),
        "customer": member(shipper, Role.CUSTOMER),
        "other_customer": member(shipper, Role.CUSTOMER),
    }
    with tenant_scope(shipper.id):
        shipment = tracked_order_of(shipper, carrier, customer=people["customer"])
    return {"shipment": shipment, "tokens": {name: session_start(user=user).access for name, user in people.items()}}


@pytest.fixture
def two_servers(committed, django_db_setup):
    """Two uvicorn processes of the project on this test run's database and Redis."""
    database_url = urlunsplit(urlsplit(settings.APP_DATABASE_URL)._replace(path=f"/{django_db_setup}"))
    with web_processes(2, APP_DATABASE_URL=database_url, DB_POOL="false") as bases:
        yield [urlsplit(base).netloc for base in bases]


def _group(shipment) -> str:
    return f"order.{shipment.order_id}"


def test_parties_on_two_servers_hear_the_position_and_the_alert(two_servers, celery_worker, parties):
    # given the shipper listening on one server and the carrier on the other
    shipment, tokens = parties["shipment"], parties["tokens"]
    first, second = two_servers

    async def scenario():
        shipper_feed, carrier_feed = await feed(first, tokens["shipper"]), await feed(second, tokens["carrier"])
        subscribed = [await subscribe(shipper_feed, _group(shipment)), await subscribe(carrier_feed, _group(shipment))]
        # when a position is pushed and the pipeline raises an alert
        await asyncio.to_thread(live.location_push, shipment=shipment, event=ping(shipment, latitude="52.52"))

        def raise_alert():
            with tenant_scope(shipment.supplier_organization_id):
                alert_raise(shipment=shipment, alert_type="deviation", severity="high", message="Off the route")

        await asyncio.to_thread(raise_alert)
        heard = []
        for ws in (shipper_feed, carrier_feed):
            heard.append(await receive_until(ws, is_location))
            heard.append(await receive_until(ws, lambda m: m.get("type") == "event"))
            await ws.close()
        return subscribed, heard

    subscribed, heard = asyncio.run(scenario())

    # then both hear both, each message naming the order
    assert subscribed == [{"type": "subscribed", "group": _group(shipment)}] * 2
    shipper_location, shipper_alert, carrier_location, carrier_alert = heard
    assert shipper_location == carrier_location
    assert shipper_location["shipment"] == {"subject": "order", "id": str(shipment.order_id)}
    assert shipper_location["latitude"] == 52.52 and shipper_location["speed_kmh"] == 62.5
    assert shipper_location["heading"] == 90
    for alert in (shipper_alert, carrier_alert):
        assert alert["event"]["event_type"] == "tracking.alert_raised"
        assert alert["event"]["payload"]["subject_id"] == str(shipment.order_id)
        assert alert["event"]["payload"]["severity"] == "high"


def test_a_third_organization_may_not_subscribe_to_the_order(two_servers, parties):
    shipment, tokens = parties["shipment"], parties["tokens"]

    async def scenario():
        ws = await feed(two_servers[0], tokens["stranger"])
        answers = [await subscribe(ws, _group(shipment)), await subscribe(ws, f"order.{shipment.id}")]
        answers.append(await subscribe(ws, "order.not-a-uuid"))
        await ws.close()
        return answers

    answers = asyncio.run(scenario())

    # the order exists, but not for them: the same answer as for an order that does not
    assert [answer["error_code"] for answer in answers] == ["NOT_FOUND"] * 3


def test_a_customer_may_subscribe_to_their_own_order_only(two_servers, parties):
    shipment, tokens = parties["shipment"], parties["tokens"]

    async def scenario():
        own = await feed(two_servers[0], tokens["customer"])
        other = await feed(two_servers[1], tokens["other_customer"])
        answers = [await subscribe(own, _group(shipment)), await subscribe(other, _group(shipment))]
        await own.close()
        await other.close()
        return answers

    own_answer, other_answer = asyncio.run(scenario())

    assert own_answer == {"type": "subscribed", "group": _group(shipment)}
    assert other_answer["error_code"] == "NOT_FOUND"


def test_many_positions_in_a_second_make_one_message_then_the_latest_follows(two_servers, celery_worker, parties):
    # given a subscriber
    shipment, tokens = parties["shipment"], parties["tokens"]
    interval = settings.TRACKING["LIVE_LOCATION_INTERVAL_S"]
    pings = [ping(shipment, at=at, latitude=f"50.{index:02d}") for index, at in enumerate(moments(20))]

    async def scenario():
        ws = await feed(two_servers[1], tokens["shipper"])
        await subscribe(ws, _group(shipment))
        # when twenty positions are pushed within well under the interval
        started = asyncio.get_running_loop().time()
        for event in pings:
            await asyncio.to_thread(live.location_push, shipment=shipment, event=event)
        pushed_in = asyncio.get_running_loop().time() - started
        # then one message now, and the newest once the interval is over, and nothing more
        messages = await received_within(ws, interval * 3.5, is_location)
        await ws.close()
        return pushed_in, messages

    pushed_in, messages = asyncio.run(scenario())

    assert pushed_in < interval, "the pushes must land within one interval for this test to mean anything"
    assert [message["latitude"] for message in messages] == [50.0, 50.19]
    assert messages[-1]["occurred_at"] == pings[-1].occurred_at.isoformat()


def test_a_position_older_than_the_one_sent_is_not_sent(parties, settings, monkeypatch):
    # given a position sent, and a window that is over
    settings.TRACKING = {**settings.TRACKING, "LIVE_LOCATION_INTERVAL_S": 0.05}
    shipment = parties["shipment"]
    now = datetime.now(UTC)
    sent = []

    def record(group, content):
        sent.append(content["latitude"])

    monkeypatch.setattr(live, "_send", record)
    live.location_push(shipment=shipment, event=ping(shipment, at=now, latitude="51.00"))
    time.sleep(0.1)
    # when a late batch brings an older one
    live.location_push(shipment=shipment, event=ping(shipment, at=now - timedelta(minutes=1), latitude="50.00"))

    # then the truck does not move backwards
    assert sent == [51.0]
