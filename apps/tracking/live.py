"""The live feed of a tracked shipment: what subscribers of `order.<id>` / `package.<id>` hear.

Two kinds of message reach those groups (apps.tenancy.consumers sends them to the sockets):
- the shipment's domain events (`tracking.*`: milestones, alerts raised, acknowledged,
  resolved, escalated), relayed from the outbox like every event (`event_deliver`), as
  `{"type": "event", "event": {...}}`;
- its position, pushed directly by `location_push` (not through the outbox: a ping a second
  per truck would swamp it, and a position is worth something only while it is fresh), as
  `{"type": "location", "shipment": {"subject", "id"}, "latitude", "longitude",
  "occurred_at", "speed_kmh", "heading"}`.

Coalescing. At most one location message per shipment per TRACKING["LIVE_LOCATION_INTERVAL_S"],
whichever process ingests the pings: the window is a Redis key taken with SET NX PX, so every
web process and worker shares it. The first position of a window goes out at once (the
"leading" send: a truck that pings every few seconds is shown without delay). A position that
arrives while the window is closed is kept in Redis as the window's pending one, replaced by
any newer one, and a "trailing" send delivers it when the window ends: a Celery task with the
window's remaining time as its countdown, enqueued once per window (a second key, SET NX).
Without the trailing send, the last position of a burst would stay unsent until the truck
pinged again, for ever if it stopped (the driver's app closed at the depot). The task, not a
timer thread in the ingesting process, because the broker keeps it when that process dies
and a worker retries it; it is idempotent (the pending position is taken once, atomically).
Each decision is one Lua script, so two processes never both send in one window. A position
older than the last one sent is dropped: pings of a batch received late must not move the
truck backwards on the map.

Redis away: nothing is sent and nothing fails (the position is stored; the API reads it).
"""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.live_groups import event_message, live_message
from apps.tracking.models import SubjectKind, TrackedShipment, TrackingEvent

logger = logging.getLogger(__name__)

SUBJECTS = {SubjectKind.ORDER.value, SubjectKind.PACKAGE.value}
# How long the pending position, the "flush enqueued" mark and the last sent moment are kept.
# A flush task that was lost (a broker that lost its queue) frees the mark after this long.
MEMORY_MS = 60_000

# KEYS: window, pending, trailing, sent. ARGV: message, occurred (ms), interval (ms), memory (ms).
# Returns {1, message}: send it now; {2, wait}: enqueue the trailing flush in `wait` ms;
# {0, ""}: nothing to do (kept as pending, or older than what subscribers have).
PUSH_SCRIPT = """
local occurred = tonumber(ARGV[2])
local sent = redis.call('GET', KEYS[4])
if sent and tonumber(sent) >= occurred then
    return {0, ''}
end
local pending_at = redis.call('HGET', KEYS[2], 'at')
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[3]) then
    local message, at = ARGV[1], ARGV[2]
    if pending_at and tonumber(pending_at) > occurred then
        message, at = redis.call('HGET', KEYS[2], 'message'), pending_at
    end
    redis.call('DEL', KEYS[2])
    redis.call('SET', KEYS[4], at, 'PX', ARGV[4])
    return {1, message}
end
if (not pending_at) or tonumber(pending_at) < occurred then
    redis.call('HSET', KEYS[2], 'at', ARGV[2], 'message', ARGV[1])
    redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[4]) then
    local wait = redis.call('PTTL', KEYS[1])
    if wait < 1 then wait = 1 end
    return {2, tostring(wait)}
end
return {0, ''}
"""

# KEYS: window, pending, trailing, sent. ARGV: interval (ms), memory (ms).
# Returns {1, message}: send it; {2, wait}: the window is still closed, try again in `wait` ms;
# {0, ""}: nothing pending any more (a leading send took it).
FLUSH_SCRIPT = """
local message = redis.call('HGET', KEYS[2], 'message')
if not message then
    redis.call('DEL', KEYS[3])
    return {0, ''}
end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
    local wait = redis.call('PTTL', KEYS[1])
    if wait < 1 then wait = 1 end
    return {2, tostring(wait)}
end
redis.call('SET', KEYS[4], redis.call('HGET', KEYS[2], 'at'), 'PX', ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3])
return {1, message}
"""

SEND, LATER = 1, 2

_client_lock = threading.Lock()
_client: redis.Redis | None = None
_scripts: dict[str, object] = {}


def _redis() -> redis.Redis:
    """One client (and connection pool) per process, thread-safe, as the cache's."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(settings.REDIS_APP_URL, socket_connect_timeout=2, socket_timeout=2)
                _scripts["push"] = _client.register_script(PUSH_SCRIPT)
                _scripts["flush"] = _client.register_script(FLUSH_SCRIPT)
    return _client


def _keys(shipment_id) -> list[str]:
    # The cache's prefix: a test run (or a second deployment) on the same Redis keeps its own.
    base = f"{settings.CACHES['default'].get('KEY_PREFIX', 'manifest')}:tracking:live:{shipment_id}"
    return [f"{base}:window", f"{base}:pending", f"{base}:trailing", f"{base}:sent"]


def _interval_ms() -> int:
    return max(1, round(float(settings.TRACKING["LIVE_LOCATION_INTERVAL_S"]) * 1000))


def subject_group(subject: str, subject_id) -> str:
    """The live group of an order's or a package's tracking: `order.<id>`, `package.<id>`."""
    return f"{subject}.{subject_id}"


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def location_message(*, shipment: TrackedShipment, event: TrackingEvent) -> dict:
    """What a subscriber is told of a position (JSON numbers: a map wants them as numbers)."""
    return {
        "type": "location",
        "shipment": {"subject": shipment.kind, "id": str(shipment.order_id or shipment.package_id)},
        "latitude": _number(event.latitude),
        "longitude": _number(event.longitude),
        "occurred_at": event.occurred_at.isoformat(),
        "speed_kmh": _number(event.speed_kmh),
        "heading": event.heading,
    }


def _send(group: str, content: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(group, live_message(content))


def location_push(*, shipment: TrackedShipment, event: TrackingEvent) -> None:
    """After commit: tell the shipment's live group where it is now (coalesced)."""
    if event.latitude is None or event.longitude is None:
        return
    content = location_message(shipment=shipment, event=event)
    group = subject_group(content["shipment"]["subject"], content["shipment"]["id"])
    occurred_ms = round(event.occurred_at.timestamp() * 1000)
    try:
        _redis()
        action, value = _scripts["push"](
            keys=_keys(shipment.id),
            args=[json.dumps(content), occurred_ms, _interval_ms(), MEMORY_MS],
        )
        if action == SEND:
            _send(group, json.loads(value))
        elif action == LATER:
            _flush_later(shipment_id=shipment.id, group=group, wait_ms=int(value))
    except REDIS_UNAVAILABLE as error:
        logger.warning("tracking.live_push_failed", extra={"shipment_id": str(shipment.id), "error": repr(error)})


def location_flush(*, shipment_id, group: str) -> bool:
    """The trailing send of a window: deliver the shipment's pending position once the window
    is over (True when one was sent); re-enqueued while the window is still closed."""
    _redis()
    action, value = _scripts["flush"](keys=_keys(shipment_id), args=[_interval_ms(), MEMORY_MS])
    if action == SEND:
        _send(group, json.loads(value))
        return True
    if action == LATER:
        _flush_later(shipment_id=shipment_id, group=group, wait_ms=int(value))
    return False


def _flush_later(*, shipment_id, group: str, wait_ms: int) -> None:
    from apps.tracking.tasks import tracking_live_location_flush

    tracking_live_location_flush.apply_async(
        kwargs={"shipment_id": str(shipment_id), "group": group}, countdown=wait_ms / 1000
    )


def event_deliver(event) -> None:
    """Outbox subscriber of `tracking.*`: the event to its order's or package's live group too
    (the parties' `org.<id>` feeds get it from tenancy's broadcast). Idempotent for clients:
    the event id travels with it."""
    subject, subject_id = event.payload.get("subject"), event.payload.get("subject_id")
    if subject not in SUBJECTS or not subject_id:
        return
    async_to_sync(get_channel_layer().group_send)(subject_group(subject, subject_id), event_message(event))
