"""A carrier's tracking API of our own, for development and tests.

It serves, per tracking number, the stream of events a parcel carrier's tracking API gives
(scans at hubs, positions on the road, status changes), page by page from an opaque cursor,
behind an API key, with the failures a real one has (5xx, 429 with or without Retry-After):
the conversation apps/tracking/carriers/sandbox.py and the poller behind it have across a
real wire. State lives in memory for as long as the process.

    python -m sandboxes.carrier_tracking --port 8011 --api-key K

The API (Authorization: Bearer <key>):
    GET /v1/shipments/{tracking_number}/events?cursor=&limit=   one page, oldest first:
        {"tracking_number", "events": [{"id", "status", "occurred_at", "description",
         "location": {"latitude", "longitude", "address"} | null}], "next_cursor", "has_more"}
        An event is served once its time has come: a journey unfolds as the clock runs.
        404 unknown number, 400 bad cursor or limit, 401 bad key, 429 and 5xx when a fault says so.
The sandbox's own endpoints (no key; for tests and for the demo):
    POST /_sandbox/shipments            {"tracking_number", "events": [...]} or
                                        {"tracking_number", "generate": {"count", "started_at", "every_seconds"}}
    POST /_sandbox/shipments/{n}/events {"events": [...]}: appended to the number's stream
    POST /_sandbox/faults               {"status", "count", "retry_after", "tracking_number"}: the
                                        next `count` calls (for that number, or any) answer `status`
    GET  /_sandbox/requests?tracking_number=   the calls served so far, oldest first
Numbers known from the start (deterministic journeys, times from the moment it started):
SEEDED_NUMBERS.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import signal
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from sandboxes.serving import SandboxServer, StateServer, serve

logger = logging.getLogger("sandboxes.carrier_tracking")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_BODY_BYTES = 256 * 1024
MAX_GENERATED_EVENTS = 10_000
NUMBER_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
STATUSES = frozenset({"PICKED_UP", "DEPARTED", "IN_TRANSIT", "ARRIVED", "OUT_FOR_DELIVERY", "DELIVERED", "EXCEPTION"})

# A road through real places: (latitude, longitude, address). Generated journeys follow it.
ROUTE = (
    (52.520008, 13.404954, "Berlin, DE"),
    (52.406374, 16.925168, "Poznań, PL"),
    (52.229676, 21.012229, "Warsaw, PL"),
)
# (tracking number, events, minutes between events, minutes before the sandbox started that
# the journey began): the first is under way for the demo, the second done, the third long.
SEEDED = (
    ("CT1000000001", 40, 3, 30),
    ("CT1000000002", 12, 20, 6 * 60),
    ("CT1000000003", 250, 1, 60),
)
SEEDED_NUMBERS = tuple(number for number, *_ in SEEDED)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    tracking_number: str = ""  # "": any number


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value, name: str) -> datetime:
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{name} must carry its offset")
    return moment.astimezone(UTC)


def _event_id(tracking_number: str, index: int) -> str:
    # Stable across restarts: the same number's n-th event always has the same id.
    return "ev_" + hashlib.sha256(f"{tracking_number}:{index}".encode()).hexdigest()[:20]


def journey(tracking_number: str, *, count: int, started_at: datetime, every: timedelta) -> list[dict]:
    """`count` events along ROUTE from `started_at`, one every `every`: picked up, positions on
    the road with a scan at each hub on the way, out for delivery, delivered."""
    if count < 2:
        raise ApiError(400, "a journey has at least 2 events")
    events = []
    legs = len(ROUTE) - 1
    # The events nearest each hub on the way are its scans, at the hub itself.
    hubs = {round(leg * (count - 1) / legs): ROUTE[leg] for leg in range(1, legs)}
    for index in range(count):
        share = index / (count - 1)
        leg = min(int(share * legs), legs - 1)
        within = share * legs - leg
        (lat_a, lon_a, address_a), (lat_b, lon_b, _) = ROUTE[leg], ROUTE[leg + 1]
        latitude, longitude = lat_a + (lat_b - lat_a) * within, lon_a + (lon_b - lon_a) * within
        address = ""
        if index == 0:
            status, description, address = "PICKED_UP", "Picked up from the shipper", address_a
        elif index == count - 1:
            status, description, address = "DELIVERED", "Delivered", ROUTE[-1][2]
            latitude, longitude = ROUTE[-1][0], ROUTE[-1][1]
        elif index == count - 2:
            status, description = "OUT_FOR_DELIVERY", "Out for delivery"
        elif index in hubs:
            latitude, longitude, address = hubs[index]
            status, description = "ARRIVED", f"Arrived at the hub in {address}"
        else:
            status, description = "IN_TRANSIT", "On the way"
        events.append(
            {
                "id": _event_id(tracking_number, index),
                "status": status,
                "occurred_at": _iso(started_at + every * index),
                "description": description,
                "location": {"latitude": round(latitude, 6), "longitude": round(longitude, 6), "address": address},
            }
        )
    return events


def _checked_events(tracking_number: str, raw, first_index: int) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "events must be a non-empty list")
    events = []
    for offset, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ApiError(400, f"events[{offset}] must be an object")
        status = item.get("status") or "IN_TRANSIT"
        if status not in STATUSES:
            raise ApiError(400, f"events[{offset}].status must be one of {sorted(STATUSES)}")
        location = item.get("location")
        if location is None and "latitude" in item:
            location = {key: item.get(key) for key in ("latitude", "longitude", "address")}
        if location is not None and not isinstance(location, dict):
            raise ApiError(400, f"events[{offset}].location must be an object")
        events.append(
            {
                "id": str(item.get("id") or _event_id(tracking_number, first_index + offset)),
                "status": status,
                "occurred_at": _iso(_parse_time(item.get("occurred_at"), f"events[{offset}].occurred_at")),
                "description": str(item.get("description") or ""),
                "location": location,
            }
        )
    return events


def cursor_encode(tracking_number: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{tracking_number}:{position}".encode()).decode().rstrip("=")


def cursor_decode(tracking_number: str, cursor: str) -> int:
    if not cursor:
        return 0
    try:
        number, _, position = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().rpartition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid cursor") from None
    if number != tracking_number or not position.isdigit():
        raise ApiError(400, "invalid cursor")
    return int(position)


class SandboxCarrier:
    """The carrier's state and rules, apart from HTTP; every change under one lock."""

    def __init__(self, *, api_key: str, seeded_at: datetime | None = None):
        self.api_key = api_key
        self._lock = threading.Lock()
        self._streams: dict[str, list[dict]] = {}
        self._faults: list[Fault] = []
        self._requests: list[dict] = []
        # From the hour it started: a sandbox restarted within the hour tells the same times.
        seeded_at = (seeded_at or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
        for number, count, every_minutes, began_minutes_ago in SEEDED:
            started_at = seeded_at - timedelta(minutes=began_minutes_ago)
            self._streams[number] = journey(
                number, count=count, started_at=started_at, every=timedelta(minutes=every_minutes)
            )

    # --- The API -------------------------------------------------------------------------

    def events_page(self, tracking_number: str, *, cursor: str, limit_text: str) -> Answer:
        with self._lock:
            try:
                answer = self._page(tracking_number, cursor=cursor, limit_text=limit_text)
            except ApiError as error:
                self._record(tracking_number, cursor, limit_text, error.status)
                raise
            self._record(tracking_number, cursor, limit_text, answer.status)
            return answer

    def _page(self, tracking_number: str, *, cursor: str, limit_text: str) -> Answer:
        fault = self._take_fault(tracking_number)
        if fault is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            raise ApiError(fault.status, "rate limited" if fault.status == 429 else "sandbox fault", headers)
        if not limit_text:
            limit = DEFAULT_LIMIT
        elif limit_text.isdigit() and 1 <= int(limit_text) <= MAX_LIMIT:
            limit = int(limit_text)
        else:
            raise ApiError(400, f"limit must be 1 to {MAX_LIMIT}")
        stream = self._streams.get(tracking_number)
        if stream is None:
            raise ApiError(404, "unknown tracking number")
        position = min(cursor_decode(tracking_number, cursor), len(stream))
        now = _iso(datetime.now(UTC))
        # Served in the order recorded, each once its time has come (ISO strings in UTC sort as times).
        due = []
        for event in stream[position:]:
            if event["occurred_at"] > now or len(due) == limit:
                break
            due.append(event)
        end = position + len(due)
        has_more = end < len(stream) and stream[end]["occurred_at"] <= now
        return Answer(
            200,
            {
                "tracking_number": tracking_number,
                "events": due,
                "next_cursor": cursor_encode(tracking_number, end),
                "has_more": has_more,
            },
        )

    def _take_fault(self, tracking_number: str) -> Fault | None:
        for fault in self._faults:
            if fault.tracking_number in ("", tracking_number):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _record(self, tracking_number: str, cursor: str, limit_text: str, status: int) -> None:
        self._requests.append(
            {
                "tracking_number": tracking_number,
                "cursor": cursor,
                "limit": limit_text,
                "status": status,
                "at": _iso(datetime.now(UTC)),
            }
        )

    # --- The sandbox's own endpoints -------------------------------------------------------

    def shipment_register(self, request: dict) -> Answer:
        number = request.get("tracking_number")
        if not isinstance(number, str) or not NUMBER_PATTERN.fullmatch(number):
            raise ApiError(400, "tracking_number must be 1 to 100 letters, digits, - or _")
        generate = request.get("generate")
        if generate is not None:
            if not isinstance(generate, dict):
                raise ApiError(400, "generate must be an object")
            count, every = generate.get("count", 10), generate.get("every_seconds", 60)
            if not isinstance(count, int) or not 2 <= count <= MAX_GENERATED_EVENTS:
                raise ApiError(400, f"generate.count must be 2 to {MAX_GENERATED_EVENTS}")
            if not isinstance(every, int) or every < 1:
                raise ApiError(400, "generate.every_seconds must be a positive integer")
            started_at = _parse_time(generate.get("started_at"), "generate.started_at")
            events = journey(number, count=count, started_at=started_at, every=timedelta(seconds=every))
        else:
            events = _checked_events(number, request.get("events"), 0)
        with self._lock:
            self._streams[number] = events
        return Answer(201, {"tracking_number": number, "events": len(events)})

    def events_append(self, number: str, request: dict) -> Answer:
        with self._lock:
            stream = self._streams.get(number)
            if stream is None:
                raise ApiError(404, "unknown tracking number")
            stream.extend(_checked_events(number, request.get("events"), len(stream)))
            return Answer(201, {"tracking_number": number, "events": len(stream)})

    def fault_add(self, request: dict) -> Answer:
        status, count = request.get("status"), request.get("count", 1)
        retry_after, number = request.get("retry_after"), request.get("tracking_number") or ""
        if not isinstance(status, int) or not (status == 429 or 400 <= status <= 599):
            raise ApiError(400, "status must be an HTTP error status")
        if not isinstance(count, int) or count < 1:
            raise ApiError(400, "count must be a positive integer")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise ApiError(400, "retry_after must be a number of seconds or null")
        if not isinstance(number, str):
            raise ApiError(400, "tracking_number must be a string")
        with self._lock:
            self._faults.append(Fault(status=status, remaining=count, retry_after=retry_after, tracking_number=number))
        return Answer(201, {"status": status, "count": count, "retry_after": retry_after, "tracking_number": number})

    def requests(self, tracking_number: str | None) -> list[dict]:
        with self._lock:
            return [item for item in self._requests if tracking_number in (None, item["tracking_number"])]


# --- HTTP ------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server_version = "CarrierTrackingSandbox/1.0"
    server: StateServer
    _body = b""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def log_message(self, format: str, *args) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def _dispatch(self, method: str) -> None:
        carrier = self.server.state
        parts = urlsplit(self.path)
        try:
            # Read before any refusal: a socket closed with its body unread resets the connection.
            self._body = self._read_body() if method == "POST" else b""
            if parts.path.startswith("/v1/"):
                self._authenticate(carrier)
            answer = self._route(carrier, method, parts.path, parse_qs(parts.query))
        except ApiError as error:
            answer = Answer(error.status, {"error": error.message}, error.headers)
        except Exception:
            logger.exception("sandbox error on %s %s", method, self.path)
            answer = Answer(500, {"error": "internal error"})
        self._answer(answer)

    def _authenticate(self, carrier: SandboxCarrier) -> None:
        presented = self.headers.get("Authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {carrier.api_key}".encode()):
            raise ApiError(401, "invalid api key")

    def _route(self, carrier: SandboxCarrier, method: str, path: str, query: dict) -> Answer:
        def first(name: str) -> str:
            return query.get(name, [""])[0]

        routes = (
            ("GET", r"/health", lambda match: Answer(200, {"status": "ok"})),
            (
                "GET",
                r"/v1/shipments/(?P<number>[^/]+)/events",
                lambda match: carrier.events_page(
                    unquote(match["number"]), cursor=first("cursor"), limit_text=first("limit")
                ),
            ),
            ("POST", r"/_sandbox/shipments", lambda match: carrier.shipment_register(self._json())),
            (
                "POST",
                r"/_sandbox/shipments/(?P<number>[^/]+)/events",
                lambda match: carrier.events_append(unquote(match["number"]), self._json()),
            ),
            ("POST", r"/_sandbox/faults", lambda match: carrier.fault_add(self._json())),
            (
                "GET",
                r"/_sandbox/requests",
                lambda match: Answer(200, {"requests": carrier.requests(query.get("tracking_number", [None])[0])}),
            ),
        )
        path_known = False
        for route_method, pattern, handle in routes:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            if route_method == method:
                return handle(match)
            path_known = True
        raise ApiError(405, "method not allowed") if path_known else ApiError(404, "not found")

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise ApiError(400, "Content-Length must be a number")
        if int(length) > MAX_BODY_BYTES:
            raise ApiError(413, "request body too large")
        return self.rfile.read(int(length))

    def _json(self) -> dict:
        try:
            request = json.loads(self._body or b"null")
        except ValueError:
            raise ApiError(400, "request body must be JSON") from None
        if not isinstance(request, dict):
            raise ApiError(400, "request body must be a JSON object")
        return request

    def _answer(self, answer: Answer) -> None:
        body = json.dumps(answer.body, separators=(",", ":")).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting


def start_server(host: str = "127.0.0.1", port: int = 0, *, api_key: str) -> SandboxServer:
    """Serve the sandbox from a daemon thread; port 0 picks a free port (see .url)."""
    return serve(_Handler, SandboxCarrier(api_key=api_key), host=host, port=port, name="carrier-tracking-sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.carrier_tracking", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--api-key", default=os.environ.get("CARRIER_SANDBOX_API_KEY"), help="Bearer key of /v1/*")
    arguments = parser.parse_args(argv)
    if not arguments.api_key:
        parser.error("--api-key is required (or CARRIER_SANDBOX_API_KEY)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s carrier-sandbox %(message)s")

    server = start_server(arguments.host, arguments.port, api_key=arguments.api_key)
    logger.info("listening on %s; numbers it knows: %s", server.url, ", ".join(SEEDED_NUMBERS))
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda signum, frame: stop_requested.set())
    while not stop_requested.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
