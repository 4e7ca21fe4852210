"""The award told live: each carrier's WebSocket feed receives the fate of its own offer
(outbox -> real Celery worker -> channels-redis -> a real ASGI server)."""

import asyncio
import json

import websockets

from apps.accounts.services import session_start
from tests.marketplace.conftest import offer_body


async def _receive_until(ws, predicate, timeout=20.0):
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if predicate(message):
                return message


async def _feed(server, token, organization_id):
    ws = await websockets.connect(f"ws://{server}/ws/v1/events/?token={token}", origin=f"http://{server}")
    await ws.recv()  # connected
    await ws.send(json.dumps({"action": "subscribe", "group": f"org.{organization_id}"}))
    await ws.recv()  # subscribed
    return ws


def _offer_event(event_type, offer_id):
    def matches(message):
        event = message.get("event", {})
        return event.get("event_type") == event_type and event.get("aggregate_id") == offer_id

    return matches


def test_the_winner_hears_accepted_and_the_loser_hears_rejected(
    asgi_server, celery_worker, api, shipper, carrier, rival, open_rfq
):
    winner = api(carrier.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(), format="json").json()
    loser = api(rival.staff).post(f"/api/v1/rfqs/{open_rfq['id']}/offers", offer_body(price="1990"), format="json")
    loser = loser.json()

    winner_token, loser_token = session_start(user=carrier.staff).access, session_start(user=rival.staff).access

    async def scenario():
        winner_feed = await _feed(asgi_server, winner_token, carrier.org.id)
        loser_feed = await _feed(asgi_server, loser_token, rival.org.id)
        try:
            response = await asyncio.to_thread(lambda: api(shipper.staff).post(f"/api/v1/offers/{winner['id']}/accept"))
            accepted = await _receive_until(winner_feed, _offer_event("offer.accepted", winner["id"]))
            rejected = await _receive_until(loser_feed, _offer_event("offer.rejected", loser["id"]))
            return response, accepted, rejected
        finally:
            await winner_feed.close()
            await loser_feed.close()

    response, accepted, rejected = asyncio.run(scenario())

    assert response.status_code == 200
    assert accepted["event"]["payload"]["order_id"] == response.json()["order"]
    assert rejected["event"]["payload"]["reason"] == "Another offer was accepted."
    # The loser's feed carries its own offer's fate, never the winner's terms.
    assert rejected["event"]["payload"]["carrier_organization_id"] == str(rival.org.id)
